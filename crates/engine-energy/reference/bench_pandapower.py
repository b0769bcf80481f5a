"""pandapower timings for the same networks the Rust benchmark uses.

- one power flow: CIGRE LV (pandapower's own builder) and the seeded
  synthetic feeders written by `citybrain energy synth` (loaded from their CSV
  tables, so both tools solve the same network);
- a time-series loop (set every load and PV value, runpp) over a sample of
  15-minute steps with the same default shapes as the Rust side, extrapolated
  to a year (35,040 steps). pandapower's `run_timeseries` with controllers
  adds overhead on top of this loop, so the extrapolation favours pandapower.

Options as in the shared reference: NR, flat start (DC start where flat does
not converge), tolerance 1e-10 MVA, calculate_voltage_angles, trafo_model t.

Usage: python bench_pandapower.py --synth DIR[,DIR...] --out results.json
"""
import argparse
import json
import math
import pathlib
import statistics
import time
import warnings

import pandas as pd
import pandapower as pp
import pandapower.networks as pn

warnings.simplefilter("ignore")


def load_csv_net(d):
    d = pathlib.Path(d)
    net = pp.create_empty_network(sn_mva=1.0)
    bus = pd.read_csv(d / "bus.csv", index_col="index")
    for i, r in bus.iterrows():
        pp.create_bus(net, r.vn_kv, index=i, name=r["name"])
    for i, r in pd.read_csv(d / "line.csv", index_col="index").iterrows():
        pp.create_line_from_parameters(net, r.from_bus, r.to_bus, r.length_km, r.r_ohm_per_km,
                                       r.x_ohm_per_km, r.c_nf_per_km, r.max_i_ka, index=i,
                                       g_us_per_km=r.g_us_per_km, parallel=r.parallel, df=r.df)
    for i, r in pd.read_csv(d / "trafo.csv", index_col="index").iterrows():
        pp.create_transformer_from_parameters(net, r.hv_bus, r.lv_bus, r.sn_mva, r.vn_hv_kv,
                                              r.vn_lv_kv, r.vkr_percent, r.vk_percent, r.pfe_kw,
                                              r.i0_percent, shift_degree=r.shift_degree, index=i)
    for i, r in pd.read_csv(d / "load.csv", index_col="index").iterrows():
        pp.create_load(net, r.bus, r.p_mw, r.q_mvar, index=i)
    sgen = pd.read_csv(d / "sgen.csv", index_col="index")
    for i, r in sgen.iterrows():
        pp.create_sgen(net, r.bus, r.p_mw, r.q_mvar, sn_mva=r.sn_mva, index=i)
    for i, r in pd.read_csv(d / "ext_grid.csv", index_col="index").iterrows():
        pp.create_ext_grid(net, r.bus, vm_pu=r.vm_pu, va_degree=r.va_degree, index=i)
    return net


def load_shape(k):
    h, day = (k % 96) * 0.25 + 0.125, k // 96
    g = lambda mu, s: math.exp(-((h - mu) / s) ** 2)
    daily = 0.35 + 0.25 * g(7.5, 1.5) + 0.6 * g(19.0, 2.0)
    season = 1.0 + 0.15 * math.cos(2 * math.pi * (day - 14.0) / 365.0)
    return daily / 0.95 * season / 1.15


def pv_shape(k):
    h, day = (k % 96) * 0.25 + 0.125, k // 96
    s = max(math.sin(math.pi * (h - 6.0) / 12.0), 0.0)
    return 0.75 * s * (1.0 - 0.25 * math.cos(2 * math.pi * (day - 172.0) / 365.0))


OPTS = dict(algorithm="nr", calculate_voltage_angles=True, tolerance_mva=1e-10,
            max_iteration=30, trafo_model="t")


def runpp(net):
    try:
        pp.runpp(net, init="flat", **OPTS)
        return "flat"
    except pp.LoadflowNotConverged:
        pp.runpp(net, init="dc", **OPTS)
        return "dc"


def time_pf(net, repeats):
    init = runpp(net)  # warm-up (and numba compilation)
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        pp.runpp(net, init=init, **OPTS)
        ts.append(time.perf_counter() - t0)
    return init, statistics.median(ts) * 1e3


def time_series(net, steps):
    p0, q0 = net.load.p_mw.values.copy(), net.load.q_mvar.values.copy()
    s0 = (net.sgen.sn_mva.fillna(net.sgen.p_mw).values.copy() if len(net.sgen) else None)
    init = runpp(net)
    ts = []
    for k in range(steps):
        t0 = time.perf_counter()
        ls = load_shape(k)
        net.load.p_mw = p0 * ls
        net.load.q_mvar = q0 * ls
        if s0 is not None:
            net.sgen.p_mw = s0 * pv_shape(k)
        pp.runpp(net, init=init, **OPTS)
        ts.append(time.perf_counter() - t0)
    per = statistics.median(ts)
    return per * 1e3, per * 35040


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--synth", default="")
    ap.add_argument("--out", required=True)
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--steps", type=int, default=96)
    a = ap.parse_args()
    try:
        import numba  # noqa: F401
        numba_on = True
    except ImportError:
        numba_on = False
    out = {"pandapower": pp.__version__, "numba": numba_on, "nets": {}}
    nets = {"cigre_lv": pn.create_cigre_network_lv()}
    for d in filter(None, a.synth.split(",")):
        nets[pathlib.Path(d).name] = load_csv_net(d)
    for name, net in nets.items():
        init, ms = time_pf(net, a.repeats)
        step_ms, year_s = time_series(net, a.steps)
        out["nets"][name] = {"n_bus": len(net.bus), "init": init, "runpp_median_ms": ms,
                             "series_step_median_ms": step_ms, "series_steps_sampled": a.steps,
                             "year_extrapolated_s": year_s}
        print(name, json.dumps(out["nets"][name]), flush=True)
    pathlib.Path(a.out).write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
