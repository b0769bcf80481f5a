//! Acceptance 1: trace replay reproduces the reference start and end of every job.

use engine_community::{Discipline, JobTiming, parse_trace_hours, parse_trace_ms, replay};

use crate::shared_text;

/// ns ticks per hour for the float-hours trace
const NS_PER_H: f64 = 3.6e12;

#[track_caller]
fn check_ms(expected_file: &str, discipline: Discipline) {
    let (Some(input), Some(expected)) = (
        shared_text("reference/queue_trace_ms_input.csv"),
        shared_text(&format!("reference/{expected_file}")),
    ) else {
        return;
    };
    let jobs = parse_trace_ms(&input).unwrap();
    assert_eq!(jobs.len(), 2000);
    let got = replay(&jobs, 3, discipline).unwrap();
    let mut n = 0;
    for (line, g) in expected.lines().skip(1).zip(&got) {
        let f: Vec<u64> = line.split(',').map(|x| x.parse().unwrap()).collect();
        let want = JobTiming {
            id: f[0],
            start: f[1],
            end: f[2],
            wait: f[3],
        };
        assert_eq!(*g, want, "job {}", f[0]);
        n += 1;
    }
    assert_eq!(n, 2000);
}

#[test]
fn fifo_trace_in_ms_is_reproduced_exactly() {
    check_ms("queue_trace_ms_expected_fifo_c3.csv", Discipline::Fifo);
}

#[test]
fn priority_trace_in_ms_is_reproduced_exactly() {
    check_ms(
        "queue_trace_ms_expected_priority_c3.csv",
        Discipline::Priority,
    );
}

#[track_caller]
fn check_hours(expected_file: &str, discipline: Discipline) {
    let (Some(input), Some(expected)) = (
        shared_text("reference/queue_trace_input.csv"),
        shared_text(&format!("reference/{expected_file}")),
    ) else {
        return;
    };
    let jobs = parse_trace_hours(&input, NS_PER_H).unwrap();
    let got = replay(&jobs, 3, discipline).unwrap();
    let mut worst = 0.0f64;
    for (line, g) in expected.lines().skip(1).zip(&got) {
        let f: Vec<f64> = line.split(',').map(|x| x.parse().unwrap()).collect();
        #[allow(clippy::cast_precision_loss)]
        let h = |t: u64| t as f64 / NS_PER_H;
        for (ours, theirs) in [(h(g.start), f[1]), (h(g.end), f[2]), (h(g.wait), f[3])] {
            worst = worst.max((ours - theirs).abs());
        }
    }
    assert!(worst <= 1e-9, "worst difference {worst} h");
}

#[test]
fn fifo_trace_in_hours_matches_to_a_nanohour() {
    check_hours("queue_trace_expected_fifo_c3.csv", Discipline::Fifo);
}

#[test]
fn priority_trace_in_hours_matches_to_a_nanohour() {
    check_hours("queue_trace_expected_priority_c3.csv", Discipline::Priority);
}

#[test]
fn trace_summary_figures_match() {
    let (Some(input), Some(summary)) = (
        shared_text("reference/queue_trace_ms_input.csv"),
        crate::shared_json("reference/queue_trace_ms_summary.json"),
    ) else {
        return;
    };
    let jobs = parse_trace_ms(&input).unwrap();
    for (name, d) in [
        ("fifo", Discipline::Fifo),
        ("priority", Discipline::Priority),
    ] {
        let got = replay(&jobs, 3, d).unwrap();
        let s = &summary[name];
        let max_wait = got.iter().map(|t| t.wait).max().unwrap();
        let makespan = got.iter().map(|t| t.end).max().unwrap();
        let total: u64 = got.iter().map(|t| t.wait).sum();
        assert_eq!(max_wait, s["max_wait_ms"].as_u64().unwrap());
        assert_eq!(makespan, s["makespan_ms"].as_u64().unwrap());
        assert_eq!(
            total,
            (s["mean_wait_ms"].as_f64().unwrap() * 2000.0).round() as u64
        );
    }
}
