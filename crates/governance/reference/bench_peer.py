"""numpy/scipy/statsmodels peer of the governance benchmarks.

Times the same work as crates/governance/benches/governance.rs on the same
shapes: scoring 150 cities x N indicators (min-max or share normalisation,
equal-weight aggregation leaves -> 24 second-level blocks -> 6 pillars ->
composite), scoring H3 cells with a 10-indicator live profile, and the
report's statistics on a 150 x 6 matrix. Prints one line per case with the
median time per call over `repeat` timings and the element throughput, in
the units criterion reports.

Run: python3 -m venv .venv && .venv/bin/pip install numpy scipy statsmodels
     .venv/bin/python bench_peer.py
"""

import json
import statistics
import sys
import timeit

import numpy as np
import scipy.stats as st
import statsmodels.api as sm


def median_time(fn, repeat=15):
    # autorange picks `number` so one timing takes >= 0.2 s
    t = timeit.Timer(fn)
    number, _ = t.autorange()
    times = [x / number for x in t.repeat(repeat=repeat, number=number)]
    return statistics.median(times)


def lcg(n, state):
    out = np.empty(n)
    for i in range(n):
        state = (state * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        out[i] = (state >> 11) / float(1 << 53)
    return out, state


def score_cities(x, minmax_cols, share_cols, a2, a1):
    z = np.empty_like(x)
    xm = x[:, minmax_cols]
    lo, hi = xm.min(axis=0), xm.max(axis=0)
    z[:, minmax_cols] = (xm - lo) / (hi - lo)
    z[:, share_cols] = np.clip(x[:, share_cols], 0.0, 1.0)
    blocks = z @ a2          # cities x 24 second-level score rates
    pillars = blocks @ a1    # cities x 6
    return pillars.mean(axis=1)


def score_cities_drilldown(x, ids, minmax_cols, blocks_of_leaf, n_blocks):
    """Same output shape as the Rust scorer: per city, every leaf's normalised
    value and every block's score rate and coverage, plus the composite."""
    lo = x.min(axis=0)
    hi = x.max(axis=0)
    mm = set(int(c) for c in minmax_cols)
    out = []
    for row in x.tolist():
        leaves = {}
        sums = [0.0] * n_blocks
        ws = [0.0] * n_blocks
        for j, v in enumerate(row):
            if j in mm:
                z = (v - lo[j]) / (hi[j] - lo[j])
            else:
                z = min(max(v, 0.0), 1.0)
            leaves[ids[j]] = z
            b = blocks_of_leaf[j]
            sums[b] += z
            ws[b] += 1.0
        blocks = {"b%d" % b: {"rate": sums[b] / ws[b], "coverage": 1.0} for b in range(n_blocks)}
        pillars = [sum(blocks["b%d" % (p * 4 + k)]["rate"] for k in range(4)) / 4 for p in range(6)]
        out.append({"leaves": leaves, "blocks": blocks, "pillars": pillars,
                    "composite": sum(pillars) / 6})
    return out


def averaging(n_children, n_parents):
    a = np.zeros((n_children * n_parents, n_parents))
    for p in range(n_parents):
        a[p * n_children:(p + 1) * n_children, p] = 1.0 / n_children
    return a


def main():
    results = []
    state = 0x9E3779B97F4A7C15
    for per_block in (1, 4, 16):
        n = 24 * per_block
        vals, state = lcg(150 * n, state)
        x = vals.reshape(150, n)
        cols = np.arange(n)
        minmax_cols = cols[(cols % per_block) % 2 == 0]
        share_cols = cols[(cols % per_block) % 2 == 1]
        a2 = averaging(per_block, 24)
        a1 = averaging(4, 6)
        t = median_time(lambda: score_cities(x, minmax_cols, share_cols, a2, a1))
        results.append(("score_150_cities/indicators/%d (numpy, composite only)" % n, t, 150 * n))
        ids = ["i%d" % j for j in range(n)]
        blocks_of_leaf = [j // per_block for j in range(n)]
        t = median_time(lambda: score_cities_drilldown(x, ids, minmax_cols, blocks_of_leaf, 24), repeat=5)
        results.append(("score_150_cities/indicators/%d (python, drill-down)" % n, t, 150 * n))

    # H3 cells: 10 live ratio indicators (share or target normalised), 6 themes.
    for cells in (1000, 10000):
        vals, _ = lcg(cells * 10, 1)
        x = np.round(vals.reshape(cells, 10) * 100.0) / 100.0
        theme_of = np.array([0, 0, 1, 2, 3, 4, 4, 4, 5, 5])
        w = np.zeros((10, 6))
        for j, th in enumerate(theme_of):
            w[j, th] = 1.0
        w /= w.sum(axis=0)

        def cells_fn():
            z = np.clip(x, 0.0, 1.0)
            z[:, 1] = np.clip(x[:, 1] / 0.3, 0.0, 1.0)
            return (z @ w).mean(axis=1)

        t = median_time(cells_fn)
        results.append(("score_h3_cells/cells/%d (numpy, composite only)" % cells, t, cells))

    state = 7
    vals, state = lcg(6 * 150, state)
    cols = vals.reshape(6, 150)
    noise, state = lcg(150, state)
    y = cols.sum(axis=0) + noise

    def corr():
        acc = 0.0
        for i in range(6):
            for j in range(i + 1, 6):
                acc += st.pearsonr(cols[i], cols[j])[1] + st.spearmanr(cols[i], cols[j])[1]
        return acc

    results.append(("stats_150x6/pearson_spearman_matrix_with_p", median_time(corr), 15))
    xmat = sm.add_constant(cols.T)
    results.append(("stats_150x6/ols_6_regressors", median_time(lambda: sm.OLS(y, xmat).fit()), 150))

    def ols_numpy():
        return np.linalg.lstsq(xmat, y, rcond=None)

    results.append(("stats_150x6/ols_6_regressors_numpy_lstsq_no_inference", median_time(ols_numpy), 150))
    rows = cols.T.copy()

    def entropy():
        p = rows / rows.sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            plogp = np.where(p > 0, p * np.log(p), 0.0)
        e = -plogp.sum(axis=0) / np.log(rows.shape[0])
        return (1 - e) / (1 - e).sum()

    results.append(("stats_150x6/entropy_weights", median_time(entropy), 150))

    print(json.dumps({"python": sys.version.split()[0], "numpy": np.__version__,
                      "scipy": st.__name__ and __import__("scipy").__version__,
                      "statsmodels": sm.__version__ if hasattr(sm, "__version__") else __import__("statsmodels").__version__}))
    for name, t, elems in results:
        print("%-72s median %11.3f us  %9.3f Melem/s" % (name, t * 1e6, elems / t / 1e6))


if __name__ == "__main__":
    main()
