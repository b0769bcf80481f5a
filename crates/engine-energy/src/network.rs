//! The network model: pandapower element tables with pandapower's names.
//!
//! Every element keeps the pandapower `index` it had in its table, so results
//! line up with pandapower's `res_*` tables row by row.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::csv::Table;
use crate::error::NetError;

/// A bus (node) of the network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bus {
    /// pandapower index.
    pub index: i64,
    /// Name.
    pub name: String,
    /// Nominal voltage, line-to-line, kV.
    pub vn_kv: f64,
    /// Whether the bus is in service.
    pub in_service: bool,
    /// Lower voltage limit for violations, pu (`min_vm_pu`), if given.
    pub min_vm_pu: Option<f64>,
    /// Upper voltage limit for violations, pu (`max_vm_pu`), if given.
    pub max_vm_pu: Option<f64>,
}

/// A line (π model with series impedance and shunt capacitance per km).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    /// pandapower index.
    pub index: i64,
    /// Name.
    pub name: String,
    /// From bus index.
    pub from_bus: i64,
    /// To bus index.
    pub to_bus: i64,
    /// Length, km.
    pub length_km: f64,
    /// Series resistance, Ω/km.
    pub r_ohm_per_km: f64,
    /// Series reactance, Ω/km.
    pub x_ohm_per_km: f64,
    /// Shunt capacitance, nF/km.
    pub c_nf_per_km: f64,
    /// Shunt conductance, µS/km.
    pub g_us_per_km: f64,
    /// Thermal current limit, kA.
    pub max_i_ka: f64,
    /// Derating factor.
    pub df: f64,
    /// Number of parallel systems.
    pub parallel: f64,
    /// Whether the line is in service.
    pub in_service: bool,
}

/// How a tap changer acts (pandapower `tap_changer_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TapChanger {
    /// Changes the voltage ratio (and angle if `tap_step_degree` is set).
    Ratio,
    /// Same model as `Ratio` in pandapower's power flow.
    Symmetrical,
    /// An ideal phase shifter: changes only the angle.
    Ideal,
}

/// A tap changer of a two-winding transformer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tap {
    /// Which winding carries the tap (`true` = high-voltage side).
    pub hv_side: bool,
    /// Neutral position.
    pub neutral: f64,
    /// Current position.
    pub pos: f64,
    /// Voltage change per step, %.
    pub step_percent: Option<f64>,
    /// Angle change per step, degrees.
    pub step_degree: Option<f64>,
    /// The model.
    pub changer: TapChanger,
}

/// A two-winding transformer (pandapower `trafo`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trafo {
    /// pandapower index.
    pub index: i64,
    /// Name.
    pub name: String,
    /// High-voltage bus.
    pub hv_bus: i64,
    /// Low-voltage bus.
    pub lv_bus: i64,
    /// Rated power, MVA.
    pub sn_mva: f64,
    /// Rated high voltage, kV.
    pub vn_hv_kv: f64,
    /// Rated low voltage, kV.
    pub vn_lv_kv: f64,
    /// Short-circuit voltage, %.
    pub vk_percent: f64,
    /// Real part of the short-circuit voltage, %.
    pub vkr_percent: f64,
    /// Iron losses, kW.
    pub pfe_kw: f64,
    /// Open-loop current, %.
    pub i0_percent: f64,
    /// Phase shift of the vector group, degrees (low side lags by this angle).
    pub shift_degree: f64,
    /// Share of the leakage resistance on the high side (T model), default 0.5.
    pub leakage_resistance_ratio_hv: f64,
    /// Share of the leakage reactance on the high side (T model), default 0.5.
    pub leakage_reactance_ratio_hv: f64,
    /// The tap changer, if one acts.
    pub tap: Option<Tap>,
    /// A second tap changer (`tap2_*` columns), if one acts.
    pub tap2: Option<Tap>,
    /// Number of parallel units.
    pub parallel: f64,
    /// Derating factor.
    pub df: f64,
    /// Whether the transformer is in service.
    pub in_service: bool,
}

/// What a switch connects its bus to (pandapower `et`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum SwitchKind {
    /// `b`: another bus.
    Bus,
    /// `l`: the end of a line.
    Line,
    /// `t`: one side of a transformer.
    Trafo,
}

/// A switch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Switch {
    /// pandapower index.
    pub index: i64,
    /// The bus the switch sits at.
    pub bus: i64,
    /// The other bus, line or transformer.
    pub element: i64,
    /// What `element` is.
    pub et: SwitchKind,
    /// Whether it is closed.
    pub closed: bool,
    /// Impedance of a closed bus-bus switch, Ω (0 fuses the buses).
    pub z_ohm: f64,
}

/// A load (positive `p_mw` consumes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Load {
    /// pandapower index.
    pub index: i64,
    /// Name.
    pub name: String,
    /// Bus.
    pub bus: i64,
    /// Active power, MW.
    pub p_mw: f64,
    /// Reactive power, Mvar.
    pub q_mvar: f64,
    /// Constant-impedance share of P, %.
    pub const_z_p_percent: f64,
    /// Constant-current share of P, %.
    pub const_i_p_percent: f64,
    /// Constant-impedance share of Q, %.
    pub const_z_q_percent: f64,
    /// Constant-current share of Q, %.
    pub const_i_q_percent: f64,
    /// Scaling factor.
    pub scaling: f64,
    /// Whether in service.
    pub in_service: bool,
    /// Profile name (SimBench `profile` column), empty if none.
    pub profile: String,
}

impl Load {
    /// An in-service constant-power load (no voltage dependence, scaling 1,
    /// no profile).
    pub fn constant_power(
        index: i64,
        name: impl Into<String>,
        bus: i64,
        p_mw: f64,
        q_mvar: f64,
    ) -> Self {
        Self {
            index,
            name: name.into(),
            bus,
            p_mw,
            q_mvar,
            const_z_p_percent: 0.0,
            const_i_p_percent: 0.0,
            const_z_q_percent: 0.0,
            const_i_q_percent: 0.0,
            scaling: 1.0,
            in_service: true,
            profile: String::new(),
        }
    }
}

/// A static generator such as a PV inverter (positive `p_mw` generates).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sgen {
    /// pandapower index.
    pub index: i64,
    /// Name.
    pub name: String,
    /// Bus.
    pub bus: i64,
    /// Active power, MW.
    pub p_mw: f64,
    /// Reactive power, Mvar.
    pub q_mvar: f64,
    /// Rated power, MVA (for PV: the kWp/1000 if no better figure).
    pub sn_mva: Option<f64>,
    /// Scaling factor.
    pub scaling: f64,
    /// Whether in service.
    pub in_service: bool,
    /// The `type` column (`PV`, `WP`, ...).
    pub kind: String,
    /// Profile name, empty if none.
    pub profile: String,
}

/// A storage unit (positive `p_mw` charges, i.e. consumes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Storage {
    /// pandapower index.
    pub index: i64,
    /// Name.
    pub name: String,
    /// Bus.
    pub bus: i64,
    /// Active power, MW (positive = charging).
    pub p_mw: f64,
    /// Reactive power, Mvar.
    pub q_mvar: f64,
    /// Rated power, MVA.
    pub sn_mva: Option<f64>,
    /// Usable energy capacity, MWh.
    pub max_e_mwh: f64,
    /// Minimum energy, MWh.
    pub min_e_mwh: f64,
    /// Scaling factor.
    pub scaling: f64,
    /// Whether in service.
    pub in_service: bool,
}

/// An external grid: the slack bus with a fixed voltage phasor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExtGrid {
    /// pandapower index.
    pub index: i64,
    /// Bus.
    pub bus: i64,
    /// Voltage magnitude set point, pu.
    pub vm_pu: f64,
    /// Voltage angle, degrees.
    pub va_degree: f64,
    /// Whether in service.
    pub in_service: bool,
}

/// A distribution network in pandapower's element model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Network {
    /// System frequency, Hz.
    pub f_hz: f64,
    /// System base power, MVA.
    pub sn_mva: f64,
    /// Buses.
    pub bus: Vec<Bus>,
    /// Lines.
    pub line: Vec<Line>,
    /// Two-winding transformers.
    pub trafo: Vec<Trafo>,
    /// Switches.
    pub switch: Vec<Switch>,
    /// Loads.
    pub load: Vec<Load>,
    /// Static generators.
    pub sgen: Vec<Sgen>,
    /// Storage units.
    pub storage: Vec<Storage>,
    /// External grids.
    pub ext_grid: Vec<ExtGrid>,
}

/// Tables this engine does not model; loading fails if one has rows.
const UNSUPPORTED: [&str; 9] = [
    "gen",
    "shunt",
    "impedance",
    "ward",
    "xward",
    "trafo3w",
    "dcline",
    "motor",
    "asymmetric_load",
];

impl Network {
    /// An empty network at 50 Hz on a 1 MVA base.
    pub fn empty() -> Self {
        Self {
            f_hz: 50.0,
            sn_mva: 1.0,
            bus: Vec::new(),
            line: Vec::new(),
            trafo: Vec::new(),
            switch: Vec::new(),
            load: Vec::new(),
            sgen: Vec::new(),
            storage: Vec::new(),
            ext_grid: Vec::new(),
        }
    }

    /// Builds a network from pandapower CSV element tables, keyed by table
    /// name (`"bus"`, `"line"`, `"trafo"`, `"switch"`, `"load"`, `"sgen"`,
    /// `"storage"`, `"ext_grid"`). `bus` and `ext_grid` are required; other
    /// keys (result tables, geodata) are ignored, except element tables this
    /// engine does not model, which are an error when they have rows.
    pub fn from_csv_tables(tables: &BTreeMap<String, String>) -> Result<Self, NetError> {
        for name in UNSUPPORTED {
            if let Some(text) = tables.get(name) {
                let t = Table::parse(name, text)?;
                if !t.rows.is_empty() {
                    return Err(NetError::Unsupported {
                        table: name.to_string(),
                        rows: t.rows.len(),
                    });
                }
            }
        }
        let get = |name: &str| -> Result<Option<Table>, NetError> {
            tables
                .get(name)
                .map(|text| Table::parse(name, text))
                .transpose()
        };
        let bus_t = get("bus")?.ok_or_else(|| NetError::MissingTable("bus".into()))?;
        let eg_t = get("ext_grid")?.ok_or_else(|| NetError::MissingTable("ext_grid".into()))?;
        let mut net = Self::empty();
        net.bus = read_rows(&bus_t, |t, r| {
            Ok(Bus {
                index: t.i64(r, "index")?,
                name: t.str_or_empty(r, "name"),
                vn_kv: t.f64(r, "vn_kv")?,
                in_service: t.bool_or(r, "in_service", true)?,
                min_vm_pu: t.opt_f64(r, "min_vm_pu")?,
                max_vm_pu: t.opt_f64(r, "max_vm_pu")?,
            })
        })?;
        net.ext_grid = read_rows(&eg_t, |t, r| {
            Ok(ExtGrid {
                index: t.i64(r, "index")?,
                bus: t.i64(r, "bus")?,
                vm_pu: t.f64_or(r, "vm_pu", 1.0)?,
                va_degree: t.f64_or(r, "va_degree", 0.0)?,
                in_service: t.bool_or(r, "in_service", true)?,
            })
        })?;
        if let Some(t) = get("line")? {
            net.line = read_rows(&t, |t, r| {
                Ok(Line {
                    index: t.i64(r, "index")?,
                    name: t.str_or_empty(r, "name"),
                    from_bus: t.i64(r, "from_bus")?,
                    to_bus: t.i64(r, "to_bus")?,
                    length_km: t.f64(r, "length_km")?,
                    r_ohm_per_km: t.f64(r, "r_ohm_per_km")?,
                    x_ohm_per_km: t.f64(r, "x_ohm_per_km")?,
                    c_nf_per_km: t.f64_or(r, "c_nf_per_km", 0.0)?,
                    g_us_per_km: t.f64_or(r, "g_us_per_km", 0.0)?,
                    max_i_ka: t.f64(r, "max_i_ka")?,
                    df: t.f64_or(r, "df", 1.0)?,
                    parallel: t.f64_or(r, "parallel", 1.0)?,
                    in_service: t.bool_or(r, "in_service", true)?,
                })
            })?;
        }
        if let Some(t) = get("trafo")? {
            net.trafo = read_rows(&t, read_trafo)?;
        }
        if let Some(t) = get("switch")? {
            net.switch = read_rows(&t, |t, r| {
                let et = match t.str_or_empty(r, "et").as_str() {
                    "b" => SwitchKind::Bus,
                    "l" => SwitchKind::Line,
                    "t" => SwitchKind::Trafo,
                    other => {
                        return Err(NetError::BadValue {
                            table: "switch".into(),
                            row: r,
                            column: "et".into(),
                            value: other.to_string(),
                        });
                    }
                };
                Ok(Switch {
                    index: t.i64(r, "index")?,
                    bus: t.i64(r, "bus")?,
                    element: t.i64(r, "element")?,
                    et,
                    closed: t.bool_or(r, "closed", true)?,
                    z_ohm: t.f64_or(r, "z_ohm", 0.0)?,
                })
            })?;
        }
        if let Some(t) = get("load")? {
            let legacy_zip = t.col("const_z_p_percent").is_none();
            net.load = read_rows(&t, |t, r| {
                let (zp, ip, zq, iq) = if legacy_zip {
                    let z = t.f64_or(r, "const_z_percent", 0.0)?;
                    let i = t.f64_or(r, "const_i_percent", 0.0)?;
                    (z, i, z, i)
                } else {
                    (
                        t.f64_or(r, "const_z_p_percent", 0.0)?,
                        t.f64_or(r, "const_i_p_percent", 0.0)?,
                        t.f64_or(r, "const_z_q_percent", 0.0)?,
                        t.f64_or(r, "const_i_q_percent", 0.0)?,
                    )
                };
                Ok(Load {
                    index: t.i64(r, "index")?,
                    name: t.str_or_empty(r, "name"),
                    bus: t.i64(r, "bus")?,
                    p_mw: t.f64(r, "p_mw")?,
                    q_mvar: t.f64_or(r, "q_mvar", 0.0)?,
                    const_z_p_percent: zp,
                    const_i_p_percent: ip,
                    const_z_q_percent: zq,
                    const_i_q_percent: iq,
                    scaling: t.f64_or(r, "scaling", 1.0)?,
                    in_service: t.bool_or(r, "in_service", true)?,
                    profile: t.str_or_empty(r, "profile"),
                })
            })?;
        }
        if let Some(t) = get("sgen")? {
            net.sgen = read_rows(&t, |t, r| {
                Ok(Sgen {
                    index: t.i64(r, "index")?,
                    name: t.str_or_empty(r, "name"),
                    bus: t.i64(r, "bus")?,
                    p_mw: t.f64(r, "p_mw")?,
                    q_mvar: t.f64_or(r, "q_mvar", 0.0)?,
                    sn_mva: t.opt_f64(r, "sn_mva")?,
                    scaling: t.f64_or(r, "scaling", 1.0)?,
                    in_service: t.bool_or(r, "in_service", true)?,
                    kind: t.str_or_empty(r, "type"),
                    profile: t.str_or_empty(r, "profile"),
                })
            })?;
        }
        if let Some(t) = get("storage")? {
            net.storage = read_rows(&t, |t, r| {
                Ok(Storage {
                    index: t.i64(r, "index")?,
                    name: t.str_or_empty(r, "name"),
                    bus: t.i64(r, "bus")?,
                    p_mw: t.f64(r, "p_mw")?,
                    q_mvar: t.f64_or(r, "q_mvar", 0.0)?,
                    sn_mva: t.opt_f64(r, "sn_mva")?,
                    max_e_mwh: t.f64_or(r, "max_e_mwh", 0.0)?,
                    min_e_mwh: t.f64_or(r, "min_e_mwh", 0.0)?,
                    scaling: t.f64_or(r, "scaling", 1.0)?,
                    in_service: t.bool_or(r, "in_service", true)?,
                })
            })?;
        }
        net.validate()?;
        Ok(net)
    }

    /// Checks indices, references and parameters.
    pub fn validate(&self) -> Result<(), NetError> {
        let buses = unique("bus", self.bus.iter().map(|b| b.index))?;
        let lines = unique("line", self.line.iter().map(|l| l.index))?;
        let trafos = unique("trafo", self.trafo.iter().map(|t| t.index))?;
        unique("switch", self.switch.iter().map(|s| s.index))?;
        unique("load", self.load.iter().map(|s| s.index))?;
        unique("sgen", self.sgen.iter().map(|s| s.index))?;
        unique("storage", self.storage.iter().map(|s| s.index))?;
        unique("ext_grid", self.ext_grid.iter().map(|s| s.index))?;
        let bad = |table: &str, index: i64, reason: String| NetError::BadParameter {
            table: table.to_string(),
            index,
            reason,
        };
        let check_bus = |table: &str, index: i64, bus: i64| {
            if buses.contains(&bus) {
                Ok(())
            } else {
                Err(NetError::UnknownReference {
                    table: table.to_string(),
                    index,
                    what: "bus",
                    reference: bus,
                })
            }
        };
        for b in &self.bus {
            if !positive(b.vn_kv) {
                return Err(bad(
                    "bus",
                    b.index,
                    format!("vn_kv = {} must be > 0", b.vn_kv),
                ));
            }
        }
        for l in &self.line {
            check_bus("line", l.index, l.from_bus)?;
            check_bus("line", l.index, l.to_bus)?;
            if l.in_service {
                if !positive(l.length_km) || !positive(l.parallel) {
                    return Err(bad(
                        "line",
                        l.index,
                        format!(
                            "length_km = {} and parallel = {} must be > 0",
                            l.length_km, l.parallel
                        ),
                    ));
                }
                if l.r_ohm_per_km == 0.0 && l.x_ohm_per_km == 0.0 {
                    return Err(bad("line", l.index, "zero series impedance".into()));
                }
                if !positive(l.max_i_ka) || !positive(l.df) {
                    return Err(bad(
                        "line",
                        l.index,
                        format!("max_i_ka = {} and df = {} must be > 0", l.max_i_ka, l.df),
                    ));
                }
            }
        }
        for t in &self.trafo {
            check_bus("trafo", t.index, t.hv_bus)?;
            check_bus("trafo", t.index, t.lv_bus)?;
            if t.in_service {
                if !positive(t.sn_mva) || !positive(t.vn_hv_kv) || !positive(t.vn_lv_kv) {
                    return Err(bad(
                        "trafo",
                        t.index,
                        format!(
                            "sn_mva = {}, vn_hv_kv = {}, vn_lv_kv = {} must be > 0",
                            t.sn_mva, t.vn_hv_kv, t.vn_lv_kv
                        ),
                    ));
                }
                if !positive(t.vk_percent) || t.vkr_percent > t.vk_percent || t.vkr_percent < 0.0 {
                    return Err(bad(
                        "trafo",
                        t.index,
                        format!(
                            "need 0 <= vkr_percent ({}) <= vk_percent ({}), vk_percent > 0",
                            t.vkr_percent, t.vk_percent
                        ),
                    ));
                }
                if !positive(t.df) || !positive(t.parallel) {
                    return Err(bad("trafo", t.index, format!("df = {} must be > 0", t.df)));
                }
            }
        }
        for s in &self.switch {
            check_bus("switch", s.index, s.bus)?;
            let (what, ok, conn) = match s.et {
                SwitchKind::Bus => ("bus", buses.contains(&s.element), true),
                SwitchKind::Line => {
                    let l = self.line.iter().find(|l| l.index == s.element);
                    (
                        "line",
                        lines.contains(&s.element),
                        l.is_none_or(|l| l.from_bus == s.bus || l.to_bus == s.bus),
                    )
                }
                SwitchKind::Trafo => {
                    let t = self.trafo.iter().find(|t| t.index == s.element);
                    (
                        "trafo",
                        trafos.contains(&s.element),
                        t.is_none_or(|t| t.hv_bus == s.bus || t.lv_bus == s.bus),
                    )
                }
            };
            if !ok {
                return Err(NetError::UnknownReference {
                    table: "switch".into(),
                    index: s.index,
                    what,
                    reference: s.element,
                });
            }
            if !conn {
                return Err(bad(
                    "switch",
                    s.index,
                    format!("bus {} is not an end of {what} {}", s.bus, s.element),
                ));
            }
            if s.z_ohm < 0.0 {
                return Err(bad(
                    "switch",
                    s.index,
                    format!("z_ohm = {} must be >= 0", s.z_ohm),
                ));
            }
        }
        for l in &self.load {
            check_bus("load", l.index, l.bus)?;
            if l.const_z_p_percent + l.const_i_p_percent > 100.0
                || l.const_z_q_percent + l.const_i_q_percent > 100.0
            {
                return Err(bad(
                    "load",
                    l.index,
                    "const_z + const_i shares exceed 100 %".into(),
                ));
            }
        }
        for g in &self.sgen {
            check_bus("sgen", g.index, g.bus)?;
        }
        for s in &self.storage {
            check_bus("storage", s.index, s.bus)?;
        }
        for e in &self.ext_grid {
            check_bus("ext_grid", e.index, e.bus)?;
            if !positive(e.vm_pu) {
                return Err(bad(
                    "ext_grid",
                    e.index,
                    format!("vm_pu = {} must be > 0", e.vm_pu),
                ));
            }
        }
        Ok(())
    }

    /// Position of a bus in `self.bus` by pandapower index.
    pub fn bus_position(&self, index: i64) -> Option<usize> {
        self.bus.iter().position(|b| b.index == index)
    }
}

fn unique(table: &str, it: impl Iterator<Item = i64>) -> Result<BTreeSet<i64>, NetError> {
    let mut seen = BTreeSet::new();
    for i in it {
        if !seen.insert(i) {
            return Err(NetError::DuplicateIndex {
                table: table.to_string(),
                index: i,
            });
        }
    }
    Ok(seen)
}

fn read_rows<T>(
    t: &Table,
    f: impl Fn(&Table, usize) -> Result<T, NetError>,
) -> Result<Vec<T>, NetError> {
    (0..t.rows.len()).map(|r| f(t, r)).collect()
}

fn read_tap(t: &Table, r: usize, prefix: &str) -> Result<Option<Tap>, NetError> {
    let col = |c: &str| format!("{prefix}_{c}");
    let Some(pos) = t.opt_f64(r, &col("pos"))? else {
        return Ok(None);
    };
    let side = t.str_or_empty(r, &col("side"));
    let hv_side = match side.as_str() {
        "hv" => true,
        "lv" => false,
        _ => return Ok(None), // pandapower applies no tap without a side
    };
    let step_percent = t.opt_f64(r, &col("step_percent"))?;
    let step_degree = t.opt_f64(r, &col("step_degree"))?;
    let changer = if t.col(&col("changer_type")).is_some() {
        // pandapower >= 3.0: an empty type means "no tap changer"
        match t.str_or_empty(r, &col("changer_type")).as_str() {
            "" => return Ok(None),
            "Ratio" => TapChanger::Ratio,
            "Symmetrical" => TapChanger::Symmetrical,
            "Ideal" => TapChanger::Ideal,
            other => {
                return Err(NetError::BadValue {
                    table: "trafo".into(),
                    row: r,
                    column: col("changer_type"),
                    value: other.to_string(),
                });
            }
        }
    } else if t.bool_or(r, &col("phase_shifter"), false)? {
        TapChanger::Ideal
    } else {
        // pandapower < 3.0: a ratio tap acts when step and position are set
        if step_percent.is_none() {
            return Ok(None);
        }
        TapChanger::Ratio
    };
    let neutral = t.f64_or(r, &col("neutral"), 0.0)?;
    Ok(Some(Tap {
        hv_side,
        neutral,
        pos,
        step_percent,
        step_degree,
        changer,
    }))
}

fn read_trafo(t: &Table, r: usize) -> Result<Trafo, NetError> {
    let index = t.i64(r, "index")?;
    if t.bool_or(r, "tap_dependency_table", false)? {
        return Err(NetError::BadParameter {
            table: "trafo".into(),
            index,
            reason: "tap_dependency_table (characteristic tables) is not supported".into(),
        });
    }
    Ok(Trafo {
        index,
        name: t.str_or_empty(r, "name"),
        hv_bus: t.i64(r, "hv_bus")?,
        lv_bus: t.i64(r, "lv_bus")?,
        sn_mva: t.f64(r, "sn_mva")?,
        vn_hv_kv: t.f64(r, "vn_hv_kv")?,
        vn_lv_kv: t.f64(r, "vn_lv_kv")?,
        vk_percent: t.f64(r, "vk_percent")?,
        vkr_percent: t.f64(r, "vkr_percent")?,
        pfe_kw: t.f64_or(r, "pfe_kw", 0.0)?,
        i0_percent: t.f64_or(r, "i0_percent", 0.0)?,
        shift_degree: t.f64_or(r, "shift_degree", 0.0)?,
        leakage_resistance_ratio_hv: t.f64_or(r, "leakage_resistance_ratio_hv", 0.5)?,
        leakage_reactance_ratio_hv: t.f64_or(r, "leakage_reactance_ratio_hv", 0.5)?,
        tap: read_tap(t, r, "tap")?,
        tap2: read_tap(t, r, "tap2")?,
        parallel: t.f64_or(r, "parallel", 1.0)?,
        df: t.f64_or(r, "df", 1.0)?,
        in_service: t.bool_or(r, "in_service", true)?,
    })
}

/// `x > 0`, false for NaN.
fn positive(x: f64) -> bool {
    x > 0.0
}
