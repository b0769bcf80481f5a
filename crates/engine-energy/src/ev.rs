//! EV charging sessions and their schedules.
//!
//! A **session** is one plug-in: arrival and departure steps, the energy the
//! driver needs and the charger's power limit. **Uncontrolled** charging
//! draws full power from arrival until the energy is delivered. **Smart**
//! charging fills the valleys of the feeder's demand: sessions are placed one
//! by one (earliest departure first) at the lowest level of the running total
//! that delivers their energy before departure ("water filling").

use rand::RngExt as _;
use serde::{Deserialize, Serialize};

/// One charging session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvSession {
    /// Identifier, unique within a run.
    pub id: u32,
    /// pandapower bus index of the charger.
    pub bus: i64,
    /// First step plugged in.
    pub arrival_step: usize,
    /// First step no longer plugged in (exclusive).
    pub departure_step: usize,
    /// Energy requested, kWh.
    pub energy_kwh: f64,
    /// Charger power limit, kW.
    pub max_kw: f64,
}

/// How sessions are charged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChargingStrategy {
    /// Full power from arrival.
    #[default]
    Uncontrolled,
    /// Valley filling against the base demand.
    Smart,
}

/// A charging schedule.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EvSchedule {
    /// Per session (input order): power per step in `[arrival, departure)`, kW.
    pub power_kw: Vec<Vec<f64>>,
    /// Per session: energy not delivered by departure, kWh.
    pub unmet_kwh: Vec<f64>,
    /// Sum of all sessions per step, kW.
    pub total_kw: Vec<f64>,
}

/// Schedules `sessions` over `steps` steps of `dt_h` hours. `base_kw` is the
/// demand the smart strategy fills around (ignored by uncontrolled charging).
pub fn schedule(
    sessions: &[EvSession],
    base_kw: &[f64],
    steps: usize,
    dt_h: f64,
    strategy: ChargingStrategy,
) -> EvSchedule {
    let mut out = EvSchedule {
        power_kw: vec![Vec::new(); sessions.len()],
        unmet_kwh: vec![0.0; sessions.len()],
        total_kw: vec![0.0; steps],
    };
    let mut order: Vec<usize> = (0..sessions.len()).collect();
    if strategy == ChargingStrategy::Smart {
        order.sort_by_key(|&i| {
            (
                sessions[i].departure_step,
                sessions[i].arrival_step,
                sessions[i].id,
            )
        });
    }
    let mut level: Vec<f64> = (0..steps)
        .map(|t| base_kw.get(t).copied().unwrap_or(0.0))
        .collect();
    for i in order {
        let s = &sessions[i];
        let (a, d) = (s.arrival_step.min(steps), s.departure_step.min(steps));
        let window = d.saturating_sub(a);
        let mut p = vec![0.0; window];
        let cap = s.max_kw.max(0.0);
        let need = s.energy_kwh.max(0.0);
        match strategy {
            ChargingStrategy::Uncontrolled => {
                let mut left = need;
                for x in &mut p {
                    if left <= 0.0 {
                        break;
                    }
                    *x = cap.min(left / dt_h);
                    left -= *x * dt_h;
                }
            }
            ChargingStrategy::Smart => {
                let slice = &level[a..d];
                let deliver =
                    |l: f64| -> f64 { slice.iter().map(|&b| (l - b).clamp(0.0, cap) * dt_h).sum() };
                let lo0 = slice.iter().copied().fold(f64::INFINITY, f64::min);
                let hi0 = slice.iter().copied().fold(f64::NEG_INFINITY, f64::max) + cap;
                if window > 0 && deliver(hi0) <= need {
                    p.iter_mut().for_each(|x| *x = cap);
                } else if window > 0 && need > 0.0 {
                    let (mut lo, mut hi) = (lo0, hi0);
                    for _ in 0..100 {
                        let mid = 0.5 * (lo + hi);
                        if deliver(mid) < need {
                            lo = mid;
                        } else {
                            hi = mid;
                        }
                    }
                    for (x, &b) in p.iter_mut().zip(slice) {
                        *x = (hi - b).clamp(0.0, cap);
                    }
                    // remove the bisection's overshoot proportionally
                    let got: f64 = p.iter().sum::<f64>() * dt_h;
                    if got > 0.0 {
                        let k = (need / got).min(1.0);
                        p.iter_mut().for_each(|x| *x *= k);
                    }
                }
            }
        }
        let delivered: f64 = p.iter().sum::<f64>() * dt_h;
        out.unmet_kwh[i] = (need - delivered).max(0.0);
        for (k, &x) in p.iter().enumerate() {
            level[a + k] += x;
            out.total_kw[a + k] += x;
        }
        out.power_kw[i] = p;
    }
    out
}

/// Parameters of synthetic home-charging sessions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EvFleet {
    /// Charger power, kW.
    pub charger_kw: f64,
    /// Mean arrival, hour of day.
    pub arrival_hour: f64,
    /// Spread of arrivals (uniform half-width), hours.
    pub arrival_spread_h: f64,
    /// Departure, hour of the next day.
    pub departure_hour: f64,
    /// Energy per session, kWh: uniform in `[min, max]`.
    pub energy_min_kwh: f64,
    /// See `energy_min_kwh`.
    pub energy_max_kwh: f64,
}

impl Default for EvFleet {
    fn default() -> Self {
        Self {
            charger_kw: 7.0,
            arrival_hour: 18.5,
            arrival_spread_h: 2.0,
            departure_hour: 7.5,
            energy_min_kwh: 5.0,
            energy_max_kwh: 20.0,
        }
    }
}

/// One session per charger per day, drawn from `rng` (deterministic for a seed).
pub fn synthetic_sessions(
    fleet: &EvFleet,
    buses: &[i64],
    days: usize,
    steps_per_hour: usize,
    rng: &mut scenario::ChaCha8Rng,
) -> Vec<EvSession> {
    let mut out = Vec::new();
    let sph = steps_per_hour as f64;
    let mut id = 0;
    for day in 0..days {
        for &bus in buses {
            let arr_h =
                fleet.arrival_hour + fleet.arrival_spread_h * (2.0 * rng.random::<f64>() - 1.0);
            let e = fleet.energy_min_kwh
                + (fleet.energy_max_kwh - fleet.energy_min_kwh) * rng.random::<f64>();
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            // small, non-negative
            let to_step = |h: f64| ((day as f64 * 24.0 + h) * sph).round().max(0.0) as usize;
            out.push(EvSession {
                id,
                bus,
                arrival_step: to_step(arr_h),
                departure_step: to_step(24.0 + fleet.departure_hour),
                energy_kwh: e,
                max_kw: fleet.charger_kw,
            });
            id += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(id: u32, a: usize, d: usize, e: f64) -> EvSession {
        EvSession {
            id,
            bus: 0,
            arrival_step: a,
            departure_step: d,
            energy_kwh: e,
            max_kw: 10.0,
        }
    }

    #[test]
    fn uncontrolled_charges_at_full_power_from_arrival() {
        let sch = schedule(
            &[s(0, 2, 10, 5.0)],
            &[],
            12,
            0.25,
            ChargingStrategy::Uncontrolled,
        );
        assert_eq!(sch.power_kw[0][..3], [10.0, 10.0, 0.0]);
        assert_eq!(sch.total_kw[2], 10.0);
        assert_eq!(sch.unmet_kwh[0], 0.0);
    }

    #[test]
    fn smart_charging_fills_the_valley_and_delivers_the_energy() {
        let base = [50.0, 50.0, 10.0, 10.0, 50.0];
        let sch = schedule(&[s(0, 0, 5, 5.0)], &base, 5, 1.0, ChargingStrategy::Smart);
        let p = &sch.power_kw[0];
        assert!((p.iter().sum::<f64>() - 5.0).abs() < 1e-9);
        assert!(p[0] == 0.0 && p[1] == 0.0 && p[4] == 0.0);
        assert!((p[2] - 2.5).abs() < 1e-9 && (p[3] - 2.5).abs() < 1e-9);
    }

    #[test]
    fn an_impossible_request_reports_unmet_energy() {
        let sch = schedule(&[s(0, 0, 2, 30.0)], &[], 4, 1.0, ChargingStrategy::Smart);
        assert!((sch.unmet_kwh[0] - 10.0).abs() < 1e-9);
        let sch = schedule(
            &[s(0, 0, 2, 30.0)],
            &[],
            4,
            1.0,
            ChargingStrategy::Uncontrolled,
        );
        assert!((sch.unmet_kwh[0] - 10.0).abs() < 1e-9);
    }

    #[test]
    fn synthetic_sessions_repeat_for_a_seed() {
        let f = EvFleet::default();
        let a = synthetic_sessions(&f, &[1, 2], 3, 4, &mut scenario::seeded(5));
        let b = synthetic_sessions(&f, &[1, 2], 3, 4, &mut scenario::seeded(5));
        let c = synthetic_sessions(&f, &[1, 2], 3, 4, &mut scenario::seeded(6));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.len(), 6);
        assert!(a.iter().all(|s| s.departure_step > s.arrival_step));
    }
}
