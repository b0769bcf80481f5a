//! The scenario spec of an event-handling run (JSON), and its validation into
//! the compiled form the model runs.

use std::collections::BTreeMap;

use domain::{EventChannel, Priority};
use rand::RngExt as _;
use rand_distr::{Distribution as _, Exp1, StandardNormal};
use scenario::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::calendar::{HOUR, ShiftCalendar, WEEK_HOURS, WeekProfile};

/// A duration distribution, in hours.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum DurationDist {
    /// Always `h` hours.
    Fixed {
        /// Hours.
        h: f64,
    },
    /// Exponential with mean `mean_h`.
    Exponential {
        /// Mean, hours.
        mean_h: f64,
    },
    /// Lognormal with the given mean and standard deviation (of the duration itself).
    Lognormal {
        /// Mean, hours.
        mean_h: f64,
        /// Standard deviation, hours.
        sd_h: f64,
    },
    /// Uniform draw from observed durations (hours), e.g. learned from history.
    Empirical {
        /// Observed durations, hours.
        h: Vec<f64>,
    },
}

impl DurationDist {
    /// The mean in hours.
    pub fn mean_h(&self) -> f64 {
        match self {
            Self::Fixed { h } => *h,
            Self::Exponential { mean_h } | Self::Lognormal { mean_h, .. } => *mean_h,
            #[allow(clippy::cast_precision_loss)]
            Self::Empirical { h } => h.iter().sum::<f64>() / h.len().max(1) as f64,
        }
    }

    fn validate(&self) -> Result<(), String> {
        let ok = |x: f64| x.is_finite() && x >= 0.0;
        let good = match self {
            Self::Fixed { h } => ok(*h),
            Self::Exponential { mean_h } => ok(*mean_h) && *mean_h > 0.0,
            Self::Lognormal { mean_h, sd_h } => ok(*mean_h) && *mean_h > 0.0 && ok(*sd_h),
            Self::Empirical { h } => !h.is_empty() && h.iter().all(|&x| ok(x)),
        };
        if good {
            Ok(())
        } else {
            Err(format!("{self:?}"))
        }
    }

    fn compile(&self) -> Dist {
        let ms = |h: f64| h * HOUR as f64;
        match self {
            Self::Fixed { h } => Dist::Fixed(ms(*h)),
            Self::Exponential { mean_h } => Dist::Exp(ms(*mean_h)),
            Self::Lognormal { mean_h, sd_h } => {
                let s2 = (1.0 + (sd_h / mean_h).powi(2)).ln();
                Dist::LogNormal {
                    mu: ms(*mean_h).ln() - s2 / 2.0,
                    sigma: s2.sqrt(),
                }
            }
            Self::Empirical { h } => Dist::Empirical(h.iter().map(|&x| ms(x)).collect()),
        }
    }
}

/// A compiled duration distribution in ms.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Dist {
    None,
    Fixed(f64),
    Exp(f64),
    LogNormal { mu: f64, sigma: f64 },
    Empirical(Vec<f64>),
}

impl Dist {
    /// Draws a duration in whole ms. Each variant uses a fixed number of
    /// draws per call except the normal's ziggurat; callers give each
    /// purpose its own rng.
    pub(crate) fn sample(&self, rng: &mut ChaCha8Rng) -> u64 {
        let x = match self {
            Self::None => 0.0,
            Self::Fixed(v) => *v,
            Self::Exp(m) => {
                let e: f64 = Exp1.sample(rng);
                e * m
            }
            Self::LogNormal { mu, sigma } => {
                let z: f64 = StandardNormal.sample(rng);
                (mu + sigma * z).exp()
            }
            Self::Empirical(v) => v[rng.random_range(0..v.len())],
        };
        to_ms(x)
    }
}

/// Rounds non-negative finite ms to `u64` (saturating at 1e18), half away
/// from zero as `f64::round` does, without its library call: below 1e18 the
/// fraction `x - trunc(x)` is exact.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
pub(crate) fn to_ms(x: f64) -> u64 {
    if !(x.is_finite() && x > 0.0) {
        return 0;
    }
    if x >= 1.0e18 {
        return 1_000_000_000_000_000_000;
    }
    let whole = x as u64;
    #[allow(clippy::cast_precision_loss)]
    let frac = x - whole as f64;
    whole + u64::from(frac >= 0.5)
}

/// An event type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindSpec {
    /// Name (`pothole`, `noise`, `flooding`).
    pub name: String,
    /// Priority (P1 most urgent).
    pub priority: Priority,
    /// SLA: hours from REPORTED to CLOSED; `None` for no deadline.
    pub sla_h: Option<f64>,
    /// Handling time (IN_PROGRESS to RESOLVED).
    pub service: DurationDist,
    /// REPORTED to DISPATCHED (triage); none if absent.
    #[serde(default)]
    pub dispatch: Option<DurationDist>,
    /// RESOLVED to CLOSED (verification); none if absent.
    #[serde(default)]
    pub verify: Option<DurationDist>,
    /// Channel mix (weights); all citizen calls if empty.
    #[serde(default)]
    pub channels: BTreeMap<EventChannel, f64>,
}

/// A team of workers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamSpec {
    /// Name.
    pub name: String,
    /// The community it serves; `None` for a city-wide team.
    #[serde(default)]
    pub community: Option<String>,
    /// Event types it handles.
    pub kinds: Vec<String>,
    /// Workers on duty over the week.
    pub shifts: ShiftCalendar,
}

/// A stream of arrivals of one type in one community.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArrivalSpec {
    /// Community.
    pub community: String,
    /// Event type.
    pub kind: String,
    /// Mean arrivals per day, shaped over the week by `profile`.
    #[serde(default)]
    pub per_day: Option<f64>,
    /// Name of a profile in [`CitySpec::profiles`] (flat if absent); used with `per_day`.
    #[serde(default)]
    pub profile: Option<String>,
    /// Arrivals per hour for each hour of the week (instead of `per_day`).
    #[serde(default)]
    pub hourly: Option<WeekProfile>,
}

/// A replayed (live) event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplaySpec {
    /// Community.
    pub community: String,
    /// Event type.
    pub kind: String,
    /// REPORTED, ms from the run start.
    pub reported_ms: u64,
    /// Handling time, ms; drawn from the type's distribution if absent.
    #[serde(default)]
    pub service_ms: Option<u64>,
    /// Channel; citizen call if absent.
    #[serde(default)]
    pub channel: Option<EventChannel>,
}

/// Extra demand for a type over a window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Surge {
    /// Event type.
    pub kind: String,
    /// Only this community (all if absent).
    #[serde(default)]
    pub community: Option<String>,
    /// Window start, hours from the run start.
    pub from_h: u64,
    /// Window end (exclusive), hours.
    pub to_h: u64,
    /// Arrival-rate multiplier (2.0 doubles reports).
    pub factor: f64,
}

/// A change in staff.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffChange {
    /// Team.
    pub team: String,
    /// Workers added (negative: removed) whenever the calendar has any.
    pub delta: i32,
    /// Window start, hours (run start if absent).
    #[serde(default)]
    pub from_h: Option<u64>,
    /// Window end (exclusive), hours (run end if absent).
    #[serde(default)]
    pub to_h: Option<u64>,
}

/// A policy change for one event type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyChange {
    /// Event type.
    pub kind: String,
    /// New SLA, hours (`None` keeps it).
    #[serde(default)]
    pub sla_h: Option<f64>,
    /// New priority (`None` keeps it).
    #[serde(default)]
    pub priority: Option<Priority>,
}

/// A what-if: the baseline plus edits.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    /// Name.
    pub name: String,
    /// Demand surges.
    #[serde(default)]
    pub surges: Vec<Surge>,
    /// Staff changes.
    #[serde(default)]
    pub staff: Vec<StaffChange>,
    /// SLA or priority changes.
    #[serde(default)]
    pub policy: Vec<PolicyChange>,
}

/// A complete event-handling scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CitySpec {
    /// Master seed.
    pub seed: u64,
    /// Length of the run in hours (arrivals stop at the horizon and the state
    /// is taken there).
    pub horizon_h: u64,
    /// Hour of the week at the run start (0 = Monday 00:00).
    #[serde(default)]
    pub start_hour_of_week: u8,
    /// Communities.
    pub communities: Vec<String>,
    /// Named weekly shapes for arrivals (normalised to a mean of 1).
    #[serde(default)]
    pub profiles: BTreeMap<String, WeekProfile>,
    /// Event types.
    pub kinds: Vec<KindSpec>,
    /// Teams.
    pub teams: Vec<TeamSpec>,
    /// Arrival streams.
    #[serde(default)]
    pub arrivals: Vec<ArrivalSpec>,
    /// Replayed events.
    #[serde(default)]
    pub replay: Vec<ReplaySpec>,
    /// What-ifs to run against the baseline.
    #[serde(default)]
    pub variants: Vec<Variant>,
}

/// Why a spec cannot run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpecError {
    /// A name is used twice.
    #[error("duplicate {what} {name:?}")]
    Duplicate {
        /// Communities, kinds or teams.
        what: &'static str,
        /// The name.
        name: String,
    },
    /// A reference to an unknown name.
    #[error("unknown {what} {name:?}")]
    Unknown {
        /// Communities, kinds, teams or profiles.
        what: &'static str,
        /// The name.
        name: String,
    },
    /// No team handles a type in a community.
    #[error("no team handles {kind:?} in community {community:?}")]
    NoTeam {
        /// Community.
        community: String,
        /// Type.
        kind: String,
    },
    /// Two teams could handle a type in a community.
    #[error("teams {first:?} and {second:?} both handle {kind:?} in {community:?}")]
    TwoTeams {
        /// Community.
        community: String,
        /// Type.
        kind: String,
        /// One team.
        first: String,
        /// The other.
        second: String,
    },
    /// A value is out of range.
    #[error("invalid {field}: {detail}")]
    Invalid {
        /// Where.
        field: String,
        /// What is wrong.
        detail: String,
    },
}

fn invalid(field: impl Into<String>, detail: impl Into<String>) -> SpecError {
    SpecError::Invalid {
        field: field.into(),
        detail: detail.into(),
    }
}

/// A compiled event type.
#[derive(Debug, Clone)]
pub(crate) struct Kind {
    pub(crate) class: u8,
    pub(crate) priority: Priority,
    pub(crate) sla_ms: Option<u64>,
    pub(crate) service: Dist,
    pub(crate) dispatch: Dist,
    pub(crate) verify: Dist,
    /// cumulative weights with channels
    pub(crate) channels: Vec<(f64, EventChannel)>,
}

/// A compiled arrival stream (one per community and type).
#[derive(Debug, Clone)]
pub(crate) struct Stream {
    pub(crate) community: u32,
    pub(crate) kind: u32,
    pub(crate) team: u32,
    /// arrivals per ms for each hour of the week
    pub(crate) rate: Vec<f64>,
    /// (from hour, to hour, factor)
    pub(crate) surges: Vec<(u64, u64, f64)>,
}

/// A compiled team.
#[derive(Debug, Clone)]
pub(crate) struct Team {
    /// workers for each hour of the week
    pub(crate) weekly: Vec<u32>,
    /// (from hour, to hour, delta)
    pub(crate) changes: Vec<(u64, u64, i64)>,
}

impl Team {
    /// Workers on duty in hour `h` from the run start.
    pub(crate) fn workers(&self, h: u64, start_how: u64) -> u32 {
        let how = usize::try_from((h + start_how) % WEEK_HOURS as u64).expect("< 168");
        let mut w = i64::from(self.weekly[how]);
        for &(a, b, d) in &self.changes {
            if a <= h && h < b {
                w += d;
            }
        }
        u32::try_from(w.max(0)).unwrap_or(u32::MAX)
    }

    /// [`Team::workers`] of hours `0..hours`, stepping the hour of the week.
    pub(crate) fn hourly(&self, hours: u64, start_how: u64) -> impl Iterator<Item = u32> + '_ {
        let mut how = usize::try_from(start_how % WEEK_HOURS as u64).expect("< 168");
        (0..hours).map(move |h| {
            let mut w = i64::from(self.weekly[how]);
            how = if how + 1 == WEEK_HOURS { 0 } else { how + 1 };
            for &(a, b, d) in &self.changes {
                if a <= h && h < b {
                    w += d;
                }
            }
            u32::try_from(w.max(0)).unwrap_or(u32::MAX)
        })
    }
}

/// A spec checked and turned into indices, with one variant's edits applied.
#[derive(Debug, Clone)]
pub(crate) struct Compiled {
    pub(crate) seed: u64,
    pub(crate) horizon_ms: u64,
    pub(crate) start_how: u64,
    pub(crate) communities: Vec<String>,
    pub(crate) kind_names: Vec<String>,
    pub(crate) team_names: Vec<String>,
    pub(crate) kinds: Vec<Kind>,
    pub(crate) teams: Vec<Team>,
    pub(crate) streams: Vec<Stream>,
    /// (stream, reported, service, channel)
    pub(crate) replay: Vec<(u32, u64, Option<u64>, EventChannel)>,
}

fn index_of(names: &[String], what: &'static str) -> Result<BTreeMap<String, u32>, SpecError> {
    let mut m = BTreeMap::new();
    for (i, n) in names.iter().enumerate() {
        let i = u32::try_from(i).map_err(|_| invalid(what, "too many"))?;
        if m.insert(n.clone(), i).is_some() {
            return Err(SpecError::Duplicate {
                what,
                name: n.clone(),
            });
        }
    }
    Ok(m)
}

fn lookup(m: &BTreeMap<String, u32>, what: &'static str, name: &str) -> Result<u32, SpecError> {
    m.get(name).copied().ok_or_else(|| SpecError::Unknown {
        what,
        name: name.to_string(),
    })
}

fn class_of(p: Priority) -> u8 {
    match p {
        Priority::P1 => 0,
        Priority::P2 => 1,
        Priority::P3 => 2,
        Priority::P4 => 3,
    }
}

fn sla_ms(field: &str, sla_h: Option<f64>) -> Result<Option<u64>, SpecError> {
    match sla_h {
        None => Ok(None),
        Some(h) if h.is_finite() && h >= 0.0 => Ok(Some(to_ms(h * HOUR as f64))),
        Some(h) => Err(invalid(field, format!("sla_h {h}"))),
    }
}

impl CitySpec {
    /// Parses a spec from JSON.
    ///
    /// # Errors
    /// The JSON error, with line and column.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// Checks the spec and every variant.
    ///
    /// # Errors
    /// The first problem found.
    pub fn validate(&self) -> Result<(), SpecError> {
        self.compile(None)?;
        for v in &self.variants {
            self.compile(Some(v))?;
        }
        Ok(())
    }

    /// Compiles the baseline (`None`) or a variant.
    #[allow(clippy::too_many_lines)]
    pub(crate) fn compile(&self, variant: Option<&Variant>) -> Result<Compiled, SpecError> {
        if self.horizon_h == 0 {
            return Err(invalid("horizon_h", "must be > 0"));
        }
        if usize::from(self.start_hour_of_week) >= WEEK_HOURS {
            return Err(invalid(
                "start_hour_of_week",
                self.start_hour_of_week.to_string(),
            ));
        }
        let comm = index_of(&self.communities, "community")?;
        let kind_names: Vec<String> = self.kinds.iter().map(|k| k.name.clone()).collect();
        let kinds_ix = index_of(&kind_names, "kind")?;
        let team_names: Vec<String> = self.teams.iter().map(|t| t.name.clone()).collect();
        let teams_ix = index_of(&team_names, "team")?;
        let empty = Variant::default();
        let v = variant.unwrap_or(&empty);

        let mut kinds = Vec::new();
        for k in &self.kinds {
            let field = |f: &str| format!("kinds.{}.{f}", k.name);
            k.service
                .validate()
                .map_err(|e| invalid(field("service"), e))?;
            for (f, d) in [("dispatch", &k.dispatch), ("verify", &k.verify)] {
                if let Some(d) = d {
                    d.validate().map_err(|e| invalid(field(f), e))?;
                }
            }
            let mut priority = k.priority;
            let mut sla = sla_ms(&field("sla_h"), k.sla_h)?;
            for p in v.policy.iter().filter(|p| p.kind == k.name) {
                if let Some(pr) = p.priority {
                    priority = pr;
                }
                if p.sla_h.is_some() {
                    sla = sla_ms(&field("policy.sla_h"), p.sla_h)?;
                }
            }
            let mut channels = Vec::new();
            let mut acc = 0.0;
            for (&ch, &w) in &k.channels {
                if !(w.is_finite() && w >= 0.0) {
                    return Err(invalid(field("channels"), format!("{ch:?} weight {w}")));
                }
                acc += w;
                channels.push((acc, ch));
            }
            if acc <= 0.0 {
                channels = vec![(1.0, EventChannel::CitizenCall)];
            } else {
                for c in &mut channels {
                    c.0 /= acc;
                }
            }
            kinds.push(Kind {
                class: class_of(priority),
                priority,
                sla_ms: sla,
                service: k.service.compile(),
                dispatch: k
                    .dispatch
                    .as_ref()
                    .map_or(Dist::None, DurationDist::compile),
                verify: k.verify.as_ref().map_or(Dist::None, DurationDist::compile),
                channels,
            });
        }
        for p in &v.policy {
            lookup(&kinds_ix, "kind", &p.kind)?;
        }

        // routing: (community, kind) -> team
        let mut local: BTreeMap<(u32, u32), u32> = BTreeMap::new();
        let mut citywide: BTreeMap<u32, u32> = BTreeMap::new();
        let mut teams = Vec::new();
        for (ti, t) in self.teams.iter().enumerate() {
            let ti = u32::try_from(ti).expect("indexed above");
            t.shifts
                .validate()
                .map_err(|e| invalid(format!("teams.{}.shifts", t.name), e))?;
            let c = t
                .community
                .as_deref()
                .map(|c| lookup(&comm, "community", c))
                .transpose()?;
            for kn in &t.kinds {
                let k = lookup(&kinds_ix, "kind", kn)?;
                let prev = match c {
                    Some(c) => local.insert((c, k), ti),
                    None => citywide.insert(k, ti),
                };
                if let Some(prev) = prev {
                    return Err(SpecError::TwoTeams {
                        community: t.community.clone().unwrap_or_default(),
                        kind: kn.clone(),
                        first: self.teams[prev as usize].name.clone(),
                        second: t.name.clone(),
                    });
                }
            }
            teams.push(Team {
                weekly: t.shifts.hourly(),
                changes: Vec::new(),
            });
        }
        for s in &v.staff {
            let t = lookup(&teams_ix, "team", &s.team)?;
            let from = s.from_h.unwrap_or(0);
            let to = s.to_h.unwrap_or(u64::MAX);
            if to <= from {
                return Err(invalid(
                    format!("staff.{}", s.team),
                    format!("window {from}..{to}"),
                ));
            }
            teams[t as usize]
                .changes
                .push((from, to, i64::from(s.delta)));
        }

        let route = |c: u32, k: u32| -> Result<u32, SpecError> {
            local
                .get(&(c, k))
                .or_else(|| citywide.get(&k))
                .copied()
                .ok_or_else(|| SpecError::NoTeam {
                    community: self.communities[c as usize].clone(),
                    kind: kind_names[k as usize].clone(),
                })
        };

        let mut profiles = BTreeMap::new();
        for (name, p) in &self.profiles {
            if p.0.len() != WEEK_HOURS || p.0.iter().any(|x| !(x.is_finite() && *x >= 0.0)) {
                return Err(invalid(
                    format!("profiles.{name}"),
                    "168 finite values >= 0",
                ));
            }
            profiles.insert(name.clone(), p.normalised());
        }

        let mut stream_ix: BTreeMap<(u32, u32), u32> = BTreeMap::new();
        let mut streams: Vec<Stream> = Vec::new();
        let mut stream_for =
            |c: u32, k: u32, streams: &mut Vec<Stream>| -> Result<u32, SpecError> {
                if let Some(&s) = stream_ix.get(&(c, k)) {
                    return Ok(s);
                }
                let team = route(c, k)?;
                let s =
                    u32::try_from(streams.len()).map_err(|_| invalid("arrivals", "too many"))?;
                streams.push(Stream {
                    community: c,
                    kind: k,
                    team,
                    rate: vec![0.0; WEEK_HOURS],
                    surges: Vec::new(),
                });
                stream_ix.insert((c, k), s);
                Ok(s)
            };
        for a in &self.arrivals {
            let field = format!("arrivals.{}.{}", a.community, a.kind);
            let c = lookup(&comm, "community", &a.community)?;
            let k = lookup(&kinds_ix, "kind", &a.kind)?;
            let s = stream_for(c, k, &mut streams)?;
            let per_hour: Vec<f64> = match (a.per_day, &a.hourly) {
                (Some(d), None) => {
                    if !(d.is_finite() && d >= 0.0) {
                        return Err(invalid(field, format!("per_day {d}")));
                    }
                    let shape = match &a.profile {
                        None => WeekProfile::flat(1.0),
                        Some(p) => profiles.get(p).cloned().ok_or_else(|| SpecError::Unknown {
                            what: "profile",
                            name: p.clone(),
                        })?,
                    };
                    shape.0.iter().map(|x| x * d / 24.0).collect()
                }
                (None, Some(h)) => {
                    if h.0.len() != WEEK_HOURS || h.0.iter().any(|x| !(x.is_finite() && *x >= 0.0))
                    {
                        return Err(invalid(field, "hourly needs 168 finite values >= 0"));
                    }
                    h.0.clone()
                }
                _ => return Err(invalid(field, "give exactly one of per_day and hourly")),
            };
            let st = &mut streams[s as usize];
            #[allow(clippy::cast_precision_loss)]
            for (r, x) in st.rate.iter_mut().zip(per_hour) {
                *r += x / HOUR as f64;
            }
        }
        for sg in &v.surges {
            let k = lookup(&kinds_ix, "kind", &sg.kind)?;
            let c = sg
                .community
                .as_deref()
                .map(|c| lookup(&comm, "community", c))
                .transpose()?;
            if !(sg.factor.is_finite() && sg.factor >= 0.0) || sg.to_h <= sg.from_h {
                return Err(invalid(format!("surges.{}", sg.kind), format!("{sg:?}")));
            }
            for st in streams
                .iter_mut()
                .filter(|s| s.kind == k && c.is_none_or(|c| c == s.community))
            {
                st.surges.push((sg.from_h, sg.to_h, sg.factor));
            }
        }
        let mut replay = Vec::new();
        for r in &self.replay {
            let c = lookup(&comm, "community", &r.community)?;
            let k = lookup(&kinds_ix, "kind", &r.kind)?;
            let s = stream_for(c, k, &mut streams)?;
            replay.push((
                s,
                r.reported_ms,
                r.service_ms,
                r.channel.unwrap_or(EventChannel::CitizenCall),
            ));
        }
        Ok(Compiled {
            seed: self.seed,
            horizon_ms: self
                .horizon_h
                .checked_mul(HOUR)
                .ok_or_else(|| invalid("horizon_h", "too large"))?,
            start_how: u64::from(self.start_hour_of_week),
            communities: self.communities.clone(),
            kind_names,
            team_names,
            kinds,
            teams,
            streams,
            replay,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_ms_round_like_f64_round() {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let want = |x: f64| {
            if x.is_finite() && x > 0.0 {
                x.round().min(1.0e18) as u64
            } else {
                0
            }
        };
        let mut xs = vec![
            0.0,
            -0.0,
            -3.5,
            0.49999999999999994,
            0.5,
            1.5,
            2.5,
            4_503_599_627_370_495.5,
            4_503_599_627_370_497.0,
            9.0e17,
            1.0e18 - 64.0,
            1.0e18,
            3.0e19,
            f64::INFINITY,
            f64::NAN,
        ];
        let mut x = 0.123_f64;
        for _ in 0..2000 {
            x = x * 1.37 + 0.25;
            if x > 1.0e19 {
                x = 0.3;
            }
            xs.push(x);
            xs.push(x.floor() + 0.5);
            xs.push(f64::from_bits((x.floor() + 0.5).to_bits() - 1));
        }
        for x in xs {
            assert_eq!(to_ms(x), want(x), "{x:e}");
        }
    }

    #[test]
    fn hourly_workers_step_the_week_like_workers() {
        let team = Team {
            weekly: (0..WEEK_HOURS as u32).map(|h| h % 5).collect(),
            changes: vec![(10, 200, 3), (150, 170, -6)],
        };
        for start in [0, 100, 167, 500] {
            let got: Vec<u32> = team.hourly(400, start).collect();
            let want: Vec<u32> = (0..400).map(|h| team.workers(h, start)).collect();
            assert_eq!(got, want, "start hour of week {start}");
        }
    }
}
