//! Seeded synthetic feeders for benchmarks and robustness tests.
//!
//! A 20 kV radial backbone feeds `substations` 20/0.4 kV transformers; each
//! transformer feeds a random low-voltage tree of `lv_buses` buses with a
//! household load on every bus and rooftop PV on every fifth.

use rand::RngExt as _;
use serde::{Deserialize, Serialize};

use crate::network::{Bus, ExtGrid, Line, Load, Network, Sgen, Trafo};

/// Size and seed of a synthetic feeder.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SyntheticSpec {
    /// Number of MV/LV substations.
    pub substations: usize,
    /// Low-voltage buses per substation.
    pub lv_buses: usize,
    /// Seed.
    pub seed: u64,
}

impl SyntheticSpec {
    /// Total bus count: the slack bus, one MV and one LV-busbar bus per
    /// substation, and the LV trees.
    pub fn bus_count(&self) -> usize {
        1 + self.substations * (2 + self.lv_buses)
    }
}

/// Builds the feeder. Same spec, same network.
pub fn synthetic_feeder(spec: &SyntheticSpec) -> Network {
    let mut rng = scenario::seeded(spec.seed);
    let mut net = Network::empty();
    let bus = |net: &mut Network, vn_kv: f64| {
        let index = net.bus.len() as i64;
        net.bus.push(Bus {
            index,
            name: format!("bus {index}"),
            vn_kv,
            in_service: true,
            min_vm_pu: None,
            max_vm_pu: None,
        });
        index
    };
    let line = |net: &mut Network, f: i64, t: i64, km: f64, mv: bool| {
        let index = net.line.len() as i64;
        let (r, x, c, imax) = if mv {
            (0.161, 0.117, 273.0, 0.362) // NA2XS2Y 1x185 RM/25 12/20 kV
        } else {
            (0.208, 0.08, 261.0, 0.27) // NAYY 4x150 SE 0.6/1 kV
        };
        net.line.push(Line {
            index,
            name: format!("line {index}"),
            from_bus: f,
            to_bus: t,
            length_km: km,
            r_ohm_per_km: r,
            x_ohm_per_km: x,
            c_nf_per_km: c,
            g_us_per_km: 0.0,
            max_i_ka: imax,
            df: 1.0,
            parallel: 1.0,
            in_service: true,
        });
    };
    let slack = bus(&mut net, 20.0);
    net.ext_grid.push(ExtGrid {
        index: 0,
        bus: slack,
        vm_pu: 1.02,
        va_degree: 0.0,
        in_service: true,
    });
    let mut mv_buses = vec![slack];
    for s in 0..spec.substations {
        let mv = bus(&mut net, 20.0);
        // three backbones from the slack, each substation hanging on the
        // one three places before it
        let from = mv_buses[(s + 1).saturating_sub(3)];
        line(&mut net, from, mv, 0.3 + 0.7 * rng.random::<f64>(), true);
        mv_buses.push(mv);
        let lv0 = bus(&mut net, 0.4);
        let t_index = net.trafo.len() as i64;
        net.trafo.push(Trafo {
            index: t_index,
            name: format!("substation {s}"),
            hv_bus: mv,
            lv_bus: lv0,
            sn_mva: 0.63,
            vn_hv_kv: 20.0,
            vn_lv_kv: 0.4,
            vk_percent: 6.0,
            vkr_percent: 1.206,
            pfe_kw: 1.15,
            i0_percent: 0.2,
            shift_degree: 150.0,
            leakage_resistance_ratio_hv: 0.5,
            leakage_reactance_ratio_hv: 0.5,
            tap: None,
            tap2: None,
            parallel: 1.0,
            df: 1.0,
            in_service: true,
        });
        let mut lv = vec![lv0];
        for _ in 0..spec.lv_buses {
            // a random recursive tree: depth grows with the log of its size
            let k = lv.len();
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // in 0..k
            let parent = lv[((k as f64) * rng.random::<f64>()) as usize];
            let b = bus(&mut net, 0.4);
            line(
                &mut net,
                parent,
                b,
                0.02 + 0.03 * rng.random::<f64>(),
                false,
            );
            let p_kw = 0.5 + 2.0 * rng.random::<f64>(); // after diversity
            let li = net.load.len() as i64;
            net.load.push(Load::constant_power(
                li,
                format!("household {li}"),
                b,
                p_kw / 1000.0,
                p_kw / 1000.0 * 0.329,
            ));
            if k % 5 == 0 {
                let gi = net.sgen.len() as i64;
                let kwp = 4.0 + 6.0 * rng.random::<f64>();
                net.sgen.push(Sgen {
                    index: gi,
                    name: format!("PV {gi}"),
                    bus: b,
                    p_mw: kwp / 1000.0 * 0.5,
                    q_mvar: 0.0,
                    sn_mva: Some(kwp / 1000.0),
                    scaling: 1.0,
                    in_service: true,
                    kind: "PV".into(),
                    profile: String::new(),
                });
            }
            lv.push(b);
        }
    }
    net
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::powerflow::{PfOptions, run_pf};

    #[test]
    fn synthetic_feeders_repeat_per_seed_and_solve() {
        let spec = SyntheticSpec {
            substations: 4,
            lv_buses: 30,
            seed: 3,
        };
        let a = synthetic_feeder(&spec);
        assert_eq!(a, synthetic_feeder(&spec));
        assert_ne!(a, synthetic_feeder(&SyntheticSpec { seed: 4, ..spec }));
        assert_eq!(a.bus.len(), spec.bus_count());
        let r = run_pf(&a, PfOptions::default()).unwrap();
        assert!(r.isolated_buses.is_empty());
        let vmin = r.bus.iter().map(|b| b.vm_pu).fold(2.0, f64::min);
        assert!(vmin > 0.95 && vmin < 1.02, "{vmin}");
        assert!(r.losses_mw > 0.0);
    }
}
