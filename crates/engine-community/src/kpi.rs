//! Event-handling KPIs over incident records: the live link between the
//! operations centre's incidents, simulated runs and the governance indicators.

use std::collections::BTreeMap;

use domain::{EventChannel, Priority, Timestamp};
use serde::{Deserialize, Serialize};

mod select;

const HOUR_MS: f64 = 3_600_000.0;
const DAY_MS: i64 = 86_400_000;

/// An incident as the operations centre records it: the live-link input.
/// Times are on one clock (wall-clock `Timestamp`s for live data).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentRecord {
    /// The incident's id.
    pub id: String,
    /// Community (neighbourhood, street office) it belongs to; may be empty.
    pub community: String,
    /// Event type (`pothole`, `noise`, ...).
    pub kind: String,
    /// Handling team, when assigned.
    pub team: Option<String>,
    /// Priority.
    pub priority: Priority,
    /// How it was reported.
    pub channel: EventChannel,
    /// REPORTED.
    pub reported: Timestamp,
    /// DISPATCHED to a team.
    pub dispatched: Option<Timestamp>,
    /// IN_PROGRESS: a worker started on it.
    pub started: Option<Timestamp>,
    /// RESOLVED: the work is done.
    pub resolved: Option<Timestamp>,
    /// CLOSED: verified and closed.
    pub closed: Option<Timestamp>,
    /// SLA due time, if the type has one.
    pub sla_due: Option<Timestamp>,
    /// The source system's own on-time flag, if it has one.
    pub source_on_time: Option<bool>,
}

/// An incident with names replaced by indices into [`Names`] tables and
/// times as plain milliseconds on one clock; what [`aggregate`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    /// Index into [`Names::communities`].
    pub community: u32,
    /// Index into [`Names::teams`].
    pub team: u32,
    /// Index into [`Names::kinds`].
    pub kind: u32,
    /// Priority.
    pub priority: Priority,
    /// Channel.
    pub channel: EventChannel,
    /// The source system's on-time flag.
    pub source_on_time: Option<bool>,
    /// REPORTED, ms.
    pub reported: i64,
    /// DISPATCHED, ms.
    pub dispatched: Option<i64>,
    /// IN_PROGRESS, ms.
    pub started: Option<i64>,
    /// RESOLVED, ms.
    pub resolved: Option<i64>,
    /// CLOSED, ms.
    pub closed: Option<i64>,
    /// SLA due, ms.
    pub due: Option<i64>,
}

/// Name tables for [`Incident`] indices.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Names {
    /// Community names.
    pub communities: Vec<String>,
    /// Team names (`""` for unassigned).
    pub teams: Vec<String>,
    /// Event type names.
    pub kinds: Vec<String>,
}

/// Mean and percentiles of a duration, in hours.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TimeStats {
    /// Durations counted.
    pub n: u64,
    /// Mean.
    pub mean_h: f64,
    /// Median (linear interpolation between order statistics).
    pub p50_h: f64,
    /// 90th percentile (linear interpolation).
    pub p90_h: f64,
}

/// The KPIs of one group of incidents. Rates are `None` when their
/// denominator is zero. Definitions: `docs/specs/community-report.md`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Kpis {
    /// Incidents reported (at or before `as_of`).
    pub requests: u64,
    /// Of those, closed at or before `as_of`.
    pub closed: u64,
    /// 办结率: `closed / requests`.
    pub closure_rate: Option<f64>,
    /// Incidents with an SLA due time.
    pub with_due: u64,
    /// Of those, closed at or before the due time (and `as_of`).
    pub closed_on_time: u64,
    /// 按期办结率: `closed_on_time / with_due`.
    pub on_time_closure_rate: Option<f64>,
    /// Incidents whose source flag says on time.
    pub source_on_time: u64,
    /// `source_on_time / requests` (incidents without a flag count in the denominator).
    pub source_on_time_share: Option<f64>,
    /// Found by the city (IoT alarm or patrol).
    pub proactive: u64,
    /// `proactive / requests`.
    pub proactive_share: Option<f64>,
    /// Open (not closed) at `as_of`.
    pub backlog: u64,
    /// Open at `as_of` and past their due time.
    pub overdue: u64,
    /// REPORTED to IN_PROGRESS.
    pub response: Option<TimeStats>,
    /// REPORTED to RESOLVED.
    pub resolution: Option<TimeStats>,
    /// Durations left out because they were negative (bad source data).
    pub negative_durations: u64,
    /// Busy worker time over on-duty worker time; only simulated runs know it.
    pub utilisation: Option<f64>,
}

/// KPIs of the incidents reported on one day, plus the state at its end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DayKpis {
    /// Day number from the report's origin (day 0 starts at `day_origin_ms`).
    pub day: i64,
    /// KPIs of the incidents reported that day (as of the report time).
    pub reported: Kpis,
    /// Incidents open (all communities) at the end of the day.
    pub open_at_end: u64,
    /// Of those, past their due time.
    pub overdue_at_end: u64,
}

/// KPIs city-wide and per community, team and day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KpiReport {
    /// The instant the state is taken at, ms on the incidents' clock.
    pub as_of_ms: i64,
    /// Origin of the day numbers, ms.
    pub day_origin_ms: i64,
    /// All incidents.
    pub city: Kpis,
    /// Per community name.
    pub by_community: BTreeMap<String, Kpis>,
    /// Per team name.
    pub by_team: BTreeMap<String, Kpis>,
    /// Per day, in day order, from the first to the last day with a report.
    pub by_day: Vec<DayKpis>,
}

/// The 基层治理 (grassroots governance) indicator inputs, as plain numbers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GovernanceInputs {
    /// 办结率 (0..1).
    pub closure_rate: Option<f64>,
    /// 按期办结率 (0..1).
    pub on_time_closure_rate: Option<f64>,
    /// Share found proactively (0..1).
    pub proactive_share: Option<f64>,
    /// Mean response time, hours.
    pub response_mean_h: Option<f64>,
    /// 90th percentile of resolution time, hours.
    pub resolution_p90_h: Option<f64>,
    /// Open incidents.
    pub backlog: u64,
    /// Open and overdue incidents.
    pub overdue: u64,
}

/// How to aggregate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct KpiOptions {
    /// The instant to take the state at; `None` is the latest time found in
    /// the records (reported, dispatched, started, resolved or closed).
    pub as_of_ms: Option<i64>,
    /// Origin of the day numbers; `None` is midnight of the first report's day
    /// on the incidents' clock.
    pub day_origin_ms: Option<i64>,
}

/// Durations counted and their sum (integer ms: any order gives the same sum).
#[derive(Debug, Clone, Copy, Default)]
struct Sum {
    n: u64,
    total: u128,
}

impl Sum {
    fn add(&mut self, d: u64) {
        self.n += 1;
        self.total += u128::from(d);
    }

    fn merge(&mut self, o: Self) {
        self.n += o.n;
        self.total += o.total;
    }

    fn len(self) -> usize {
        usize::try_from(self.n).expect("durations fit in memory")
    }

    #[allow(clippy::cast_precision_loss)]
    fn mean(self) -> f64 {
        self.total as f64 / self.n as f64
    }
}

/// The counters of one group; its durations are kept apart, grouped.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Counts {
    requests: u64,
    closed: u64,
    with_due: u64,
    closed_on_time: u64,
    source_on_time: u64,
    proactive: u64,
    backlog: u64,
    overdue: u64,
    negative: u64,
    response: Sum,
    resolution: Sum,
}

#[allow(clippy::cast_precision_loss)]
fn ratio(a: u64, b: u64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

/// Mean, median and 90th percentile of ms durations, in hours (reorders `v`).
/// The mean comes from the exact integer sum: the same as summing the values
/// as `f64` in any order whenever that sum is exact (below 2^53 ms).
fn time_stats(v: &mut [u64], sum: Sum) -> Option<TimeStats> {
    debug_assert_eq!(v.len(), sum.len());
    (sum.n > 0).then(|| TimeStats {
        n: sum.n,
        mean_h: sum.mean() / HOUR_MS,
        p50_h: select::percentile(v, 0.5) / HOUR_MS,
        p90_h: select::percentile(v, 0.9) / HOUR_MS,
    })
}

/// [`time_stats`] of the union of `parts`.
fn union_time_stats(parts: &[&[u64]], sum: Sum) -> Option<TimeStats> {
    (sum.n > 0).then(|| {
        let p = select::percentiles_of_union(parts, &[0.5, 0.9]);
        TimeStats {
            n: sum.n,
            mean_h: sum.mean() / HOUR_MS,
            p50_h: p[0] / HOUR_MS,
            p90_h: p[1] / HOUR_MS,
        }
    })
}

impl Counts {
    fn add(&mut self, f: &Facts) {
        self.requests += 1;
        self.closed += u64::from(f.closed);
        self.with_due += u64::from(f.with_due);
        self.closed_on_time += u64::from(f.on_time);
        self.source_on_time += u64::from(f.source_on_time);
        self.proactive += u64::from(f.proactive);
        self.backlog += u64::from(f.open);
        self.overdue += u64::from(f.overdue);
        for (d, s) in [
            (f.response, &mut self.response),
            (f.resolution, &mut self.resolution),
        ] {
            match d {
                Some(d) if d >= 0 => s.add(d.unsigned_abs()),
                Some(_) => self.negative += 1,
                None => {}
            }
        }
    }

    fn merge(&mut self, o: &Self) {
        self.requests += o.requests;
        self.closed += o.closed;
        self.with_due += o.with_due;
        self.closed_on_time += o.closed_on_time;
        self.source_on_time += o.source_on_time;
        self.proactive += o.proactive;
        self.backlog += o.backlog;
        self.overdue += o.overdue;
        self.negative += o.negative;
        self.response.merge(o.response);
        self.resolution.merge(o.resolution);
    }

    fn finish_with(&self, response: Option<TimeStats>, resolution: Option<TimeStats>) -> Kpis {
        Kpis {
            requests: self.requests,
            closed: self.closed,
            closure_rate: ratio(self.closed, self.requests),
            with_due: self.with_due,
            closed_on_time: self.closed_on_time,
            on_time_closure_rate: ratio(self.closed_on_time, self.with_due),
            source_on_time: self.source_on_time,
            source_on_time_share: ratio(self.source_on_time, self.requests),
            proactive: self.proactive,
            proactive_share: ratio(self.proactive, self.requests),
            backlog: self.backlog,
            overdue: self.overdue,
            response,
            resolution,
            negative_durations: self.negative,
            utilisation: None,
        }
    }

    /// The group's KPIs, given its response and resolution durations.
    fn finish(&self, response: &mut [u64], resolution: &mut [u64]) -> Kpis {
        self.finish_with(
            time_stats(response, self.response),
            time_stats(resolution, self.resolution),
        )
    }
}

/// What one incident contributes, computed once and added to each group.
struct Facts {
    closed: bool,
    with_due: bool,
    on_time: bool,
    source_on_time: bool,
    proactive: bool,
    open: bool,
    overdue: bool,
    response: Option<i64>,
    resolution: Option<i64>,
}

fn facts(i: &Incident, as_of: i64) -> Facts {
    let seen = |t: Option<i64>| t.filter(|&t| t <= as_of);
    let closed = seen(i.closed);
    let started = seen(i.started);
    let resolved = seen(i.resolved);
    let open = closed.is_none();
    Facts {
        closed: closed.is_some(),
        with_due: i.due.is_some(),
        on_time: matches!((closed, i.due), (Some(c), Some(d)) if c <= d),
        source_on_time: i.source_on_time == Some(true),
        proactive: i.channel.is_proactive(),
        open,
        overdue: open && i.due.is_some_and(|d| d < as_of),
        response: started.map(|s| s - i.reported),
        resolution: resolved.map(|r| r - i.reported),
    }
}

/// The response and resolution durations an incident adds to its groups
/// (those seen by `as_of` and not negative).
fn durations(i: &Incident, as_of: i64) -> (Option<u64>, Option<u64>) {
    let d = |t: Option<i64>| {
        t.filter(|&t| t <= as_of)
            .and_then(|t| u64::try_from(t - i.reported).ok())
    };
    (d(i.started), d(i.resolved))
}

fn latest(i: &Incident) -> i64 {
    [i.dispatched, i.started, i.resolved, i.closed]
        .into_iter()
        .flatten()
        .fold(i.reported, i64::max)
}

/// The frame a report's groups are counted in: the state's instant, the day
/// numbering, and a span of days that holds every kept report (it may be
/// wider: days without reports at either end are trimmed when merging).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Frame {
    pub(crate) as_of: i64,
    pub(crate) origin: i64,
    /// first day of the span
    pub(crate) d0: i64,
    pub(crate) n_days: usize,
}

impl Frame {
    fn day_of(&self, t: i64) -> i64 {
        (t - self.origin).div_euclid(DAY_MS)
    }

    /// First day index whose end is >= t (clamped to the span).
    fn first_end_at_or_after(&self, t: i64) -> usize {
        let d = (t - self.origin - 1).div_euclid(DAY_MS) - self.d0; // end_of(d) >= t
        usize::try_from(d.max(0)).unwrap_or(0).min(self.n_days)
    }
}

/// The groups of one part of the incidents. Every community and team of the
/// part is complete in it (no other part has incidents of theirs), so their
/// KPIs are final; the city and the days are summed over parts by [`merge`].
#[derive(Debug, Default)]
pub(crate) struct PartKpis {
    /// (community index, KPIs), communities with reports only
    communities: Vec<(u32, Kpis)>,
    /// (team index, KPIs), teams with reports only
    teams: Vec<(u32, Kpis)>,
    city: Counts,
    days: Vec<Counts>,
    /// open and overdue at the end of each day, as difference arrays
    open_diff: Vec<i64>,
    overdue_diff: Vec<i64>,
    /// the part's durations, ordered by the report day
    response: Vec<u64>,
    resolution: Vec<u64>,
}

/// Buffers reused from one part to the next.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    rows: Vec<Row>,
    groups: Vec<Counts>,
    response: Vec<u64>,
    resolution: Vec<u64>,
    cursors: Vec<(usize, usize)>,
}

/// A kept incident's groups and durations (`NO_DURATION` when absent),
/// taken in the first pass so the others need not rebuild the incident.
#[derive(Debug, Clone, Copy)]
struct Row {
    community: u32,
    team: u32,
    day: u32,
    response: u64,
    resolution: u64,
}

const NO_DURATION: u64 = u64::MAX;

/// Which groups of one kind (communities or teams) a part holds: their
/// indices, ascending, and each index's position in that list (`slot`, over
/// all indices; entries of other parts' groups are not read).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Groups<'a> {
    pub(crate) ids: &'a [u32],
    pub(crate) slot: &'a [u32],
}

/// Places each row's durations into `scratch` by group (`key` gives a
/// group's position, `counts` the groups' sizes) and returns the groups'
/// KPIs (groups with reports only), tagged with `ids`.
fn grouped(
    rows: &[Row],
    counts: &[Counts],
    ids: &[u32],
    key: impl Fn(&Row) -> usize,
    scratch: &mut Scratch,
) -> Vec<(u32, Kpis)> {
    let total = |f: fn(&Counts) -> Sum| counts.iter().map(|c| f(c).len()).sum::<usize>();
    let (na, nb) = (total(|c| c.response), total(|c| c.resolution));
    scratch.response.clear();
    scratch.response.resize(na, 0);
    scratch.resolution.clear();
    scratch.resolution.resize(nb, 0);
    scratch.cursors.clear();
    let (mut a, mut b) = (0, 0);
    for c in counts {
        scratch.cursors.push((a, b));
        a += c.response.len();
        b += c.resolution.len();
    }
    place(
        rows,
        key,
        &mut scratch.cursors,
        &mut scratch.response,
        &mut scratch.resolution,
    );
    let (mut a, mut b) = (0, 0);
    let mut out = Vec::new();
    for (c, &id) in counts.iter().zip(ids) {
        let (ea, eb) = (a + c.response.len(), b + c.resolution.len());
        if c.requests > 0 {
            let k = c.finish(&mut scratch.response[a..ea], &mut scratch.resolution[b..eb]);
            out.push((id, k));
        }
        (a, b) = (ea, eb);
    }
    out
}

/// Writes each row's durations at its group's cursor (a counting sort).
fn place(
    rows: &[Row],
    key: impl Fn(&Row) -> usize,
    cursors: &mut [(usize, usize)],
    response: &mut [u64],
    resolution: &mut [u64],
) {
    for r in rows {
        let cur = &mut cursors[key(r)];
        if r.response != NO_DURATION {
            response[cur.0] = r.response;
            cur.0 += 1;
        }
        if r.resolution != NO_DURATION {
            resolution[cur.1] = r.resolution;
            cur.1 += 1;
        }
    }
}

/// Counts one part of the incidents in `frame`.
///
/// # Panics
/// If an incident's community or team is not in `communities` or `teams`, or
/// its report day is outside the frame.
pub(crate) fn aggregate_part<I>(
    incidents: I,
    frame: &Frame,
    communities: Groups<'_>,
    teams: Groups<'_>,
    scratch: &mut Scratch,
) -> PartKpis
where
    I: Iterator<Item = Incident>,
{
    let n_days = frame.n_days;
    let mut part = PartKpis {
        days: vec![Counts::default(); n_days],
        open_diff: vec![0; n_days + 1],
        overdue_diff: vec![0; n_days + 1],
        ..PartKpis::default()
    };
    let nc = communities.ids.len();
    let mut groups = std::mem::take(&mut scratch.groups);
    groups.clear();
    groups.resize(nc + teams.ids.len(), Counts::default());
    let mut rows = std::mem::take(&mut scratch.rows);
    rows.clear();
    for i in incidents.filter(|i| i.reported <= frame.as_of) {
        let f = facts(&i, frame.as_of);
        let (ra, rb) = durations(&i, frame.as_of);
        let row = Row {
            community: communities.slot[i.community as usize],
            team: teams.slot[i.team as usize],
            day: u32::try_from(frame.day_of(i.reported) - frame.d0)
                .expect("report day inside the span"),
            response: ra.unwrap_or(NO_DURATION),
            resolution: rb.unwrap_or(NO_DURATION),
        };
        rows.push(row);
        let rd = row.day as usize;
        part.city.add(&f);
        groups[row.community as usize].add(&f);
        groups[nc + row.team as usize].add(&f);
        // the cohort's KPIs as of the report's as_of
        part.days[rd].add(&f);
        // open at end of day d: reported <= end(d) (true from rd on) and
        // not closed by end(d) (closed > end(d)), with closure seen by as_of
        let closed_day = i
            .closed
            .filter(|&c| c <= frame.as_of)
            .map_or(n_days, |c| frame.first_end_at_or_after(c));
        if closed_day > rd {
            part.open_diff[rd] += 1;
            part.open_diff[closed_day] -= 1;
            if let Some(due) = i.due {
                // overdue at end(d) when due < end(d): first d with end(d) > due
                let od = frame.first_end_at_or_after(due + 1).max(rd);
                if od < closed_day {
                    part.overdue_diff[od] += 1;
                    part.overdue_diff[closed_day] -= 1;
                }
            }
        }
    }
    part.communities = grouped(
        &rows,
        &groups[..nc],
        communities.ids,
        |r| r.community as usize,
        scratch,
    );
    part.teams = if nc == 1 && teams.ids.len() == 1 {
        // one community and one team: both groups hold every kept incident
        part.communities
            .iter()
            .map(|(_, k)| (teams.ids[0], k.clone()))
            .collect()
    } else {
        grouped(
            &rows,
            &groups[nc..],
            teams.ids,
            |r| r.team as usize,
            scratch,
        )
    };
    // the durations by report day, kept for the city and the days
    part.response = vec![0; part.city.response.len()];
    part.resolution = vec![0; part.city.resolution.len()];
    scratch.cursors.clear();
    let (mut a, mut b) = (0, 0);
    for d in &part.days {
        scratch.cursors.push((a, b));
        a += d.response.len();
        b += d.resolution.len();
    }
    place(
        &rows,
        |r| r.day as usize,
        &mut scratch.cursors,
        &mut part.response,
        &mut part.resolution,
    );
    scratch.groups = groups;
    scratch.rows = rows;
    part
}

/// Durations above which [`merge`] takes the city's percentiles on a thread
/// of their own.
const PARALLEL_MERGE: u64 = 1_000_000;

/// The report of `parts` (in a fixed order; the result does not depend on
/// how the incidents were split, as long as each community and team is in
/// one part).
pub(crate) fn merge(parts: &[PartKpis], frame: &Frame, names: &Names) -> KpiReport {
    let n_days = frame.n_days;
    let mut city = Counts::default();
    let mut days = vec![Counts::default(); n_days];
    let mut open_diff = vec![0i64; n_days + 1];
    let mut overdue_diff = vec![0i64; n_days + 1];
    let mut communities: Vec<Option<Kpis>> = vec![None; names.communities.len()];
    let mut teams: Vec<Option<Kpis>> = vec![None; names.teams.len()];
    for p in parts {
        city.merge(&p.city);
        for (d, c) in days.iter_mut().zip(&p.days) {
            d.merge(c);
        }
        for (a, b) in open_diff.iter_mut().zip(&p.open_diff) {
            *a += b;
        }
        for (a, b) in overdue_diff.iter_mut().zip(&p.overdue_diff) {
            *a += b;
        }
        for (i, k) in &p.communities {
            communities[*i as usize] = Some(k.clone());
        }
        for (i, k) in &p.teams {
            teams[*i as usize] = Some(k.clone());
        }
    }
    let slices = |f: fn(&PartKpis) -> &[u64]| parts.iter().map(f).collect::<Vec<_>>();
    let city_stats = || {
        (
            union_time_stats(&slices(|p| &p.response), city.response),
            union_time_stats(&slices(|p| &p.resolution), city.resolution),
        )
    };
    let day_kpis = || {
        // each day's durations, gathered from the parts
        let (mut ra, mut rb) = (Vec::new(), Vec::new());
        let mut cur = vec![(0usize, 0usize); parts.len()];
        let (mut open, mut over) = (0i64, 0i64);
        let mut by_day = Vec::with_capacity(n_days);
        for (d, counts) in days.iter().enumerate() {
            ra.clear();
            rb.clear();
            for (p, c) in parts.iter().zip(cur.iter_mut()) {
                let (na, nb) = (p.days[d].response.len(), p.days[d].resolution.len());
                ra.extend_from_slice(&p.response[c.0..c.0 + na]);
                rb.extend_from_slice(&p.resolution[c.1..c.1 + nb]);
                *c = (c.0 + na, c.1 + nb);
            }
            open += open_diff[d];
            over += overdue_diff[d];
            by_day.push(DayKpis {
                day: frame.d0 + i64::try_from(d).expect("small"),
                reported: counts.finish(&mut ra, &mut rb),
                open_at_end: u64::try_from(open).expect("non-negative"),
                overdue_at_end: u64::try_from(over).expect("non-negative"),
            });
        }
        // the span runs from the first to the last day with a report
        let last = days
            .iter()
            .rposition(|c| c.requests > 0)
            .map_or(0, |d| d + 1);
        let first = days.iter().position(|c| c.requests > 0).unwrap_or(last);
        by_day.truncate(last);
        by_day.drain(..first);
        by_day
    };
    // a large city's percentiles on a second thread while the days are done
    let ((response, resolution), by_day) = if city.response.n + city.resolution.n > PARALLEL_MERGE {
        std::thread::scope(|s| {
            let h = s.spawn(city_stats);
            let by_day = day_kpis();
            (
                h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)),
                by_day,
            )
        })
    } else {
        (city_stats(), day_kpis())
    };
    let city = city.finish_with(response, resolution);
    let named = |v: Vec<Option<Kpis>>, names: &[String]| -> BTreeMap<String, Kpis> {
        v.into_iter()
            .zip(names)
            .filter_map(|(k, n)| Some((n.clone(), k?)))
            .collect()
    };
    KpiReport {
        as_of_ms: frame.as_of,
        day_origin_ms: frame.origin,
        city,
        by_community: named(communities, &names.communities),
        by_team: named(teams, &names.teams),
        by_day,
    }
}

/// Computes the KPIs of `incidents` city-wide and per community, team and day.
///
/// Incidents reported after `as_of` are left out; lifecycle times after
/// `as_of` count as not yet happened.
///
/// # Panics
/// If an index is outside its [`Names`] table.
pub fn aggregate(incidents: &[Incident], names: &Names, opts: &KpiOptions) -> KpiReport {
    aggregate_iter(incidents.iter().copied(), names, opts)
}

/// The frame of `incidents` under `opts`: the day span of the kept reports.
pub(crate) fn frame_of<I>(incidents: &I, opts: &KpiOptions) -> Frame
where
    I: Iterator<Item = Incident> + Clone,
{
    let as_of = opts
        .as_of_ms
        .unwrap_or_else(|| incidents.clone().map(|i| latest(&i)).max().unwrap_or(0));
    let origin = opts.day_origin_ms.unwrap_or_else(|| {
        let first = incidents.clone().map(|i| i.reported).min().unwrap_or(0);
        first.div_euclid(DAY_MS) * DAY_MS
    });
    let mut frame = Frame {
        as_of,
        origin,
        d0: 0,
        n_days: 0,
    };
    let (d0, d1) = incidents.clone().filter(|i| i.reported <= as_of).fold(
        (i64::MAX, i64::MIN),
        |(a, b), i| {
            let d = frame.day_of(i.reported);
            (a.min(d), b.max(d))
        },
    );
    if d0 <= d1 {
        frame.d0 = d0;
        frame.n_days = usize::try_from(d1 - d0 + 1).expect("day span fits usize");
    }
    frame
}

/// [`aggregate`] over any re-iterable source of incidents (it is walked a
/// few times), so a simulation need not materialise them.
///
/// # Panics
/// If an index is outside its [`Names`] table.
pub fn aggregate_iter<I>(incidents: I, names: &Names, opts: &KpiOptions) -> KpiReport
where
    I: Iterator<Item = Incident> + Clone,
{
    let frame = frame_of(&incidents, opts);
    let all = |n: usize| (0..u32::try_from(n).expect("fewer than 2^32 names")).collect::<Vec<_>>();
    let (c, t) = (all(names.communities.len()), all(names.teams.len()));
    let part = aggregate_part(
        incidents,
        &frame,
        Groups { ids: &c, slot: &c },
        Groups { ids: &t, slot: &t },
        &mut Scratch::default(),
    );
    merge(std::slice::from_ref(&part), &frame, names)
}

/// Interns names, turning live records into [`Incident`]s plus their [`Names`].
/// Records without a team get the team `""`.
pub fn intern(records: &[IncidentRecord]) -> (Vec<Incident>, Names) {
    fn idx(map: &mut BTreeMap<String, u32>, list: &mut Vec<String>, s: &str) -> u32 {
        if let Some(&i) = map.get(s) {
            return i;
        }
        let i = u32::try_from(list.len()).expect("fewer than 2^32 names");
        map.insert(s.to_string(), i);
        list.push(s.to_string());
        i
    }
    let mut names = Names::default();
    let (mut c, mut t, mut k) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    let ms = |t: Option<Timestamp>| t.map(Timestamp::as_millis);
    let incidents = records
        .iter()
        .map(|r| Incident {
            community: idx(&mut c, &mut names.communities, &r.community),
            team: idx(&mut t, &mut names.teams, r.team.as_deref().unwrap_or("")),
            kind: idx(&mut k, &mut names.kinds, &r.kind),
            priority: r.priority,
            channel: r.channel,
            source_on_time: r.source_on_time,
            reported: r.reported.as_millis(),
            dispatched: ms(r.dispatched),
            started: ms(r.started),
            resolved: ms(r.resolved),
            closed: ms(r.closed),
            due: ms(r.sla_due),
        })
        .collect();
    (incidents, names)
}

/// The live link: KPIs of the operations centre's incident records.
pub fn kpis_of_records(records: &[IncidentRecord], opts: &KpiOptions) -> KpiReport {
    let (incidents, names) = intern(records);
    aggregate(&incidents, &names, opts)
}

impl KpiReport {
    /// The city-wide figures the governance indicators (基层治理) read.
    pub fn governance_inputs(&self) -> GovernanceInputs {
        let c = &self.city;
        GovernanceInputs {
            closure_rate: c.closure_rate,
            on_time_closure_rate: c.on_time_closure_rate,
            proactive_share: c.proactive_share,
            response_mean_h: c.response.map(|r| r.mean_h),
            resolution_p90_h: c.resolution.map(|r| r.p90_h),
            backlog: c.backlog,
            overdue: c.overdue,
        }
    }

    /// City-wide KPIs as a flat name → value map for [`scenario::compare`].
    pub fn flat_city(&self) -> BTreeMap<String, f64> {
        flat(&self.city)
    }
}

/// A [`Kpis`] as a flat name → value map (absent values left out).
#[allow(clippy::cast_precision_loss)]
pub fn flat(k: &Kpis) -> BTreeMap<String, f64> {
    let mut m = BTreeMap::new();
    m.insert("requests".to_string(), k.requests as f64);
    m.insert("closed".to_string(), k.closed as f64);
    m.insert("backlog".to_string(), k.backlog as f64);
    m.insert("overdue".to_string(), k.overdue as f64);
    let opt = [
        ("closure_rate", k.closure_rate),
        ("on_time_closure_rate", k.on_time_closure_rate),
        ("proactive_share", k.proactive_share),
        ("utilisation", k.utilisation),
        ("response_mean_h", k.response.map(|r| r.mean_h)),
        ("response_p50_h", k.response.map(|r| r.p50_h)),
        ("response_p90_h", k.response.map(|r| r.p90_h)),
        ("resolution_mean_h", k.resolution.map(|r| r.mean_h)),
        ("resolution_p50_h", k.resolution.map(|r| r.p50_h)),
        ("resolution_p90_h", k.resolution.map(|r| r.p90_h)),
    ];
    for (name, v) in opt {
        if let Some(v) = v {
            m.insert(name.to_string(), v);
        }
    }
    m
}

#[cfg(test)]
mod tests;
