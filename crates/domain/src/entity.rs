//! Entity and sensor kinds, and a WGS-84 position.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{EntityId, GatewayId, Metric, SensorId};

/// A WGS-84 position in degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LatLon {
    /// Latitude in degrees, -90..=90.
    pub lat: f64,
    /// Longitude in degrees, -180..=180.
    pub lon: f64,
}

impl LatLon {
    /// Builds a position; `None` when not finite or outside the valid ranges.
    pub fn new(lat: f64, lon: f64) -> Option<Self> {
        ((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon))
            .then_some(Self { lat, lon })
    }

    /// Great-circle distance in metres (haversine, mean Earth radius 6,371,008.8 m).
    pub fn distance_m(self, other: LatLon) -> f64 {
        const R: f64 = 6_371_008.8;
        let (p1, p2) = (self.lat.to_radians(), other.lat.to_radians());
        let dp = p2 - p1;
        let dl = (other.lon - self.lon).to_radians();
        let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
        2.0 * R * a.sqrt().asin()
    }
}

/// The kinds of entity the twin holds. The serialised form is the NGSI-LD
/// entity type name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum EntityKind {
    /// A directed road link between two intersections.
    RoadSegment,
    /// A road junction, signalised or not.
    Intersection,
    /// A building footprint.
    Building,
    /// A point of interest (clinic, school, market, ...).
    PointOfInterest,
    /// A community or district: the unit of grassroots governance.
    Community,
    /// An electrical distribution feeder.
    Feeder,
    /// A sensor (device).
    Sensor,
}

impl EntityKind {
    /// Every kind, in declaration order.
    pub const ALL: [EntityKind; 7] = [
        EntityKind::RoadSegment,
        EntityKind::Intersection,
        EntityKind::Building,
        EntityKind::PointOfInterest,
        EntityKind::Community,
        EntityKind::Feeder,
        EntityKind::Sensor,
    ];

    /// The NGSI-LD type name.
    pub const fn type_name(self) -> &'static str {
        match self {
            EntityKind::RoadSegment => "RoadSegment",
            EntityKind::Intersection => "Intersection",
            EntityKind::Building => "Building",
            EntityKind::PointOfInterest => "PointOfInterest",
            EntityKind::Community => "Community",
            EntityKind::Feeder => "Feeder",
            EntityKind::Sensor => "Sensor",
        }
    }

    /// Parses an NGSI-LD type name.
    pub fn from_type_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.type_name() == s)
    }
}

impl fmt::Display for EntityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.type_name())
    }
}

/// What a sensor measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SensorKind {
    /// Loop or video detector on a road approach: flow, count, speed, occupancy.
    TrafficDetector,
    /// Air-quality station: PM2.5, PM10, NO2, O3, AQI, temperature, humidity.
    AirQuality,
    /// Smart meter on a building or feeder: power, energy, voltage.
    EnergyMeter,
    /// PV inverter: AC output, irradiance.
    PvInverter,
    /// Water-level gauge: level, discharge, rainfall.
    WaterLevel,
    /// Source of event reports (citizen app, IoT alarm panel).
    EventReporter,
    /// Anything else.
    Other,
}

impl SensorKind {
    /// Every kind, in declaration order.
    pub const ALL: [SensorKind; 7] = [
        SensorKind::TrafficDetector,
        SensorKind::AirQuality,
        SensorKind::EnergyMeter,
        SensorKind::PvInverter,
        SensorKind::WaterLevel,
        SensorKind::EventReporter,
        SensorKind::Other,
    ];

    /// The snake_case name used on the wire, in metrics labels and in SQL.
    pub const fn as_str(self) -> &'static str {
        match self {
            SensorKind::TrafficDetector => "traffic_detector",
            SensorKind::AirQuality => "air_quality",
            SensorKind::EnergyMeter => "energy_meter",
            SensorKind::PvInverter => "pv_inverter",
            SensorKind::WaterLevel => "water_level",
            SensorKind::EventReporter => "event_reporter",
            SensorKind::Other => "other",
        }
    }

    /// Parses the snake_case name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for SensorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A sensor as registered: who publishes for it, where it is, what it observes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SensorSpec {
    /// Sensor id (also its twin entity id).
    pub id: SensorId,
    /// What it measures.
    pub kind: SensorKind,
    /// The gateway allowed to publish its observations.
    pub gateway: GatewayId,
    /// Where it is.
    pub location: LatLon,
    /// The twin entity it observes (a road segment, a building), if any.
    pub observes: Option<EntityId>,
    /// The metrics it reports.
    pub metrics: Vec<Metric>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latlon_rejects_out_of_range_and_nan() {
        assert!(LatLon::new(60.17, 24.94).is_some());
        assert!(LatLon::new(91.0, 0.0).is_none());
        assert!(LatLon::new(0.0, 181.0).is_none());
        assert!(LatLon::new(f64::NAN, 0.0).is_none());
    }

    #[test]
    fn haversine_matches_a_known_distance() {
        // One degree of latitude is about 111.2 km on the mean sphere.
        let d = LatLon {
            lat: 60.0,
            lon: 25.0,
        }
        .distance_m(LatLon {
            lat: 61.0,
            lon: 25.0,
        });
        assert!((d - 111_195.0).abs() < 5.0, "{d}");
    }

    #[test]
    fn kinds_round_trip_through_names() {
        for k in EntityKind::ALL {
            assert_eq!(EntityKind::from_type_name(k.type_name()), Some(k));
        }
        for k in SensorKind::ALL {
            assert_eq!(SensorKind::parse(k.as_str()), Some(k));
        }
    }
}
