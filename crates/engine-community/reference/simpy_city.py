"""SimPy peer of the community engine's event-handling model.

Reads the same CitySpec JSON as `citybrain community simulate` (the subset
without shift changes, replayed events or variants), runs it with SimPy and
prints a JSON line with jobs, events and wall time, plus city-wide KPIs to
compare with the engine's report.

    python3 -m venv .venv && .venv/bin/pip install simpy==4.1.2
    .venv/bin/python simpy_city.py city_year.json
    .venv/bin/python simpy_city.py --make-spec 200 365 > city_year.json
    .venv/bin/python simpy_city.py --mmc 1.6667 0.5 4 200000   # M/M/c, jobs/s

Times are in hours. The model: for every (community, type) stream, a
non-homogeneous Poisson process with hourly piecewise-constant rates (sampled
by inverting the cumulative rate, as the engine does); each arrival waits the
dispatch delay, requests its team (a PriorityResource: non-preemptive priority,
FIFO within a class), holds a worker for its handling time, and closes after
the verification delay.
"""

import json
import math
import random
import statistics
import sys
import time

import simpy

CHANNELS_PROACTIVE = {"iot_alarm", "patrol"}
CLASS = {"P1": 0, "P2": 1, "P3": 2, "P4": 3}


def make_spec(n_communities, days, seed=2026):
    """The benchmark city: n communities x 50 events/day over four types."""
    day_shape = [1.5 if 8 <= h % 24 < 22 else 0.5 for h in range(168)]
    communities = [f"C{i:03d}" for i in range(n_communities)]
    kinds = [
        {"name": "environment", "priority": "P3", "sla_h": 72.0,
         "service": {"exponential": {"mean_h": 0.5}},
         "dispatch": {"fixed": {"h": 0.1}}, "verify": {"fixed": {"h": 1.0}},
         "channels": {"citizen_call": 0.5, "app": 0.3, "patrol": 0.2}},
        {"name": "facility", "priority": "P3", "sla_h": 48.0,
         "service": {"lognormal": {"mean_h": 1.0, "sd_h": 0.5}},
         "dispatch": {"fixed": {"h": 0.1}}, "verify": {"fixed": {"h": 1.0}},
         "channels": {"citizen_call": 0.4, "app": 0.4, "iot_alarm": 0.2}},
        {"name": "safety", "priority": "P2", "sla_h": 8.0,
         "service": {"exponential": {"mean_h": 0.75}},
         "dispatch": {"fixed": {"h": 0.05}}, "verify": {"fixed": {"h": 0.5}},
         "channels": {"citizen_call": 0.7, "patrol": 0.3}},
        {"name": "alarm", "priority": "P1", "sla_h": 2.0,
         "service": {"exponential": {"mean_h": 0.25}},
         "channels": {"iot_alarm": 1.0}},
    ]
    per_day = {"environment": 20.0, "facility": 15.0, "safety": 10.0, "alarm": 5.0}
    teams = [{"name": f"grid-{c}", "community": c, "kinds": [k["name"] for k in kinds],
              "shifts": {"constant": 2}} for c in communities]
    arrivals = [{"community": c, "kind": k, "per_day": v, "profile": "day"}
                for c in communities for k, v in per_day.items()]
    return {"seed": seed, "horizon_h": 24 * days, "start_hour_of_week": 0,
            "communities": communities, "profiles": {"day": day_shape},
            "kinds": kinds, "teams": teams, "arrivals": arrivals}


def sampler(dist, rng):
    if dist is None:
        return lambda: 0.0
    (name, p), = dist.items()
    if name == "fixed":
        return lambda: p["h"]
    if name == "exponential":
        m = p["mean_h"]
        return lambda: rng.expovariate(1.0 / m)
    if name == "lognormal":
        s2 = math.log(1.0 + (p["sd_h"] / p["mean_h"]) ** 2)
        mu, sigma = math.log(p["mean_h"]) - s2 / 2.0, math.sqrt(s2)
        return lambda: rng.lognormvariate(mu, sigma)
    if name == "empirical":
        v = p["h"]
        return lambda: v[rng.randrange(len(v))]
    raise ValueError(f"unknown distribution {name}")


def run_city(spec):
    rng = random.Random(spec["seed"])
    env = simpy.Environment()
    horizon = float(spec["horizon_h"])
    start_how = spec.get("start_hour_of_week", 0)
    profiles = {}
    for name, p in spec.get("profiles", {}).items():
        m = sum(p) / len(p)
        profiles[name] = [x / m for x in p] if m > 0 else p
    kinds = {}
    for k in spec["kinds"]:
        ch = k.get("channels") or {"citizen_call": 1.0}
        total = sum(ch.values())
        acc, cum = 0.0, []
        for name in sorted(ch):  # the engine orders channels by enum order; shares are what matter
            acc += ch[name] / total
            cum.append((acc, name))
        kinds[k["name"]] = {
            "class": CLASS[k["priority"]],
            "sla": k.get("sla_h"),
            "service": sampler(k["service"], rng),
            "dispatch": sampler(k.get("dispatch"), rng),
            "verify": sampler(k.get("verify"), rng),
            "channels": cum,
        }
    teams, route_local, route_city = {}, {}, {}
    for t in spec["teams"]:
        (kind, value), = t["shifts"].items()
        if kind != "constant":
            raise ValueError("the SimPy peer supports constant shift calendars only")
        teams[t["name"]] = simpy.PriorityResource(env, capacity=value)
        for k in t["kinds"]:
            if t.get("community"):
                route_local[(t["community"], k)] = t["name"]
            else:
                route_city[k] = t["name"]
    records = []

    def job(kind, team):
        reported = env.now
        channel_u = rng.random()
        channel = next((n for c, n in kind["channels"] if channel_u < c), kind["channels"][-1][1])
        service = kind["service"]()
        dispatch = kind["dispatch"]()
        verify = kind["verify"]()
        if dispatch > 0:
            yield env.timeout(dispatch)
        with team.request(priority=kind["class"]) as req:
            yield req
            started = env.now
            yield env.timeout(service)
        resolved = env.now
        records.append((reported, started, resolved, resolved + verify, kind["sla"], channel))

    def stream(rates, kind, team):
        t = 0.0
        while True:
            e = rng.expovariate(1.0)
            while True:
                if t >= horizon:
                    return
                h = int(t)
                r = rates[(h + start_how) % 168]
                room = (h + 1 - t) * r
                if r > 0 and e <= room:
                    t += e / r
                    break
                e -= max(room, 0.0)
                t = float(h + 1)
            if t >= horizon:
                return
            yield env.timeout(t - env.now)
            env.process(job(kind, team))

    for a in spec.get("arrivals", []):
        if a.get("hourly") is not None:
            rates = a["hourly"]
        else:
            shape = profiles[a["profile"]] if a.get("profile") else [1.0] * 168
            rates = [x * a["per_day"] / 24.0 for x in shape]
        team = route_local.get((a["community"], a["kind"])) or route_city[a["kind"]]
        env.process(stream(rates, kinds[a["kind"]], teams[team]))

    t0 = time.perf_counter()
    env.run(until=horizon)
    wall = time.perf_counter() - t0
    events = next(env._eid)  # events scheduled by SimPy
    jobs = len(records)  # jobs resolved within the horizon
    closed = [r for r in records if r[3] <= horizon]
    with_due = [r for r in records if r[4] is not None]
    on_time = [r for r in closed if r[4] is not None and r[3] <= r[0] + r[4]]
    resp = sorted(r[1] - r[0] for r in records)
    return {
        "tool": "simpy", "simpy": simpy.__version__, "python": sys.version.split()[0],
        "wall_s": wall, "jobs_resolved": jobs, "simpy_events": events,
        "jobs_per_s": jobs / wall, "simpy_events_per_s": events / wall,
        "closed_within_horizon": len(closed),
        "on_time_share_of_resolved_with_due": len(on_time) / max(len(with_due), 1),
        "response_mean_h": statistics.fmean(resp) if resp else None,
        "response_p90_h": resp[int(0.9 * (len(resp) - 1))] if resp else None,
        "proactive_share": sum(r[5] in CHANNELS_PROACTIVE for r in records) / max(jobs, 1),
    }


def run_mmc(lam, mu, c, n, seed=1):
    """The plain M/M/c peer: n jobs, one arrival process, one PriorityResource."""
    rng = random.Random(seed)
    env = simpy.Environment()
    res = simpy.Resource(env, capacity=c)
    waits = []

    def job():
        t = env.now
        with res.request() as req:
            yield req
            waits.append(env.now - t)
            yield env.timeout(rng.expovariate(mu))

    def source():
        for _ in range(n):
            yield env.timeout(rng.expovariate(lam))
            env.process(job())

    env.process(source())
    t0 = time.perf_counter()
    env.run()
    wall = time.perf_counter() - t0
    return {"tool": "simpy_mmc", "jobs": n, "wall_s": wall, "jobs_per_s": n / wall,
            "simpy_events": next(env._eid), "wq_mean": statistics.fmean(waits)}


if __name__ == "__main__":
    if sys.argv[1] == "--make-spec":
        print(json.dumps(make_spec(int(sys.argv[2]), int(sys.argv[3])), indent=1))
    elif sys.argv[1] == "--mmc":
        lam, mu, c, n = float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
        print(json.dumps(run_mmc(lam, mu, c, n)))
    else:
        with open(sys.argv[1]) as f:
            print(json.dumps(run_city(json.load(f))))
