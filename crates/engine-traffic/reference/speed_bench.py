#!/usr/bin/env python3
"""Wall time of the engine next to SUMO meso on the same files, in the same run.

For each case, runs `sumo --mesosim --meso-junction-control` and
`citybrain traffic run` (release build) alternately, RUNS times each, and
reports the median process wall time (reading the inputs, simulating one hour,
writing the output). SUMO writes no output; the engine writes its report
without per-vehicle records (`--no-vehicles`). Also records the engine's
vehicle-km so cost can be plotted against it.

Usage (from the workspace root; machine: 2 cores):

    cargo build --release -p server
    /tmp/sumo-venv/bin/python crates/engine-traffic/reference/synthetic_city.py /tmp/city
    /tmp/sumo-venv/bin/python crates/engine-traffic/reference/speed_bench.py \
        --citybrain target/release/citybrain --city /tmp/city [--runs 5]

Writes `speed_bench.json` beside this script.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORKSPACE = HERE.parent.parent.parent
sys.path.insert(0, str(HERE))
from sumo_reference import SATURATED_FLOW, STEM, cityflow_to_rou, shared_data, sumo_version, tool  # noqa: E402


def timed(cmd):
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--citybrain", required=True)
    ap.add_argument("--city", type=Path, help="folder written by synthetic_city.py")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--only", default="", help="comma-separated case names")
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
    if a.only:
        cases = [c for c in cases if c[0] in a.only.split(",")]
    results = []
    for name, n, r in cases:
        report = work / f"{name}.json"
        sumo_cmd = [tool("sumo"), "-n", str(n), "-r", str(r), "-b", "0", "-e", "3600",
                    "--mesosim", "--meso-junction-control", "--no-step-log", "--no-warnings",
                    "--duration-log.disable", "--seed", "1"]
        ours_cmd = [a.citybrain, "traffic", "run", "--net", str(n), "--routes", str(r),
                    "--out", str(report), "--no-vehicles", "--seed", "1", "--horizon-s", "3600"]
        sumo_t, ours_t = [], []
        for _ in range(a.runs):
            sumo_t.append(timed(sumo_cmd))
            ours_t.append(timed(ours_cmd))
        k = json.loads(report.read_text())["kpis"]
        row = {
            "case": name,
            "vehicles_loaded": k["loaded_vehicles"],
            "vkt_km": k["vkt_km"],
            "sumo_meso_s": sorted(sumo_t),
            "engine_s": sorted(ours_t),
            "sumo_meso_median_s": statistics.median(sumo_t),
            "engine_median_s": statistics.median(ours_t),
            "engine_wall_s_reported": k.get("wall_s"),
        }
        row["ratio"] = row["engine_median_s"] / row["sumo_meso_median_s"]
        results.append(row)
        print(f"{name}: SUMO meso {row['sumo_meso_median_s']:.3f} s, engine {row['engine_median_s']:.3f} s, "
              f"ratio {row['ratio']:.3f}, {k['loaded_vehicles']} vehicles, {k['vkt_km']:.0f} veh-km", flush=True)
    out = {"sumo_version": sumo_version(), "runs": a.runs, "cpus": os.cpu_count(), "results": results}
    (HERE / "speed_bench.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
