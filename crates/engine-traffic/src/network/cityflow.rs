//! CityFlow input: `roadnet.json` and `flow.json`.

use serde::Deserialize;

use super::{LinkSpec, Network, NetworkBuilder, SignalSpec};
use crate::Error;
use crate::demand::{Demand, Route, Trip, route_from_ids};

#[derive(Deserialize)]
struct RoadNet {
    intersections: Vec<Intersection>,
    roads: Vec<Road>,
}

#[derive(Deserialize)]
struct Point {
    x: f64,
    y: f64,
}

#[derive(Deserialize)]
struct Intersection {
    id: String,
    #[serde(default, rename = "roadLinks")]
    road_links: Vec<RoadLink>,
    #[serde(rename = "trafficLight")]
    traffic_light: Option<TrafficLight>,
    #[serde(default, rename = "virtual")]
    is_virtual: bool,
}

#[derive(Deserialize)]
struct RoadLink {
    #[serde(rename = "startRoad")]
    start_road: String,
    #[serde(rename = "endRoad")]
    end_road: String,
    #[serde(default, rename = "laneLinks")]
    lane_links: Vec<LaneLink>,
}

#[derive(Deserialize)]
struct LaneLink {
    #[serde(rename = "startLaneIndex")]
    start_lane_index: u32,
    #[serde(default)]
    points: Vec<Point>,
}

#[derive(Deserialize)]
struct TrafficLight {
    #[serde(default, rename = "lightphases")]
    light_phases: Vec<LightPhase>,
}

#[derive(Deserialize)]
struct LightPhase {
    time: f64,
    #[serde(default, rename = "availableRoadLinks")]
    available: Vec<usize>,
}

#[derive(Deserialize)]
struct Road {
    id: String,
    #[serde(rename = "startIntersection")]
    start: String,
    #[serde(rename = "endIntersection")]
    end: String,
    points: Vec<Point>,
    lanes: Vec<Lane>,
}

#[derive(Deserialize)]
struct Lane {
    #[serde(rename = "maxSpeed")]
    max_speed: f64,
}

#[derive(Deserialize)]
struct Flow {
    route: Vec<String>,
    interval: f64,
    #[serde(rename = "startTime")]
    start_time: f64,
    #[serde(rename = "endTime")]
    end_time: f64,
}

fn polyline_m(p: &[Point]) -> f64 {
    p.windows(2)
        .map(|w| (w[1].x - w[0].x).hypot(w[1].y - w[0].y))
        .sum()
}

/// Parses a CityFlow road network and flow file.
///
/// Roads become links (length = polyline length, speed = fastest lane); road
/// links become movements (lanes = distinct start lanes, crossing length = the
/// first lane link's polyline); a non-virtual intersection's `lightphases`
/// become a fixed-time plan over its road links. A flow entry emits a vehicle
/// every `interval` s from `startTime` to `endTime` inclusive, named
/// `flow_<entry>_<k>` as CityFlow does.
///
/// # Errors
/// [`Error::Json`] for a malformed file; the builder's and route errors
/// otherwise.
pub fn parse_cityflow(roadnet_json: &str, flow_json: &str) -> Result<(Network, Demand), Error> {
    let rn: RoadNet = serde_json::from_str(roadnet_json).map_err(|e| Error::Json {
        what: "roadnet",
        message: e.to_string(),
    })?;
    let mut b = NetworkBuilder::new();
    for r in &rn.roads {
        let speed = r.lanes.iter().map(|l| l.max_speed).fold(0.0, f64::max);
        b.link(LinkSpec {
            id: r.id.clone(),
            from: r.start.clone(),
            to: r.end.clone(),
            length_m: polyline_m(&r.points),
            lanes: u16::try_from(r.lanes.len()).unwrap_or(u16::MAX),
            speed_limit_kmh: speed * 3.6,
            capacity_veh_h: None,
        })?;
    }
    for i in &rn.intersections {
        for rl in &i.road_links {
            let mut lanes: Vec<u32> = rl.lane_links.iter().map(|l| l.start_lane_index).collect();
            lanes.sort_unstable();
            lanes.dedup();
            let cross = rl.lane_links.first().map_or(0.0, |l| polyline_m(&l.points));
            b.movement(
                &rl.start_road,
                &rl.end_road,
                u16::try_from(lanes.len()).unwrap_or(u16::MAX),
                cross,
                None,
            )?;
        }
    }
    for i in &rn.intersections {
        let Some(tl) = &i.traffic_light else { continue };
        if i.is_virtual || tl.light_phases.is_empty() || i.road_links.is_empty() {
            continue;
        }
        let movements = i
            .road_links
            .iter()
            .map(|rl| (rl.start_road.clone(), rl.end_road.clone()))
            .collect::<Vec<_>>();
        let phases = tl
            .light_phases
            .iter()
            .map(|p| {
                let mut g = vec![false; movements.len()];
                for &k in &p.available {
                    if let Some(x) = g.get_mut(k) {
                        *x = true;
                    }
                }
                (p.time, g)
            })
            .collect();
        b.signal(SignalSpec {
            node: i.id.clone(),
            offset_s: 0.0,
            movements,
            phases,
        });
    }
    let net = b.build()?;
    let flows: Vec<Flow> = serde_json::from_str(flow_json).map_err(|e| Error::Json {
        what: "flow",
        message: e.to_string(),
    })?;
    let mut trips = Vec::new();
    for (i, f) in flows.iter().enumerate() {
        if f.interval.is_nan() || f.interval <= 0.0 {
            return Err(Error::InvalidNumber {
                field: "flow interval",
                value: f.interval.to_string(),
            });
        }
        let route = route_from_ids(
            &net,
            &format!("flow_{i}"),
            f.route.iter().map(String::as_str),
        )?;
        let mut t = f.start_time;
        let mut k = 0u32;
        while t <= f.end_time + 1e-9 {
            trips.push(Trip {
                id: format!("flow_{i}_{k}"),
                depart_s: t,
                route: Route::Fixed(route.clone()),
            });
            k += 1;
            t = f.start_time + f64::from(k) * f.interval;
        }
    }
    Ok((net, Demand::new(trips)))
}
