//! Readers for the engine's plain-text inputs (trace CSVs, Boston 311
//! requests). They take text; the CLI reads the files.

use domain::{EventChannel, Priority, Timestamp};

use std::collections::BTreeMap;

use crate::calendar::{WeekProfile, parse_local_ms};
use crate::kpi::IncidentRecord;
use crate::replay::TraceJob;
use crate::spec::ArrivalSpec;
use crate::table::{Table, TableError};

/// Reads an integer-ms trace: `job_id,arrival_ms,service_ms,priority` (other
/// columns, such as `community`, are ignored).
///
/// # Errors
/// A malformed table.
pub fn parse_trace_ms(text: &str) -> Result<Vec<TraceJob>, TableError> {
    let t = Table::parse(text)?;
    let (id, a, s, p) = (
        t.col("job_id")?,
        t.col("arrival_ms")?,
        t.col("service_ms")?,
        t.col("priority")?,
    );
    t.rows()
        .iter()
        .map(|r| {
            Ok(TraceJob {
                id: t.get(r, id)?,
                arrival: t.get(r, a)?,
                service: t.get(r, s)?,
                class: t.get(r, p)?,
            })
        })
        .collect()
}

/// Reads a float-hours trace (`job_id,arrival_h,service_h,priority`) into
/// integer ticks of `1 / ticks_per_hour` hour (3.6e12 gives nanoseconds,
/// fine enough to reproduce float results to 1e-9 h).
///
/// # Errors
/// A malformed table, or a negative or non-finite time.
pub fn parse_trace_hours(text: &str, ticks_per_hour: f64) -> Result<Vec<TraceJob>, TableError> {
    let t = Table::parse(text)?;
    let (id, a, s, p) = (
        t.col("job_id")?,
        t.col("arrival_h")?,
        t.col("service_h")?,
        t.col("priority")?,
    );
    let ticks = |r: &(usize, Vec<&str>), c: usize| -> Result<u64, TableError> {
        let h: f64 = t.get(r, c)?;
        let x = (h * ticks_per_hour).round();
        if (0.0..9.0e18).contains(&x) {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            Ok(x as u64)
        } else {
            Err(t.bad(r, c))
        }
    };
    t.rows()
        .iter()
        .map(|r| {
            Ok(TraceJob {
                id: t.get(r, id)?,
                arrival: ticks(r, a)?,
                service: ticks(r, s)?,
                class: t.get(r, p)?,
            })
        })
        .collect()
}

/// The channel of a Boston 311 `source`: calls are citizen calls; the app,
/// self service and Twitter are app reports; employee-generated, city-worker
/// app and Maximo (asset system) requests are found by city staff (patrol).
pub fn boston_channel(source: &str) -> EventChannel {
    match source {
        "Constituent Call" => EventChannel::CitizenCall,
        "Employee Generated" | "City Worker App" | "Maximo Integration" => EventChannel::Patrol,
        _ => EventChannel::App,
    }
}

/// Reads `boston311_2015_requests.csv` as incident records: community =
/// neighbourhood, kind = type, team = queue id, channel by
/// [`boston_channel`], priority P3, REPORTED = `open_dt`, SLA due =
/// `target_dt`, RESOLVED = CLOSED = `closed_dt` (Boston records one closing
/// time), source on-time flag from `ontime_status`. Times are naive local.
///
/// # Errors
/// A malformed table or timestamp.
pub fn parse_boston311(text: &str) -> Result<Vec<IncidentRecord>, TableError> {
    let t = Table::parse(text)?;
    let c = |n| t.col(n);
    let (id, open, target, closed, ontime) = (
        c("case_id")?,
        c("open_dt")?,
        c("target_dt")?,
        c("closed_dt")?,
        c("ontime_status")?,
    );
    let (kind, queue, source, hood) =
        (c("type")?, c("queue_id")?, c("source")?, c("neighborhood")?);
    let time = |r: &(usize, Vec<&str>), col: usize| -> Result<Option<Timestamp>, TableError> {
        let v = r.1[col].trim();
        if v.is_empty() {
            return Ok(None);
        }
        parse_local_ms(v)
            .map(|ms| Some(Timestamp::from_millis(ms)))
            .ok_or_else(|| t.bad(r, col))
    };
    t.rows()
        .iter()
        .map(|r| {
            let closed_at = time(r, closed)?;
            Ok(IncidentRecord {
                id: r.1[id].to_string(),
                community: r.1[hood].to_string(),
                kind: r.1[kind].to_string(),
                team: Some(r.1[queue].to_string()),
                priority: Priority::P3,
                channel: boston_channel(r.1[source]),
                reported: time(r, open)?.ok_or_else(|| t.bad(r, open))?,
                dispatched: None,
                started: None,
                resolved: closed_at,
                closed: closed_at,
                sla_due: time(r, target)?,
                source_on_time: match r.1[ontime] {
                    "ONTIME" => Some(true),
                    "OVERDUE" => Some(false),
                    "" => None,
                    _ => return Err(t.bad(r, ontime)),
                },
            })
        })
        .collect()
}

/// Learns one arrival stream per (community, type) from incident records:
/// hourly rates per hour of the week over the records' whole reporting span
/// (so sparse streams are not overstated). Streams with fewer than
/// `min_count` records are left out. Record times are read as local clock
/// times (the hour of the week of the `Timestamp`'s ms as given).
pub fn learn_arrivals(records: &[IncidentRecord], min_count: usize) -> Vec<ArrivalSpec> {
    let (Some(lo), Some(hi)) = (
        records.iter().map(|r| r.reported.as_millis()).min(),
        records.iter().map(|r| r.reported.as_millis()).max(),
    ) else {
        return Vec::new();
    };
    let mut groups: BTreeMap<(&str, &str), Vec<i64>> = BTreeMap::new();
    for r in records {
        groups
            .entry((r.community.as_str(), r.kind.as_str()))
            .or_default()
            .push(r.reported.as_millis());
    }
    groups
        .into_iter()
        .filter(|(_, v)| v.len() >= min_count.max(1))
        .map(|((c, k), v)| ArrivalSpec {
            community: c.to_string(),
            kind: k.to_string(),
            per_day: None,
            profile: None,
            hourly: Some(WeekProfile::learn_over(&v, lo, hi)),
        })
        .collect()
}
