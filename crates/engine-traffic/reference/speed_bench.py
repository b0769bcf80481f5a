#!/usr/bin/env python3
"""Wall time of the engine next to SUMO meso on the same files, in the same run.

For each case, runs `sumo --mesosim --meso-junction-control` and the engine
alternately, RUNS times each, and reports the median process wall time and
the median process CPU time (user + system of the child, the steadier measure
on a shared machine) for reading the inputs and simulating one hour. SUMO
writes no output. The engine is either `citybrain traffic run` (release
build; writes its report without per-vehicle records, `--no-vehicles`) or the
engine's `sumo_run` example (`--engine-example`; writes nothing, prints its
KPIs), which needs only the engine crate to build. Also records both tools'
vehicle-km (SUMO writes its `--statistic-output` and one whole-run
`--edgedata-output` interval for that, a few kB) and the load average before
and after each case, so cost can be plotted against vehicle-km.

Usage (from the workspace root; machine: 2 cores):

    cargo build --release -p engine-traffic --example sumo_run
    /tmp/sumo-venv/bin/python crates/engine-traffic/reference/synthetic_city.py /tmp/city
    /tmp/sumo-venv/bin/python crates/engine-traffic/reference/speed_bench.py \
        --engine-example target/release/examples/sumo_run --city /tmp/city [--runs 5]

(or `cargo build --release -p server` and `--citybrain target/release/citybrain`).

Writes `speed_bench.json` beside this script.
"""

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORKSPACE = HERE.parent.parent.parent
sys.path.insert(0, str(HERE))
from sumo_reference import SATURATED_FLOW, STEM, cityflow_to_rou, shared_data, sumo_version, tool  # noqa: E402


def timed(cmd):
    """Wall seconds, CPU seconds (user + system) and stdout of one process."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
    wall = time.perf_counter() - t
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return wall, cpu, out


def example_kpis(out):
    """Loaded vehicles and vehicle-km from the `sumo_run` example's line."""
    loaded = re.search(r"loaded (\d+)", out)
    vkt = re.search(r"vkt (\d+) km", out)
    return {"loaded_vehicles": int(loaded.group(1)), "vkt_km": float(vkt.group(1))}


def sumo_kpis(stats, edges):
    """SUMO meso's vehicle-km over the run (every vehicle, finished or not: the sum
    over edges of sampled seconds x mean speed, from `--edgedata-output`, one
    interval for the whole run) and its vehicle counts (`--statistic-output`)."""
    vkt_m = 0.0
    for e in ET.parse(edges).getroot().iter("edge"):
        if e.get("sampledSeconds") and e.get("speed"):
            vkt_m += float(e.get("sampledSeconds")) * float(e.get("speed"))
    veh = ET.parse(stats).getroot().find("vehicles")
    return {"vkt_km": vkt_m / 1000.0, **{k: int(veh.get(k)) for k in ("loaded", "inserted", "running", "waiting")}}


def main():
    ap = argparse.ArgumentParser()
    eng = ap.add_mutually_exclusive_group(required=True)
    eng.add_argument("--citybrain", help="the citybrain binary (release)")
    eng.add_argument("--engine-example", help="the engine's sumo_run example binary (release)")
    ap.add_argument("--baseline-example",
                    help="a sumo_run binary of an earlier commit, run in the same rotation (before/after)")
    ap.add_argument("--city", type=Path, help="folder written by synthetic_city.py")
    ap.add_argument("--congested-city", type=Path,
                    help="folder written by synthetic_city.py --lanes 1 (cases congested_25/50/100)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--only", default="", help="comma-separated case names")
    ap.add_argument("--out", type=Path, help="where to write the results (default: speed_bench.json here)")
    a = ap.parse_args()
    data = shared_data()
    work = Path(tempfile.mkdtemp(prefix="citybrain-speed-"))
    sat = work / "saturated.rou.xml"
    cityflow_to_rou(data / "cityflow" / SATURATED_FLOW, sat)
    net = data / "sumo" / f"{STEM}.net.xml"
    cases = [
        ("hangzhou_real", net, data / "sumo" / f"{STEM}.rou.xml"),
        ("hangzhou_saturated", net, sat),
    ]
    if a.city:
        for pct in (25, 50, 100):
            cases.append((f"synthetic_{pct}", a.city / "city.net.xml", a.city / f"city_{pct}.rou.xml"))
    if a.congested_city:
        for pct in (25, 50, 100):
            cases.append((f"congested_{pct}", a.congested_city / "city.net.xml",
                          a.congested_city / f"city_{pct}.rou.xml"))
    if a.only:
        cases = [c for c in cases if c[0] in a.only.split(",")]
    results = []
    for name, n, r in cases:
        report = work / f"{name}.json"
        sumo_cmd = [tool("sumo"), "-n", str(n), "-r", str(r), "-b", "0", "-e", "3600",
                    "--mesosim", "--meso-junction-control", "--no-step-log", "--no-warnings",
                    "--duration-log.disable", "--seed", "1",
                    "--statistic-output", str(work / "sumo_stats.xml"),
                    "--edgedata-output", str(work / "sumo_edges.xml")]
        if a.citybrain:
            ours_cmd = [a.citybrain, "traffic", "run", "--net", str(n), "--routes", str(r),
                        "--out", str(report), "--no-vehicles", "--seed", "1", "--horizon-s", "3600"]
        else:
            ours_cmd = [a.engine_example, str(n), str(r), "--seed", "1", "--horizon-s", "3600"]
        load_before = os.getloadavg()
        base_cmd = [a.baseline_example] + ours_cmd[1:] if a.baseline_example and a.engine_example else None
        sumo_t, ours_t, base_t = [], [], []
        for _ in range(a.runs):
            sumo_t.append(timed(sumo_cmd))
            ours_t.append(timed(ours_cmd))
            if base_cmd:
                base_t.append(timed(base_cmd))
        load_after = os.getloadavg()
        if a.citybrain:
            k = json.loads(report.read_text())["kpis"]
        else:
            k = example_kpis(ours_t[-1][2])
        sk = sumo_kpis(work / "sumo_stats.xml", work / "sumo_edges.xml")
        wall = lambda ts: sorted(x[0] for x in ts)  # noqa: E731
        cpu = lambda ts: sorted(x[1] for x in ts)  # noqa: E731
        row = {
            "case": name,
            "vehicles_loaded": k["loaded_vehicles"],
            "vkt_km": k["vkt_km"],
            "sumo": sk,
            "load_avg_1m_before_after": [load_before[0], load_after[0]],
            "sumo_meso_s": wall(sumo_t),
            "engine_s": wall(ours_t),
            "sumo_meso_cpu_s": cpu(sumo_t),
            "engine_cpu_s": cpu(ours_t),
            "sumo_meso_median_s": statistics.median(wall(sumo_t)),
            "engine_median_s": statistics.median(wall(ours_t)),
            "sumo_meso_median_cpu_s": statistics.median(cpu(sumo_t)),
            "engine_median_cpu_s": statistics.median(cpu(ours_t)),
        }
        if base_t:
            row["baseline_s"] = wall(base_t)
            row["baseline_cpu_s"] = cpu(base_t)
            row["baseline_median_s"] = statistics.median(wall(base_t))
            row["baseline_median_cpu_s"] = statistics.median(cpu(base_t))
            bk = example_kpis(base_t[-1][2])
            row["baseline_same_kpis"] = bk == example_kpis(ours_t[-1][2])
        row["ratio"] = row["engine_median_s"] / row["sumo_meso_median_s"]
        row["ratio_cpu"] = row["engine_median_cpu_s"] / row["sumo_meso_median_cpu_s"]
        row["engine_us_per_vkm"] = row["engine_median_s"] / k["vkt_km"] * 1e6
        row["sumo_meso_us_per_vkm"] = row["sumo_meso_median_s"] / max(sk["vkt_km"], 1e-9) * 1e6
        results.append(row)
        write(a, results)
        print(f"{name}: SUMO meso {row['sumo_meso_median_s']:.3f} s ({row['sumo_meso_median_cpu_s']:.2f} s cpu, "
              f"{sk['vkt_km']:.0f} veh-km), engine {row['engine_median_s']:.3f} s "
              f"({row['engine_median_cpu_s']:.2f} s cpu, {k['vkt_km']:.0f} veh-km), ratio {row['ratio']:.3f}, "
              f"{k['loaded_vehicles']} vehicles, load {load_before[0]:.1f} -> {load_after[0]:.1f}"
              + (f", baseline {row['baseline_median_s']:.3f} s ({row['baseline_median_cpu_s']:.2f} s cpu)"
                 if base_t else ""), flush=True)


def write(a, results):
    """Writes the results so far (after each case, so a long run keeps what it measured)."""
    out = {"sumo_version": sumo_version(), "runs": a.runs, "cpus": os.cpu_count(),
           "engine": "citybrain traffic run" if a.citybrain else "examples/sumo_run", "results": results}
    (a.out or HERE / "speed_bench.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
