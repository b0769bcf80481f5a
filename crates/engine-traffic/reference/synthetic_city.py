#!/usr/bin/env python3
"""A seeded synthetic city for the speed benchmark, written as SUMO files so
that SUMO meso and the engine run the same input.

- network: `netgenerate` grid of N x N signalised junctions (default 40 x 40 =
  1,600 traffic lights), 200 m blocks, 2 lanes per direction, 50 km/h,
  boundary stubs so trips can start and end at the edge;
- demand: `--vehicles` trips per hour (default 300,000) between random edges
  at most `--radius` blocks apart in each axis (urban trip lengths), departing
  uniformly over the hour, from `random.Random(seed)`; routed once with
  `duarouter` (free-flow shortest paths) into explicit routes; plus thinned
  copies (every 4th and every 2nd vehicle) for the cost-versus-vehicle-km line.

With `--lanes 1` the same grid has half the capacity, and the same demand
congests it (vehicles wait to enter, queues spill back): the congested case of
the cost-versus-vehicle-km line.

Usage: /tmp/sumo-venv/bin/python synthetic_city.py OUT_DIR [--n 40] [--vehicles 300000] [--lanes 2]
"""

import argparse
import random
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def tool(name):
    p = Path(sys.executable).parent / name
    return str(p) if p.exists() else name


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--vehicles", type=int, default=300_000)
    ap.add_argument("--radius", type=int, default=8)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--lanes", type=int, default=2, help="lanes per direction (1: a congested city)")
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    net = a.out / "city.net.xml"
    subprocess.run([tool("netgenerate"), "--grid", "--grid.number", str(a.n), "--grid.length", "200",
                    "--grid.attach-length", "200", "-L", str(a.lanes), "-S", "13.89", "-j", "traffic_light",
                    "--no-turnarounds", "true", "--no-warnings", "--seed", str(a.seed), "-o", str(net)], check=True)
    root = ET.parse(net).getroot()
    edges = [e for e in root.iter("edge") if e.get("function") != "internal"]
    tls = sum(1 for _ in root.iter("tlLogic"))
    # grid coordinates of an edge: its start node's position in blocks
    def pos(e):
        lane = e.find("lane")
        x, y = lane.get("shape").split()[0].split(",")
        return float(x) / 200.0, float(y) / 200.0
    # boundary stubs end in dead ends (no U-turns): never start on a stub that
    # leads out, never end on a stub that leads in, so every trip is routable
    fringe = {j.get("id") for j in root.iter("junction") if j.get("type") == "dead_end"}
    origins = [(e.get("id"), pos(e)) for e in edges if e.get("to") not in fringe]
    dests = [(e.get("id"), pos(e)) for e in edges if e.get("from") not in fringe]
    rng = random.Random(a.seed)
    trips = []
    for i in range(a.vehicles):
        o, (ox, oy) = origins[rng.randrange(len(origins))]
        while True:
            d, (dx, dy) = dests[rng.randrange(len(dests))]
            if d != o and abs(dx - ox) <= a.radius and abs(dy - oy) <= a.radius:
                break
        trips.append((rng.random() * 3600.0, i, o, d))
    trips.sort()
    tf = a.out / "trips.xml"
    with tf.open("w") as f:
        f.write("<routes>\n")
        for t, i, o, d in trips:
            f.write(f'  <trip id="t{i}" depart="{t:.2f}" from="{o}" to="{d}"/>\n')
        f.write("</routes>\n")
    full = a.out / "city_100.rou.xml"
    subprocess.run([tool("duarouter"), "-n", str(net), "--route-files", str(tf), "-o", str(full),
                    "--ignore-errors", "--no-warnings", "--no-step-log", "--write-trips", "false",
                    "--routing-threads", "2"], check=True)
    n_routed = thin(full, a.out)
    print(f"{a.out}: {tls} traffic lights, {len(edges)} edges, {n_routed} routed vehicles")


def thin(full: Path, out_dir: Path) -> int:
    """Writes city_25 (every 4th vehicle) and city_50 (every 2nd) from city_100."""
    lines = full.read_text().splitlines()
    veh = [i for i, l in enumerate(lines) if l.strip().startswith("<vehicle")]
    starts = set(veh)
    for pct, step in ((25, 4), (50, 2)):
        keep = set(veh[::step])
        out, skip = [], False
        for i, l in enumerate(lines):
            if i in starts:
                skip = i not in keep
            if not skip:
                out.append(l)
            if l.strip().startswith("</vehicle>"):
                skip = False
        (out_dir / f"city_{pct}.rou.xml").write_text("\n".join(out) + "\n")
    return len(veh)


if __name__ == "__main__":
    main()
