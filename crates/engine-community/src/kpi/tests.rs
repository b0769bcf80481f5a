use super::*;

const H: i64 = 3_600_000;
const D: i64 = 24 * H;

fn inc(reported: i64, started: Option<i64>, closed: Option<i64>, due: Option<i64>) -> Incident {
    Incident {
        community: 0,
        team: 0,
        kind: 0,
        priority: Priority::P3,
        channel: EventChannel::App,
        source_on_time: None,
        reported,
        dispatched: None,
        started,
        resolved: closed,
        closed,
        due,
    }
}

fn names() -> Names {
    Names {
        communities: vec!["c".into()],
        teams: vec!["t".into()],
        kinds: vec!["k".into()],
    }
}

#[test]
fn rates_backlog_and_overdue_by_hand() {
    let v = [
        inc(0, Some(H), Some(2 * H), Some(10 * H)),      // on time
        inc(H, Some(3 * H), Some(20 * H), Some(10 * H)), // late
        inc(2 * H, None, None, Some(5 * H)),             // open, overdue at 12 h
        inc(3 * H, None, None, None),                    // open, no due
        inc(30 * H, None, None, None),                   // after as_of: left out
    ];
    let r = aggregate(
        &v,
        &names(),
        &KpiOptions {
            as_of_ms: Some(12 * H),
            day_origin_ms: Some(0),
        },
    );
    let k = &r.city;
    assert_eq!(
        (k.requests, k.closed, k.with_due, k.closed_on_time),
        (4, 1, 3, 1)
    );
    // the late closure happens after as_of: still open and overdue then
    assert_eq!((k.backlog, k.overdue), (3, 2));
    assert_eq!(k.closure_rate, Some(0.25));
    assert_eq!(k.on_time_closure_rate, Some(1.0 / 3.0));
    let resp = k.response.unwrap();
    assert_eq!(resp.n, 2);
    assert_eq!((resp.mean_h, resp.p50_h), (1.5, 1.5));
    assert!((resp.p90_h - 1.9).abs() < 1e-12);
}

#[test]
fn end_of_day_backlog_follows_closures_and_due_times() {
    let v = [
        inc(0, None, Some(D + H), Some(H)), // open at end of day 0, overdue; closed on day 1
        inc(D + 2 * H, None, None, Some(3 * D)), // open from day 1, overdue from day 3
        inc(2 * D, None, Some(2 * D + H), None), // closed the same day
    ];
    let r = aggregate(
        &v,
        &names(),
        &KpiOptions {
            as_of_ms: Some(4 * D),
            day_origin_ms: Some(0),
        },
    );
    let open: Vec<u64> = r.by_day.iter().map(|d| d.open_at_end).collect();
    let over: Vec<u64> = r.by_day.iter().map(|d| d.overdue_at_end).collect();
    assert_eq!(open, vec![1, 1, 1]);
    assert_eq!(over, vec![1, 0, 0]);
    assert_eq!(
        r.by_day.iter().map(|d| d.day).collect::<Vec<_>>(),
        vec![0, 1, 2]
    );
    // day 3 has no report, so the span ends at day 2; overdue of the second starts after 3 d
    assert_eq!(r.city.overdue, 1);
}

#[test]
fn percentiles_interpolate_like_numpy() {
    let h = H.unsigned_abs();
    let mut v = vec![4 * h, h, 3 * h, 2 * h];
    let sum = Sum {
        n: 4,
        total: u128::from(10 * h),
    };
    let s = time_stats(&mut v, sum).unwrap();
    assert_eq!(s.p50_h, 2.5);
    assert!((s.p90_h - 3.7).abs() < 1e-12);
    assert_eq!(s.mean_h, 2.5);
    assert_eq!(time_stats(&mut [], Sum::default()), None);
}
