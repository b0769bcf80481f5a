//! Feeder KPIs accumulated over a time series.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::network::Network;
use crate::timeseries::StepState;

/// Limits that turn states into violations.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Lower voltage limit, pu, for buses without `min_vm_pu`.
    pub vm_min_pu: f64,
    /// Upper voltage limit, pu, for buses without `max_vm_pu`.
    pub vm_max_pu: f64,
    /// Loading that counts as "high", %.
    pub loading_high_percent: f64,
    /// Loading that counts as an overload, %.
    pub loading_max_percent: f64,
}

impl Default for Limits {
    /// ±7 % of nominal voltage (GB/T 12325 for 20 kV and below, three-phase),
    /// 80 % and 100 % loading.
    fn default() -> Self {
        Self {
            vm_min_pu: 0.93,
            vm_max_pu: 1.07,
            loading_high_percent: 80.0,
            loading_max_percent: 100.0,
        }
    }
}

impl Limits {
    /// The voltage band of bus `p` (position in `net.bus`).
    pub fn band(&self, net: &Network, p: usize) -> (f64, f64) {
        let b = &net.bus[p];
        (
            b.min_vm_pu.unwrap_or(self.vm_min_pu),
            b.max_vm_pu.unwrap_or(self.vm_max_pu),
        )
    }
}

/// KPIs of one run. Energies in kWh, powers in kW, CO₂ in kg.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Kpis {
    /// Steps simulated.
    pub steps: usize,
    /// Hours simulated.
    pub hours: f64,
    /// Largest import from the external grid, kW.
    pub peak_import_kw: f64,
    /// Mean import over peak import.
    pub load_factor: f64,
    /// Energy imported, kWh.
    pub grid_import_kwh: f64,
    /// Energy exported (reverse flow), kWh.
    pub grid_export_kwh: f64,
    /// Hours with reverse flow at the external grid.
    pub reverse_flow_hours: f64,
    /// Energy consumed by loads (including EV charging), kWh.
    pub load_kwh: f64,
    /// Net energy into storage (charging minus discharging), kWh.
    pub storage_net_kwh: f64,
    /// PV (static generator) energy, kWh.
    pub pv_yield_kwh: f64,
    /// Share of PV energy used inside the feeder.
    pub self_consumption: f64,
    /// Share of load energy not imported.
    pub self_sufficiency: f64,
    /// Line and transformer losses, kWh.
    pub losses_kwh: f64,
    /// Losses over energy entering the feeder (import + PV), %.
    pub losses_percent: f64,
    /// Largest transformer loading, %.
    pub trafo_loading_max_percent: f64,
    /// Hours any transformer is above the "high" loading.
    pub trafo_hours_above_high: f64,
    /// Hours any transformer is overloaded.
    pub trafo_hours_above_max: f64,
    /// Largest line loading, %.
    pub line_loading_max_percent: f64,
    /// Hours any line is above the "high" loading.
    pub line_hours_above_high: f64,
    /// Hours any line is overloaded.
    pub line_hours_above_max: f64,
    /// Lowest bus voltage, pu.
    pub vm_min_pu: f64,
    /// Highest bus voltage, pu.
    pub vm_max_pu: f64,
    /// Sum over buses of hours outside the voltage band.
    pub bus_hours_outside_band: f64,
    /// Largest import with storage taken out (import − storage power), kW.
    pub peak_import_without_storage_kw: f64,
    /// Peak reduction by storage, kW.
    pub storage_peak_reduction_kw: f64,
    /// Emission factor used, kg/kWh.
    pub emission_factor_kg_per_kwh: f64,
    /// CO₂ of the imported energy, kg.
    pub co2_kg: f64,
    /// CO₂ avoided by PV (PV energy × factor), kg.
    pub avoided_co2_kg: f64,
    /// Largest Newton-Raphson iteration count of any step.
    pub max_iterations: usize,
}

impl Kpis {
    /// The KPIs as a name → value map (for [`scenario::compare`]).
    pub fn to_map(&self) -> BTreeMap<String, f64> {
        let v = serde_json::to_value(self).unwrap_or_default();
        v.as_object()
            .map(|o| {
                o.iter()
                    .filter_map(|(k, v)| v.as_f64().map(|x| (k.clone(), x)))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Accumulates [`Kpis`] step by step.
#[derive(Debug, Clone)]
pub struct KpiAccumulator {
    k: Kpis,
    limits: Limits,
    bands: Vec<(f64, f64)>,
    dt_h: f64,
    import_sum_kw: f64,
}

impl KpiAccumulator {
    /// A new accumulator for `net` with steps of `dt_h` hours.
    pub fn new(net: &Network, limits: Limits, emission_factor_kg_per_kwh: f64, dt_h: f64) -> Self {
        Self {
            k: Kpis {
                vm_min_pu: f64::INFINITY,
                vm_max_pu: f64::NEG_INFINITY,
                peak_import_kw: f64::NEG_INFINITY,
                peak_import_without_storage_kw: f64::NEG_INFINITY,
                emission_factor_kg_per_kwh,
                ..Kpis::default()
            },
            limits,
            bands: (0..net.bus.len()).map(|p| limits.band(net, p)).collect(),
            dt_h,
            import_sum_kw: 0.0,
        }
    }

    /// Adds one step.
    pub fn add(&mut self, s: &StepState) {
        let (k, dt, l) = (&mut self.k, self.dt_h, &self.limits);
        k.steps += 1;
        k.hours += dt;
        let grid_kw = s.grid_p_mw * 1000.0;
        k.peak_import_kw = k.peak_import_kw.max(grid_kw);
        k.peak_import_without_storage_kw = k
            .peak_import_without_storage_kw
            .max(grid_kw - s.storage_mw * 1000.0);
        self.import_sum_kw += grid_kw;
        if grid_kw >= 0.0 {
            k.grid_import_kwh += grid_kw * dt;
        } else {
            k.grid_export_kwh -= grid_kw * dt;
            k.reverse_flow_hours += dt;
        }
        k.load_kwh += s.load_mw * 1000.0 * dt;
        k.pv_yield_kwh += s.sgen_mw * 1000.0 * dt;
        k.storage_net_kwh += s.storage_mw * 1000.0 * dt;
        k.losses_kwh += s.losses_mw * 1000.0 * dt;
        let tmax = s.trafo_loading_percent.iter().copied().fold(0.0, f64::max);
        k.trafo_loading_max_percent = k.trafo_loading_max_percent.max(tmax);
        if tmax > l.loading_high_percent {
            k.trafo_hours_above_high += dt;
        }
        if tmax > l.loading_max_percent {
            k.trafo_hours_above_max += dt;
        }
        let lmax = s.line_loading_percent.iter().copied().fold(0.0, f64::max);
        k.line_loading_max_percent = k.line_loading_max_percent.max(lmax);
        if lmax > l.loading_high_percent {
            k.line_hours_above_high += dt;
        }
        if lmax > l.loading_max_percent {
            k.line_hours_above_max += dt;
        }
        for (&vm, &(lo, hi)) in s.vm_pu.iter().zip(&self.bands) {
            if vm.is_nan() {
                continue;
            }
            k.vm_min_pu = k.vm_min_pu.min(vm);
            k.vm_max_pu = k.vm_max_pu.max(vm);
            if vm < lo || vm > hi {
                k.bus_hours_outside_band += dt;
            }
        }
        k.max_iterations = k.max_iterations.max(s.iterations);
    }

    /// The KPIs so far.
    pub fn finish(&self) -> Kpis {
        let mut k = self.k.clone();
        if k.steps == 0 {
            return Kpis::default();
        }
        #[allow(clippy::cast_precision_loss)] // step counts are small
        let mean = self.import_sum_kw / k.steps as f64;
        k.load_factor = if k.peak_import_kw > 0.0 {
            mean / k.peak_import_kw
        } else {
            0.0
        };
        k.self_consumption = if k.pv_yield_kwh > 0.0 {
            ((k.pv_yield_kwh - k.grid_export_kwh) / k.pv_yield_kwh).clamp(0.0, 1.0)
        } else {
            0.0
        };
        k.self_sufficiency = if k.load_kwh > 0.0 {
            (1.0 - k.grid_import_kwh / k.load_kwh).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let inflow = k.grid_import_kwh + k.pv_yield_kwh;
        k.losses_percent = if inflow > 0.0 {
            k.losses_kwh / inflow * 100.0
        } else {
            0.0
        };
        k.storage_peak_reduction_kw = k.peak_import_without_storage_kw - k.peak_import_kw;
        k.co2_kg = k.grid_import_kwh * k.emission_factor_kg_per_kwh;
        k.avoided_co2_kg = k.pv_yield_kwh * k.emission_factor_kg_per_kwh;
        k
    }
}
