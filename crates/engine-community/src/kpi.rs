//! Event-handling KPIs over incident records: the live link between the
//! operations centre's incidents, simulated runs and the governance indicators.

use std::collections::BTreeMap;

use domain::{EventChannel, Priority, Timestamp};
use serde::{Deserialize, Serialize};

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

#[derive(Debug, Clone, Default)]
struct Acc {
    requests: u64,
    closed: u64,
    with_due: u64,
    closed_on_time: u64,
    source_on_time: u64,
    proactive: u64,
    backlog: u64,
    overdue: u64,
    negative: u64,
    response: Vec<i64>,
    resolution: Vec<i64>,
}

#[allow(clippy::cast_precision_loss)]
fn ratio(a: u64, b: u64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

/// Linear-interpolation percentile (`q` in 0..=1) by selection: reorders `v`.
#[allow(clippy::cast_precision_loss)]
fn percentile(v: &mut [i64], q: f64) -> f64 {
    let h = (v.len() - 1) as f64 * q;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let lo = h.floor() as usize;
    let (_, &mut a, rest) = v.select_nth_unstable(lo);
    let a = a as f64;
    // the next order statistic is the smallest value above position `lo`
    let b = rest.iter().copied().min().map_or(a, |b| b as f64);
    a + (h - lo as f64) * (b - a)
}

/// Mean, median and 90th percentile of ms durations, in hours (reorders `v`).
fn time_stats(v: &mut [i64]) -> Option<TimeStats> {
    if v.is_empty() {
        return None;
    }
    #[allow(clippy::cast_precision_loss)]
    let mean = v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64;
    Some(TimeStats {
        n: v.len() as u64,
        mean_h: mean / HOUR_MS,
        p50_h: percentile(v, 0.5) / HOUR_MS,
        p90_h: percentile(v, 0.9) / HOUR_MS,
    })
}

impl Acc {
    fn finish(mut self) -> Kpis {
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
            response: time_stats(&mut self.response),
            resolution: time_stats(&mut self.resolution),
            negative_durations: self.negative,
            utilisation: None,
        }
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

impl Acc {
    fn add(&mut self, f: &Facts) {
        self.requests += 1;
        self.closed += u64::from(f.closed);
        self.with_due += u64::from(f.with_due);
        self.closed_on_time += u64::from(f.on_time);
        self.source_on_time += u64::from(f.source_on_time);
        self.proactive += u64::from(f.proactive);
        self.backlog += u64::from(f.open);
        self.overdue += u64::from(f.overdue);
        for (d, v) in [
            (f.response, &mut self.response),
            (f.resolution, &mut self.resolution),
        ] {
            match d {
                Some(d) if d >= 0 => v.push(d),
                Some(_) => self.negative += 1,
                None => {}
            }
        }
    }
}

fn latest(i: &Incident) -> i64 {
    [i.dispatched, i.started, i.resolved, i.closed]
        .into_iter()
        .flatten()
        .fold(i.reported, i64::max)
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

/// [`aggregate`] over any re-iterable source of incidents (it is walked up to
/// three times), so a simulation need not materialise them.
///
/// # Panics
/// If an index is outside its [`Names`] table.
pub fn aggregate_iter<I>(incidents: I, names: &Names, opts: &KpiOptions) -> KpiReport
where
    I: Iterator<Item = Incident> + Clone,
{
    let as_of = opts
        .as_of_ms
        .unwrap_or_else(|| incidents.clone().map(|i| latest(&i)).max().unwrap_or(0));
    let first = incidents.clone().map(|i| i.reported).min().unwrap_or(0);
    let origin = opts
        .day_origin_ms
        .unwrap_or_else(|| first.div_euclid(DAY_MS) * DAY_MS);
    let mut city = Acc::default();
    let mut comm = vec![Acc::default(); names.communities.len()];
    let mut team = vec![Acc::default(); names.teams.len()];
    let kept = incidents.filter(move |i| i.reported <= as_of);
    let day_of = |t: i64| (t - origin).div_euclid(DAY_MS);
    let (d0, d1) = kept.clone().fold((i64::MAX, i64::MIN), |(a, b), i| {
        let d = day_of(i.reported);
        (a.min(d), b.max(d))
    });
    let n_days = if d0 > d1 {
        0
    } else {
        usize::try_from(d1 - d0 + 1).expect("day span fits usize")
    };
    let mut days = vec![Acc::default(); n_days];
    // open/overdue at the end of each day by difference arrays
    let mut open_diff = vec![0i64; n_days + 1];
    let mut overdue_diff = vec![0i64; n_days + 1];
    // first day index whose end is >= t (clamped to the span)
    let first_end_at_or_after = |t: i64| -> usize {
        let d = (t - origin - 1).div_euclid(DAY_MS) - d0; // end_of(d) >= t
        usize::try_from(d.max(0)).unwrap_or(0).min(n_days)
    };
    for i in kept {
        let f = facts(&i, as_of);
        city.add(&f);
        comm[i.community as usize].add(&f);
        team[i.team as usize].add(&f);
        let rd = usize::try_from(day_of(i.reported) - d0).expect("inside the span");
        // the cohort's KPIs as of the report's as_of
        days[rd].add(&f);
        // open at end of day d: reported <= end(d) (true from rd on) and
        // not closed by end(d) (closed > end(d)), with closure seen by as_of
        let closed_day = i
            .closed
            .filter(|&c| c <= as_of)
            .map_or(n_days, first_end_at_or_after);
        if closed_day > rd {
            open_diff[rd] += 1;
            open_diff[closed_day] -= 1;
            if let Some(due) = i.due {
                // overdue at end(d) when due < end(d): first d with end(d) > due
                let od = first_end_at_or_after(due + 1).max(rd);
                if od < closed_day {
                    overdue_diff[od] += 1;
                    overdue_diff[closed_day] -= 1;
                }
            }
        }
    }
    let mut open = 0i64;
    let mut over = 0i64;
    let by_day = days
        .into_iter()
        .enumerate()
        .map(|(d, acc)| {
            open += open_diff[d];
            over += overdue_diff[d];
            DayKpis {
                day: d0 + i64::try_from(d).expect("small"),
                reported: acc.finish(),
                open_at_end: u64::try_from(open).expect("non-negative"),
                overdue_at_end: u64::try_from(over).expect("non-negative"),
            }
        })
        .collect();
    let named = |accs: Vec<Acc>, names: &[String]| -> BTreeMap<String, Kpis> {
        accs.into_iter()
            .zip(names)
            .filter(|(a, _)| a.requests > 0)
            .map(|(a, n)| (n.clone(), a.finish()))
            .collect()
    };
    KpiReport {
        as_of_ms: as_of,
        day_origin_ms: origin,
        city: city.finish(),
        by_community: named(comm, &names.communities),
        by_team: named(team, &names.teams),
        by_day,
    }
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
