//! Acceptance 5: determinism and invariants of the event-handling model, plus
//! what-ifs, shifts and replayed events.

use std::collections::BTreeMap;

use domain::{EventChannel, Priority};
use engine_community::{
    ArrivalSpec, CityModel, CitySpec, Discipline, DurationDist, ErlangC, KindSpec, ReplaySpec,
    Shift, ShiftCalendar, StaffChange, Surge, TeamSpec, TraceJob, Variant, replay, run_once,
    simulate,
};
use proptest::prelude::*;
use scenario::{NoProgress, Scheduler};

fn kind(name: &str, priority: Priority, mean_h: f64, sla_h: f64) -> KindSpec {
    KindSpec {
        name: name.into(),
        priority,
        sla_h: Some(sla_h),
        service: DurationDist::Exponential { mean_h },
        dispatch: Some(DurationDist::Fixed { h: 0.1 }),
        verify: Some(DurationDist::Lognormal {
            mean_h: 2.0,
            sd_h: 1.0,
        }),
        channels: BTreeMap::from([
            (EventChannel::CitizenCall, 0.5),
            (EventChannel::App, 0.2),
            (EventChannel::IotAlarm, 0.2),
            (EventChannel::Patrol, 0.1),
        ]),
    }
}

/// Two communities, a local team each for `pothole`/`noise`, a city-wide team for `flooding`.
fn spec(seed: u64, workers: u32) -> CitySpec {
    let communities = vec!["C01".to_string(), "C02".to_string()];
    let mut teams: Vec<TeamSpec> = communities
        .iter()
        .map(|c| TeamSpec {
            name: format!("grid-{c}"),
            community: Some(c.clone()),
            kinds: vec!["pothole".into(), "noise".into()],
            shifts: ShiftCalendar::Constant(workers),
        })
        .collect();
    teams.push(TeamSpec {
        name: "drainage".into(),
        community: None,
        kinds: vec!["flooding".into()],
        shifts: ShiftCalendar::Weekly(vec![Shift {
            days: vec![0, 1, 2, 3, 4],
            from_h: 8,
            to_h: 20,
            workers: 2,
        }]),
    });
    let mut arrivals = Vec::new();
    for c in &communities {
        for (k, per_day) in [("pothole", 20.0), ("noise", 10.0), ("flooding", 3.0)] {
            arrivals.push(ArrivalSpec {
                community: c.clone(),
                kind: k.into(),
                per_day: Some(per_day),
                profile: Some("day".into()),
                hourly: None,
            });
        }
    }
    let day_shape: Vec<f64> = (0..168)
        .map(|h| {
            if (8..22).contains(&(h % 24)) {
                2.0
            } else {
                0.5
            }
        })
        .collect();
    CitySpec {
        seed,
        horizon_h: 24 * 14,
        start_hour_of_week: 0,
        communities,
        profiles: BTreeMap::from([("day".to_string(), engine_community::WeekProfile(day_shape))]),
        kinds: vec![
            kind("pothole", Priority::P3, 1.0, 72.0),
            kind("noise", Priority::P2, 0.5, 4.0),
            kind("flooding", Priority::P1, 2.0, 24.0),
        ],
        teams,
        arrivals,
        replay: vec![ReplaySpec {
            community: "C02".into(),
            kind: "noise".into(),
            reported_ms: 3_600_000,
            service_ms: Some(1_234_567),
            channel: Some(EventChannel::IotAlarm),
        }],
        variants: vec![
            Variant {
                name: "typhoon".into(),
                surges: vec![Surge {
                    kind: "flooding".into(),
                    community: None,
                    from_h: 48,
                    to_h: 96,
                    factor: 4.0,
                }],
                ..Variant::default()
            },
            Variant {
                name: "one-more-worker".into(),
                staff: vec![StaffChange {
                    team: "grid-C01".into(),
                    delta: 1,
                    from_h: None,
                    to_h: None,
                }],
                ..Variant::default()
            },
        ],
    }
}

#[test]
fn same_seed_gives_an_identical_report_and_another_seed_a_different_one() {
    let a = serde_json::to_string(&simulate(&spec(7, 2), &mut NoProgress).unwrap()).unwrap();
    let b = serde_json::to_string(&simulate(&spec(7, 2), &mut NoProgress).unwrap()).unwrap();
    let c = serde_json::to_string(&simulate(&spec(8, 2), &mut NoProgress).unwrap()).unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn what_ifs_move_the_kpis_the_right_way() {
    let r = simulate(&spec(3, 2), &mut NoProgress).unwrap();
    let base = &r.baseline.kpis;
    let typhoon = &r.variants[0].report.kpis;
    let staff = &r.variants[1].report.kpis;
    // surge: more flooding cases, same others (common random numbers)
    assert!(typhoon.city.requests > base.city.requests);
    assert_eq!(
        typhoon.by_community["C01"].requests - base.by_community["C01"].requests,
        typhoon.by_team["drainage"]
            .requests
            .saturating_sub(base.by_team["drainage"].requests)
            - (typhoon.by_community["C02"].requests - base.by_community["C02"].requests)
    );
    assert_eq!(typhoon.by_team["grid-C01"], base.by_team["grid-C01"]);
    // staff: the very same cases, faster response in C01, nothing else changes
    assert_eq!(staff.city.requests, base.city.requests);
    assert!(
        staff.by_team["grid-C01"].response.unwrap().mean_h
            < base.by_team["grid-C01"].response.unwrap().mean_h
    );
    assert_eq!(staff.by_team["grid-C02"], base.by_team["grid-C02"]);
    let d = r.variants[1]
        .deltas
        .iter()
        .find(|d| d.kpi == "response_mean_h")
        .unwrap();
    assert!(d.delta < 0.0);
}

#[test]
fn lifecycle_is_ordered_and_jobs_are_conserved() {
    let s = spec(11, 2);
    let mut sched = Scheduler::new();
    let mut m = CityModel::new(&s, None, &mut sched).unwrap();
    m.run(&mut sched, &mut NoProgress);
    let report = m.report();
    let incidents: Vec<_> = m.incidents().collect();
    assert_eq!(incidents.len() as u64, report.kpis.city.requests);
    assert_eq!(
        report.kpis.city.requests,
        report.kpis.city.closed + report.kpis.city.backlog
    );
    let mut by_team: BTreeMap<u32, Vec<(i64, i64)>> = BTreeMap::new();
    for i in &incidents {
        let steps = [
            Some(i.reported),
            i.dispatched,
            i.started,
            i.resolved,
            i.closed,
        ];
        let known: Vec<i64> = steps.iter().map_while(|t| *t).collect();
        assert!(known.windows(2).all(|w| w[0] <= w[1]), "{i:?}");
        // a later step never exists without the earlier ones
        assert!(steps[known.len()..].iter().all(Option::is_none), "{i:?}");
        if let Some(s) = i.started {
            by_team
                .entry(i.team)
                .or_default()
                .push((s, i.resolved.unwrap_or(i64::MAX)));
        }
    }
    // no team has more jobs in hand than its largest on-duty count (2 workers each)
    for (team, jobs) in by_team {
        let mut ev: Vec<(i64, i32)> = jobs.iter().flat_map(|&(s, e)| [(s, 1), (e, -1)]).collect();
        ev.sort_by_key(|&(t, d)| (t, d));
        let mut busy = 0;
        for (_, d) in ev {
            busy += d;
            assert!(busy <= 2, "team {team} has {busy} jobs in hand");
        }
    }
    // the replayed IoT alarm is there with its handling time
    let replayed = incidents
        .iter()
        .find(|i| i.reported == 3_600_000 && i.channel == EventChannel::IotAlarm)
        .unwrap();
    assert_eq!(
        replayed.resolved.unwrap() - replayed.started.unwrap(),
        1_234_567
    );
    // day KPIs cover the fortnight
    assert_eq!(report.kpis.by_day.len(), 14);
    assert_eq!(
        report
            .kpis
            .by_day
            .iter()
            .map(|d| d.reported.requests)
            .sum::<u64>(),
        report.kpis.city.requests
    );
    assert_eq!(
        report.kpis.by_day.last().unwrap().open_at_end,
        report.kpis.city.backlog
    );
}

#[test]
fn the_day_shift_team_only_starts_work_on_duty() {
    let s = spec(5, 2);
    let mut sched = Scheduler::new();
    let mut m = CityModel::new(&s, None, &mut sched).unwrap();
    m.run(&mut sched, &mut NoProgress);
    let drainage = 2; // third team
    let mut n = 0;
    for i in m.incidents().filter(|i| i.team == drainage) {
        if let Some(s) = i.started {
            let how = (s / 3_600_000) % 168;
            assert!(
                how / 24 < 5 && (8..20).contains(&(how % 24)),
                "started at hour-of-week {how}"
            );
            n += 1;
        }
    }
    assert!(n > 10);
    let u = m.report().teams["drainage"];
    assert_eq!(u.on_duty_h, 2.0 * 12.0 * 10.0); // two weeks of weekdays
}

#[test]
fn a_constant_single_type_city_behaves_like_erlang_c() {
    // one community, Poisson arrivals 40/day, 1 h exponential handling, 2 workers: rho = 0.83
    let mut s = spec(9, 2);
    s.communities.truncate(1);
    s.teams.truncate(1);
    s.kinds[0].dispatch = None;
    s.kinds[0].verify = None;
    s.arrivals = vec![ArrivalSpec {
        community: "C01".into(),
        kind: "pothole".into(),
        per_day: Some(40.0),
        profile: None,
        hourly: None,
    }];
    s.replay.clear();
    s.variants.clear();
    s.horizon_h = 24 * 365 * 4;
    let r = run_once(&s, None, &mut NoProgress).unwrap();
    let q = ErlangC::new(40.0 / 24.0, 1.0, 2).unwrap();
    let resp = r.kpis.city.response.unwrap();
    eprintln!(
        "model Wq {} h vs Erlang C {} h over {} jobs",
        resp.mean_h, q.wq, resp.n
    );
    assert!(
        (resp.mean_h - q.wq).abs() < 0.1 * q.wq,
        "{} vs {}",
        resp.mean_h,
        q.wq
    );
    let u = r.kpis.city.utilisation.unwrap();
    assert!((u - q.rho).abs() < 0.02, "{u} vs {}", q.rho);
}

#[test]
fn spec_errors_name_the_offender() {
    let mut s = spec(1, 1);
    s.arrivals[0].kind = "graffiti".into();
    assert_eq!(
        s.validate().unwrap_err().to_string(),
        "unknown kind \"graffiti\""
    );
    let mut s = spec(1, 1);
    s.teams.pop();
    assert!(
        s.validate()
            .unwrap_err()
            .to_string()
            .contains("no team handles \"flooding\"")
    );
    let text = serde_json::to_string(&spec(1, 1)).unwrap();
    assert_eq!(CitySpec::from_json(&text).unwrap(), spec(1, 1));
}

fn trace() -> impl Strategy<Value = (Vec<TraceJob>, u32)> {
    (
        proptest::collection::vec((0u64..500, 0u64..200, 0u8..4), 0..60),
        1u32..4,
    )
        .prop_map(|(v, c)| {
            let jobs = v
                .into_iter()
                .enumerate()
                .map(|(i, (a, s, p))| TraceJob {
                    id: i as u64,
                    arrival: a,
                    service: s,
                    class: p,
                })
                .collect();
            (jobs, c)
        })
}

proptest! {
    #[test]
    fn replay_conserves_jobs_never_double_books_and_never_waits_negatively((jobs, c) in trace(), prio in any::<bool>()) {
        let d = if prio { Discipline::Priority } else { Discipline::Fifo };
        let t = replay(&jobs, c, d).unwrap();
        prop_assert_eq!(t.len(), jobs.len());
        for (j, x) in jobs.iter().zip(&t) {
            prop_assert_eq!(x.id, j.id);
            prop_assert!(x.start >= j.arrival);
            prop_assert_eq!(x.wait, x.start - j.arrival);
            prop_assert_eq!(x.end, x.start + j.service);
        }
        // at most c jobs in service at any instant (zero-length services hold no server time)
        let mut ev: Vec<(u64, i32)> = t.iter().filter(|x| x.end > x.start).flat_map(|x| [(x.start, 1), (x.end, -1)]).collect();
        ev.sort_by_key(|&(time, delta)| (time, delta));
        let mut busy = 0;
        for (_, delta) in ev {
            busy += delta;
            prop_assert!(busy <= c as i32);
        }
        // work conservation: a job only waits while every server is busy
        for x in t.iter().filter(|x| x.wait > 0) {
            let arrival = x.start - x.wait;
            let in_service = |at: u64| t.iter().filter(|y| y.start <= at && at < y.end).count();
            for at in [arrival, x.start - 1] {
                prop_assert!(in_service(at) >= c as usize, "job {} waits at {} with a free server", x.id, at);
            }
        }
        if !prio {
            // FIFO: starts in arrival order
            let mut order: Vec<usize> = (0..jobs.len()).collect();
            order.sort_by_key(|&i| (jobs[i].arrival, i));
            prop_assert!(order.windows(2).all(|w| t[w[0]].start <= t[w[1]].start));
        }
    }

    #[test]
    fn model_runs_conserve_jobs_for_any_small_city(seed in 0u64..1000, workers in 1u32..4) {
        let mut s = spec(seed, workers);
        s.horizon_h = 72;
        let r = run_once(&s, None, &mut NoProgress).unwrap();
        let k = &r.kpis.city;
        prop_assert_eq!(k.requests, r.jobs);
        prop_assert_eq!(k.requests, k.closed + k.backlog);
        prop_assert!(k.overdue <= k.backlog);
        prop_assert!(k.closed_on_time <= k.closed);
        prop_assert!(k.response.is_none_or(|x| x.p50_h >= 0.0 && x.p50_h <= x.p90_h));
    }
}
