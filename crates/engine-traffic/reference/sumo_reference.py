#!/usr/bin/env python3
"""SUMO reference runs for the traffic engine's acceptance tests.

Runs SUMO micro (5 seeds) and SUMO meso (`--meso-junction-control`, 5 seeds) on the
Hangzhou 4x4 benchmark (real 2983-vehicle demand and the saturated 6984-vehicle
variant), plus SUMO micro on the what-if edits of the acceptance list, and writes
the KPIs to `sumo_reference.json` beside this script. CI compares against that
JSON and never runs SUMO.

Usage (from the workspace root):

    python3 -m venv /tmp/sumo-venv && /tmp/sumo-venv/bin/pip install eclipse-sumo==1.28.0
    /tmp/sumo-venv/bin/python crates/engine-traffic/reference/sumo_reference.py

The data folder defaults to ../shared/data next to the workspace (as the tests
resolve it) and can be set with CITYBRAIN_SHARED_DATA. Scratch files go to a
temporary folder; nothing from the data set is written into the repository.

KPI definitions (the same as the engine's report, docs/specs/traffic-report.md):
- travel time of a loaded vehicle = (arrival, or the horizon if unfinished) minus its
  scheduled departure (so insertion delay counts; never-inserted vehicles count
  horizon - scheduled departure);
- delay = SUMO timeLoss + departDelay (time lost against the vehicle's desired speed,
  plus the time spent waiting for insertion);
- link count = vehicles that entered or departed on the edge during the hour.
"""

import concurrent.futures as cf
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORKSPACE = HERE.parent.parent.parent
HORIZON_S = 3600
SEEDS = [1, 2, 3, 4, 5]
STEM = "hangzhou_4x4_gudang_18041610_1h"
SATURATED_FLOW = "anon_4_4_hangzhou_real_5816.json"


def shared_data() -> Path:
    root = os.environ.get("CITYBRAIN_SHARED_DATA")
    base = Path(root) if root else WORKSPACE.parent / "shared" / "data"
    return base / "traffic" / "hangzhou_4x4"


def tool(name: str) -> str:
    """A SUMO binary from the same environment as this interpreter."""
    cand = Path(sys.executable).parent / name
    found = str(cand) if cand.exists() else shutil.which(name)
    if not found:
        sys.exit(f"{name} not found: pip install eclipse-sumo==1.28.0 in this venv")
    return found


def sumo_version() -> str:
    out = subprocess.run([tool("sumo"), "--version"], capture_output=True, text=True).stdout
    m = re.search(r"Version (\S+)", out)
    return m.group(1) if m else "unknown"


def cityflow_to_rou(flow_json: Path, out: Path) -> int:
    """Writes a CityFlow flow file as a SUMO route file with the ids and routes that
    LibSignal's converter gives (vehicle i = flow entry i, departing at startTime)."""
    flows = json.loads(flow_json.read_text())
    vehicles = []
    for i, f in enumerate(flows):
        t, k = f["startTime"], 0
        while t <= f["endTime"]:
            vid = str(i) if f["startTime"] == f["endTime"] else f"{i}_{k}"
            vehicles.append((t, len(vehicles), vid, " ".join(f["route"])))
            k += 1
            t = f["startTime"] + k * f["interval"]
    vehicles.sort()  # SUMO needs route files sorted by departure
    lines = ["<routes>"]
    for t, _, vid, edges in vehicles:
        lines.append(f'  <vehicle id="{vid}" depart="{t}"><route edges="{edges}"/></vehicle>')
    lines.append("</routes>")
    out.write_text("\n".join(lines) + "\n")
    return len(vehicles)


def read_routes(rou: Path):
    """[(id, depart, [edges])] in file order."""
    out = []
    for v in ET.parse(rou).getroot().iter("vehicle"):
        r = v.find("route")
        out.append((v.get("id"), float(v.get("depart")), r.get("edges").split()))
    return out


def kpis(tripinfo: Path, edgedata: Path, exclude=("blocker",)):
    """KPIs from one run's tripinfo (with unfinished and undeparted records)."""
    tt, tt_done, delay, vkt = [], [], [], 0.0
    completed = 0
    for t in ET.parse(tripinfo).getroot().iter("tripinfo"):
        if t.get("id") in exclude:
            continue
        dd = float(t.get("departDelay"))
        if float(t.get("depart")) < 0:  # never inserted: departDelay = horizon - scheduled
            tt.append(dd)
            delay.append(dd)
            continue
        sched = float(t.get("depart")) - dd
        arr = float(t.get("arrival"))
        vkt += float(t.get("routeLength")) / 1000.0
        if arr >= 0:
            completed += 1
            tt.append(arr - sched)
            tt_done.append(arr - sched)
        else:
            tt.append(HORIZON_S - sched)
        delay.append(float(t.get("timeLoss")) + dd)
    counts = {}
    for iv in ET.parse(edgedata).getroot().iter("interval"):
        for e in iv.iter("edge"):
            eid = e.get("id")
            if eid.startswith(":"):
                continue
            c = float(e.get("entered", 0)) + float(e.get("departed", 0))
            counts[eid] = counts.get(eid, 0.0) + c
    loaded = len(tt)
    return {
        "loaded": loaded,
        "completed_trips": completed,
        "unserved": loaded - completed,
        "avg_travel_time_s": sum(tt) / loaded,
        "avg_travel_time_completed_s": sum(tt_done) / max(1, len(tt_done)),
        "mean_delay_s": sum(delay) / loaded,
        "vkt_km": vkt,
    }, counts


def run_sumo(work: Path, tag: str, net: Path, rou: Path, seed: int, meso: bool, extra=()):
    ti = work / f"{tag}_ti.xml"
    ed = work / f"{tag}_ed.xml"
    add = work / f"{tag}_edgedata.add.xml"
    add.write_text(f'<additional><edgeData id="h" period="{HORIZON_S}" file="{ed.name}"/></additional>\n')
    adds = [str(add)]
    extra = list(extra)
    if "--additional-files" in extra:
        i = extra.index("--additional-files")
        adds.append(extra[i + 1])
        del extra[i : i + 2]
    cmd = [
        tool("sumo"), "-n", str(net), "-r", str(rou), "-a", ",".join(adds),
        "-b", "0", "-e", str(HORIZON_S), "--seed", str(seed),
        "--tripinfo-output", str(ti),
        "--tripinfo-output.write-unfinished", "--tripinfo-output.write-undeparted",
        "--no-step-log", "--no-warnings", "--duration-log.disable",
    ]
    if meso:
        cmd += ["--mesosim", "--meso-junction-control"]
    cmd += extra
    subprocess.run(cmd, check=True, cwd=work, stdout=subprocess.DEVNULL)
    return kpis(ti, ed)


def summarise(results):
    runs = [k for k, _ in results]
    keys = runs[0].keys()
    mean = {k: statistics.fmean(r[k] for r in runs) for k in keys}
    sd = {k: statistics.pstdev(r[k] for r in runs) for k in keys}
    edges = sorted({e for _, c in results for e in c})
    counts = {e: statistics.fmean(c.get(e, 0.0) for _, c in results) for e in edges}
    return {"seeds": SEEDS, "runs": runs, "mean": mean, "stdev": sd, "link_counts_mean": counts}


def closure_net(net: Path, closed, out: Path):
    """A copy of the net where every lane of the closed edges disallows all vehicles."""
    text = net.read_text()
    for e in closed:
        text = re.sub(rf'(<lane id="{re.escape(e)}_\d+" index="\d+")', r'\1 disallow="all"', text)
    out.write_text(text)


def closure_routes(work: Path, net: Path, routes, closed, out: Path) -> int:
    """Re-routes (duarouter, free-flow times) only the vehicles whose route uses a
    closed edge; keeps every other route. Vehicles that start or end on a closed
    edge cannot be routed and are dropped (the engine reports them as unroutable)."""
    trips = work / "closure_trips.xml"
    hit = [(v, d, r) for v, d, r in routes if set(r) & set(closed)]
    lines = ["<routes>"]
    for v, d, r in hit:
        if r[0] in closed or r[-1] in closed:
            continue
        lines.append(f'  <trip id="{v}" depart="{d}" from="{r[0]}" to="{r[-1]}"/>')
    lines.append("</routes>")
    trips.write_text("\n".join(lines) + "\n")
    routed = work / "closure_routed.rou.xml"
    subprocess.run([tool("duarouter"), "-n", str(net), "--route-files", str(trips), "-o", str(routed),
                    "--ignore-errors", "--no-warnings", "--no-step-log", "--write-trips", "false"],
                   check=True, stdout=subprocess.DEVNULL)
    new = {v.get("id"): v.find("route").get("edges") for v in ET.parse(routed).getroot().iter("vehicle")}
    hit_ids = {v for v, _, _ in hit}
    lines = ["<routes>"]
    dropped = 0
    for v, d, r in routes:
        if v in hit_ids:
            if v not in new:
                dropped += 1
                continue
            edges = new[v]
        else:
            edges = " ".join(r)
        lines.append(f'  <vehicle id="{v}" depart="{d}"><route edges="{edges}"/></vehicle>')
    lines.append("</routes>")
    out.write_text("\n".join(lines) + "\n")
    return dropped


def signal_add(net: Path, tls: str, phases, green_s: int, out: Path):
    """An additional file with a new program for `tls` in which the given phase
    indices last `green_s` seconds; SUMO activates the last loaded program."""
    root = ET.parse(net).getroot()
    logic = next(t for t in root.iter("tlLogic") if t.get("id") == tls)
    lines = [f'<additional><tlLogic id="{tls}" type="static" programID="whatif" offset="{logic.get("offset")}">']
    for i, p in enumerate(logic.iter("phase")):
        dur = green_s if i in phases else int(float(p.get("duration")))
        lines.append(f'  <phase duration="{dur}" state="{p.get("state")}"/>')
    lines.append("</tlLogic></additional>")
    out.write_text("\n".join(lines) + "\n")


def blocker_add(edge: str, lane: int, pos: float, begin: int, end: int, next_edge: str, out: Path):
    """An incident: a vehicle stopped on one lane from `begin` to `end` (it is
    excluded from the KPIs)."""
    out.write_text(
        "<additional>\n"
        f'  <vehicle id="blocker" depart="{begin}" departLane="{lane}" departPos="{pos}" departSpeed="0">\n'
        f'    <route edges="{edge} {next_edge}"/>\n'
        f'    <stop lane="{edge}_{lane}" endPos="{pos + 5}" until="{end}"/>\n'
        "  </vehicle>\n</additional>\n"
    )


# The what-if edits of acceptance 3 (the engine's scenario files say the same).
CLOSED = ["road_2_2_0", "road_3_2_2"]
SIGNAL_TLS, SIGNAL_PHASES, SIGNAL_GREEN_S = "intersection_2_2", [0, 2], 45
BLOCK = {"edge": "road_1_2_0", "lane": 1, "pos": 380.0, "begin": 900, "end": 1800, "next": "road_2_2_0"}
DEMAND_SCALE = 1.2


def main():
    data = shared_data()
    if not data.exists():
        sys.exit(f"data folder {data} not found (set CITYBRAIN_SHARED_DATA)")
    net = data / "sumo" / f"{STEM}.net.xml"
    real_rou = data / "sumo" / f"{STEM}.rou.xml"
    work = Path(tempfile.mkdtemp(prefix="citybrain-sumo-"))
    sat_rou = work / "saturated.rou.xml"
    n_sat = cityflow_to_rou(data / "cityflow" / SATURATED_FLOW, sat_rou)
    real_routes = read_routes(real_rou)

    closed_net = work / "closure.net.xml"
    closure_net(net, CLOSED, closed_net)
    closed_rou = work / "closure.rou.xml"
    dropped = closure_routes(work, closed_net, real_routes, CLOSED, closed_rou)
    sig = work / "signal.add.xml"
    signal_add(net, SIGNAL_TLS, SIGNAL_PHASES, SIGNAL_GREEN_S, sig)
    blk = work / "blocker.add.xml"
    blocker_add(BLOCK["edge"], BLOCK["lane"], BLOCK["pos"], BLOCK["begin"], BLOCK["end"], BLOCK["next"], blk)

    jobs = {}
    with cf.ThreadPoolExecutor(max_workers=int(os.environ.get("JOBS", "2"))) as pool:
        for seed in SEEDS:
            for case, rou in (("real", real_rou), ("saturated", sat_rou)):
                for meso in (False, True):
                    tag = f"{case}_{'meso' if meso else 'micro'}_{seed}"
                    jobs[tag] = pool.submit(run_sumo, work, tag, net, rou, seed, meso)
            jobs[f"closure_{seed}"] = pool.submit(run_sumo, work, f"closure_{seed}", closed_net, closed_rou, seed, False)
            jobs[f"signal_{seed}"] = pool.submit(run_sumo, work, f"signal_{seed}", net, real_rou, seed, False, ["--additional-files", str(sig)])
            jobs[f"lane_block_{seed}"] = pool.submit(run_sumo, work, f"lane_block_{seed}", net, real_rou, seed, False, ["--additional-files", str(blk)])
            # --scale duplicates vehicles at random: KPIs over all vehicles SUMO loaded
            jobs[f"demand_{seed}"] = pool.submit(run_sumo, work, f"demand_{seed}", net, real_rou, seed, False, ["--scale", str(DEMAND_SCALE)])
        res = {k: f.result() for k, f in jobs.items()}

    def group(prefix):
        return summarise([res[f"{prefix}_{s}"] for s in SEEDS])

    out = {
        "generator": "crates/engine-traffic/reference/sumo_reference.py",
        "sumo_version": sumo_version(),
        "horizon_s": HORIZON_S,
        "data": "traffic/hangzhou_4x4 (shared data; SUMO net and routes, CityFlow flow for the saturated case)",
        "cases": {
            "real": {
                "routes": f"sumo/{STEM}.rou.xml", "vehicles": len(real_routes),
                "micro": group("real_micro"), "meso": group("real_meso"),
            },
            "saturated": {
                "routes": f"cityflow/{SATURATED_FLOW} (converted to SUMO routes, vehicle i = flow entry i)",
                "vehicles": n_sat,
                "micro": group("saturated_micro"), "meso": group("saturated_meso"),
            },
        },
        "whatif": {
            "closure": {"edit": f"close {', '.join(CLOSED)} for the whole hour; affected vehicles re-routed with duarouter (free-flow times)",
                        "dropped_unroutable": dropped, "micro": group("closure")},
            "signal": {"edit": f"phases {SIGNAL_PHASES} of {SIGNAL_TLS} from 30 s to {SIGNAL_GREEN_S} s", "micro": group("signal")},
            "lane_block": {"edit": f"a stopped vehicle blocks lane {BLOCK['lane']} of {BLOCK['edge']} at {BLOCK['pos']} m from {BLOCK['begin']} s to {BLOCK['end']} s", "micro": group("lane_block")},
            "demand": {"edit": f"demand x{DEMAND_SCALE} (sumo --scale)", "micro": group("demand")},
        },
    }
    for g in out["whatif"].values():
        g["micro"].pop("link_counts_mean")
    (HERE / "sumo_reference.json").write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(f"wrote {HERE / 'sumo_reference.json'} (scratch in {work})")


if __name__ == "__main__":
    main()
