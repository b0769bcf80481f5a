//! The live congestion picture: travel time index per link and per area, and
//! the city traffic performance index (TPI, 交通运行指数).
//!
//! Formulas (also in `docs/specs/traffic-report.md`):
//! - link travel time index `TTI_i = v_free,i / v_i` (free-flow over actual
//!   travel time; 1 = free flow);
//! - area TTI `= Σ w_i L_i / v_i / Σ w_i L_i / v_free,i`, `w_i` a flow weight
//!   (vehicles observed; 1 when unknown), i.e. the ratio of the hours spent to
//!   the free-flow hours of the same traffic;
//! - link operating level by average travel speed and road class, with the
//!   speed bands of GB/T 33171-2016 (urban road traffic performance evaluation);
//! - TPI: the weighted share `r` of road length in moderate or severe
//!   congestion, mapped piecewise-linearly to 0-10 with breakpoints
//!   r = 0, 4, 8, 11, 14, 24 % -> TPI 0, 2, 4, 6, 8, 10 (capped at 10), the
//!   mapping used by the Beijing index (DB11/T 785) that the national method
//!   adopts; bands 0-2 smooth, 2-4 basically smooth, 4-6 light, 6-8 moderate,
//!   8-10 severe congestion.

use serde::{Deserialize, Serialize};

use crate::network::Network;
use crate::report::Report;

/// Road class, which sets the speed bands of the operating levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoadClass {
    /// 快速路.
    Expressway,
    /// 主干路.
    Arterial,
    /// 次干路 and 支路.
    Minor,
}

impl RoadClass {
    /// A class from the speed limit: >= 80 km/h expressway, >= 50 arterial,
    /// else minor.
    pub fn from_speed_limit(kmh: f64) -> Self {
        if kmh >= 80.0 {
            Self::Expressway
        } else if kmh >= 50.0 {
            Self::Arterial
        } else {
            Self::Minor
        }
    }

    /// Lower speed bounds (km/h) of smooth, basically smooth, light and
    /// moderate congestion; below the last is severe.
    pub fn bands_kmh(self) -> [f64; 4] {
        match self {
            Self::Expressway => [65.0, 50.0, 35.0, 20.0],
            Self::Arterial => [40.0, 30.0, 20.0, 15.0],
            Self::Minor => [35.0, 25.0, 15.0, 10.0],
        }
    }
}

/// Operating level of a link or an area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// 畅通.
    Smooth,
    /// 基本畅通.
    BasicallySmooth,
    /// 轻度拥堵.
    Light,
    /// 中度拥堵.
    Moderate,
    /// 严重拥堵.
    Severe,
}

/// One link's live state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveLink {
    /// Link id.
    pub id: String,
    /// Length, m.
    pub length_m: f64,
    /// Free-flow (limit) speed, km/h.
    pub free_flow_kmh: f64,
    /// Observed average travel speed, km/h.
    pub speed_kmh: f64,
    /// Flow weight (vehicles seen); 1 when unknown.
    pub weight: f64,
    /// Road class.
    pub class: RoadClass,
}

/// One link's index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkIndex {
    /// Link id.
    pub id: String,
    /// Travel time index (>= 1 when slower than free flow).
    pub tti: f64,
    /// Operating level.
    pub level: Level,
}

/// An area's index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AreaIndex {
    /// Area travel time index.
    pub tti: f64,
    /// Weighted share of road length in moderate or severe congestion, 0-1.
    pub congested_share: f64,
    /// Traffic performance index, 0-10.
    pub tpi: f64,
    /// The TPI's band.
    pub level: Level,
    /// Per link, in input order.
    pub links: Vec<LinkIndex>,
}

/// The level of a link at `speed_kmh`.
pub fn link_level(class: RoadClass, speed_kmh: f64) -> Level {
    let b = class.bands_kmh();
    if speed_kmh >= b[0] {
        Level::Smooth
    } else if speed_kmh >= b[1] {
        Level::BasicallySmooth
    } else if speed_kmh >= b[2] {
        Level::Light
    } else if speed_kmh >= b[3] {
        Level::Moderate
    } else {
        Level::Severe
    }
}

/// TPI from the congested share (0-1).
pub fn tpi_from_share(share: f64) -> f64 {
    const BP: [(f64, f64); 6] = [
        (0.0, 0.0),
        (4.0, 2.0),
        (8.0, 4.0),
        (11.0, 6.0),
        (14.0, 8.0),
        (24.0, 10.0),
    ];
    let r = (share * 100.0).max(0.0);
    for w in BP.windows(2) {
        let ((r0, t0), (r1, t1)) = (w[0], w[1]);
        if r <= r1 {
            return t0 + (r - r0) / (r1 - r0) * (t1 - t0);
        }
    }
    10.0
}

/// The band of a TPI value.
pub fn tpi_level(tpi: f64) -> Level {
    if tpi < 2.0 {
        Level::Smooth
    } else if tpi < 4.0 {
        Level::BasicallySmooth
    } else if tpi < 6.0 {
        Level::Light
    } else if tpi < 8.0 {
        Level::Moderate
    } else {
        Level::Severe
    }
}

/// Travel time index per link and for the area, and the TPI. Links with a
/// non-positive length, speed or weight are skipped; an empty input gives
/// TTI 1 and TPI 0.
pub fn travel_time_index(links: &[LiveLink]) -> AreaIndex {
    let (mut t, mut t0, mut cong, mut all) = (0.0, 0.0, 0.0, 0.0);
    let mut out = Vec::with_capacity(links.len());
    for l in links {
        if !(l.length_m > 0.0 && l.free_flow_kmh > 0.0 && l.weight > 0.0) {
            continue;
        }
        let v = l.speed_kmh.max(1.0);
        let level = link_level(l.class, v);
        t += l.weight * l.length_m / v;
        t0 += l.weight * l.length_m / l.free_flow_kmh;
        all += l.weight * l.length_m;
        if level >= Level::Moderate {
            cong += l.weight * l.length_m;
        }
        out.push(LinkIndex {
            id: l.id.clone(),
            tti: l.free_flow_kmh / v,
            level,
        });
    }
    let share = if all > 0.0 { cong / all } else { 0.0 };
    let tpi = tpi_from_share(share);
    AreaIndex {
        tti: if t0 > 0.0 { t / t0 } else { 1.0 },
        congested_share: share,
        tpi,
        level: tpi_level(tpi),
        links: out,
    }
}

/// Live links from a simulated report's bin `bin` (e.g. the last one, for
/// "now"): speed = the bin's mean speed (free-flow when no vehicle left the
/// link), weight = vehicles entered.
pub fn live_links_from_report(net: &Network, report: &Report, bin: usize) -> Vec<LiveLink> {
    net.links()
        .iter()
        .zip(&report.links)
        .filter_map(|(l, r)| {
            let b = r.bins.get(bin)?;
            let ff = l.speed_mps * 3.6;
            Some(LiveLink {
                id: l.id.clone(),
                length_m: l.length_m,
                free_flow_kmh: ff,
                speed_kmh: b.mean_speed_kmh.unwrap_or(ff).min(ff),
                weight: f64::from(b.entered.max(1)),
                class: RoadClass::from_speed_limit(ff),
            })
        })
        .collect()
}

/// The index at the end of a simulated run (its last bin): what
/// `citybrain demo` shows as the current congestion picture.
pub fn current_index(net: &Network, report: &Report) -> AreaIndex {
    let last = report
        .links
        .first()
        .map_or(0, |l| l.bins.len().saturating_sub(1));
    travel_time_index(&live_links_from_report(net, report, last))
}
