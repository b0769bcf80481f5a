//! Live values derived from a twin snapshot and shared by several routes:
//! road segments' speed, flow and travel time index from the detectors that
//! observe them, and the traffic index of the city and its communities.
//!
//! A reading is *live* when its sensor is online and the reading is at most
//! [`FRESH_MS`] older than the snapshot's data time.

use std::collections::BTreeMap;

use domain::{EntityId, EntityKind, SensorKind, Timestamp};
use engine_traffic::live::{AreaIndex, Level, LiveLink, RoadClass, travel_time_index};
use serde::Serialize;
use twin::{SensorStatus, TwinSnapshot};
use utoipa::ToSchema;

/// Age beyond which a reading no longer counts as live, ms (15 min, the
/// twin's default stale timeout).
pub const FRESH_MS: i64 = 15 * 60_000;

/// Whether a reading taken at `ts` is live at the snapshot's data time.
pub fn is_fresh(snap: &TwinSnapshot, ts: Timestamp) -> bool {
    snap.as_of().0.saturating_sub(ts.0) <= FRESH_MS
}

/// A road segment's live state.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RoadLive {
    /// Mean of the detectors' latest speeds, km/h.
    pub speed_kmh: Option<f64>,
    /// Mean of the detectors' latest flows, veh/h.
    pub flow_veh_h: Option<f64>,
    /// Mean of the detectors' latest occupancies, %.
    pub occupancy_pct: Option<f64>,
    /// Speed limit / live speed (speeds above the limit count as free flow).
    pub tti: Option<f64>,
    /// Detectors with a live reading.
    pub detectors: u32,
    /// Newest reading.
    pub observed_at: Option<Timestamp>,
}

fn mean(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// Speeds, flows, occupancies, live detectors and the newest time of one segment.
type Acc = (Vec<f64>, Vec<f64>, Vec<f64>, u32, Option<Timestamp>);

/// Live state of every road segment observed by an online traffic detector
/// with a live reading, by segment id. O(sensors).
pub fn road_live(snap: &TwinSnapshot) -> BTreeMap<EntityId, RoadLive> {
    let mut acc: BTreeMap<EntityId, Acc> = BTreeMap::new();
    for s in snap.sensors() {
        let spec = s.spec();
        if spec.kind != SensorKind::TrafficDetector || s.health().status != SensorStatus::Online {
            continue;
        }
        let Some(road) = &spec.observes else { continue };
        let e = acc.entry(road.clone()).or_default();
        let mut live = false;
        for (m, r, _) in s.readings() {
            if !is_fresh(snap, r.ts) {
                continue;
            }
            live = true;
            e.4 = Some(e.4.map_or(r.ts, |t| t.max(r.ts)));
            match m.as_str() {
                "speed" => e.0.push(r.value),
                "flow" => e.1.push(r.value),
                "occupancy" => e.2.push(r.value),
                _ => {}
            }
        }
        e.3 += u32::from(live);
    }
    acc.into_iter()
        .filter(|(_, v)| v.3 > 0)
        .map(|(id, (sp, fl, oc, n, at))| {
            let speed = mean(&sp);
            let limit = snap
                .entity(id.as_str())
                .and_then(|e| e.road())
                .map(|r| r.speed_limit_kmh);
            let tti = match (speed, limit) {
                (Some(v), Some(l)) if l > 0.0 => Some(l / v.clamp(1.0, l)),
                _ => None,
            };
            (
                id,
                RoadLive {
                    speed_kmh: speed,
                    flow_veh_h: mean(&fl),
                    occupancy_pct: mean(&oc),
                    tti,
                    detectors: n,
                    observed_at: at,
                },
            )
        })
        .collect()
}

/// The traffic index of one area.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AreaTraffic {
    /// Community id (`null` for the city).
    pub community: Option<String>,
    /// Travel time index (1 = free flow); `null` without live segments.
    pub tti: Option<f64>,
    /// Traffic performance index 0-10 (交通运行指数).
    pub tpi: Option<f64>,
    /// Band of the TPI: `smooth`, `basically_smooth`, `light`, `moderate`, `severe`.
    pub level: Option<String>,
    /// Share of (flow-weighted) road length in moderate or severe congestion.
    pub congested_share: Option<f64>,
    /// Road segments with a live speed.
    pub segments: usize,
}

/// The live traffic picture.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TrafficLive {
    /// City travel time index.
    pub tti: Option<f64>,
    /// City traffic performance index.
    pub tpi: Option<f64>,
    /// City level.
    pub level: Option<String>,
    /// City congested share.
    pub congested_share: Option<f64>,
    /// Road segments with a live speed.
    pub segments: usize,
    /// Per community, in id order.
    pub by_community: Vec<AreaTraffic>,
    /// Data time of the snapshot (RFC 3339).
    pub as_of: Option<String>,
    /// How the numbers are computed.
    pub method: &'static str,
}

/// The snake_case name of a level.
pub fn level_str(l: Level) -> &'static str {
    match l {
        Level::Smooth => "smooth",
        Level::BasicallySmooth => "basically_smooth",
        Level::Light => "light",
        Level::Moderate => "moderate",
        Level::Severe => "severe",
    }
}

fn area(community: Option<String>, links: &[LiveLink]) -> AreaTraffic {
    if links.is_empty() {
        return AreaTraffic {
            community,
            tti: None,
            tpi: None,
            level: None,
            congested_share: None,
            segments: 0,
        };
    }
    let AreaIndex {
        tti,
        congested_share,
        tpi,
        level,
        ..
    } = travel_time_index(links);
    AreaTraffic {
        community,
        tti: Some(tti),
        tpi: Some(tpi),
        level: Some(level_str(level).into()),
        congested_share: Some(congested_share),
        segments: links.len(),
    }
}

/// The travel time index and TPI of the city and each community, from the
/// live road segments (engine-traffic's `travel_time_index`: length- and
/// flow-weighted hours over free-flow hours; TPI from the share of length in
/// moderate or severe congestion by GB/T 33171 speed bands).
pub fn traffic_live(snap: &TwinSnapshot) -> TrafficLive {
    let roads = road_live(snap);
    let mut all = Vec::new();
    let mut by: BTreeMap<Option<EntityId>, Vec<LiveLink>> = BTreeMap::new();
    for (id, live) in &roads {
        let (Some(e), Some(v)) = (snap.entity(id.as_str()), live.speed_kmh) else {
            continue;
        };
        let Some(r) = e.road() else { continue };
        let link = LiveLink {
            id: id.to_string(),
            length_m: r.length_m,
            free_flow_kmh: r.speed_limit_kmh,
            speed_kmh: v.min(r.speed_limit_kmh),
            weight: live.flow_veh_h.filter(|f| *f > 0.0).unwrap_or(1.0),
            class: RoadClass::from_speed_limit(r.speed_limit_kmh),
        };
        by.entry(e.community.clone())
            .or_default()
            .push(link.clone());
        all.push(link);
    }
    let city = area(None, &all);
    let mut by_community: Vec<AreaTraffic> = snap
        .entities_of(EntityKind::Community)
        .map(|c| {
            area(
                Some(c.id.to_string()),
                by.get(&Some(c.id.clone())).map_or(&[][..], Vec::as_slice),
            )
        })
        .collect();
    by_community.retain(|a| a.segments > 0);
    TrafficLive {
        tti: city.tti,
        tpi: city.tpi,
        level: city.level,
        congested_share: city.congested_share,
        segments: city.segments,
        by_community,
        as_of: (snap.as_of().0 > i64::MIN).then(|| crate::util::iso(snap.as_of())),
        method: "engine-traffic travel_time_index over road segments with a live detector speed (speeds capped at the limit; flow-weighted); TPI by GB/T 33171 speed bands",
    }
}
