//! The registry of gateways and sensors: who may publish what.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{GatewayId, SensorId, SensorSpec};

/// A gateway as registered. Its MQTT credentials live in the adapters (hashed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GatewaySpec {
    /// Gateway id; also its MQTT username and the `{gateway}` topic level.
    pub id: GatewayId,
    /// Human-readable name.
    pub name: String,
}

/// Gateways and their sensors, indexed for the ingest path's lookups.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Registry {
    gateways: BTreeMap<GatewayId, GatewaySpec>,
    sensors: BTreeMap<SensorId, SensorSpec>,
}

/// Why a sensor may not be accepted from a gateway.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// No such sensor is registered.
    #[error("unknown sensor {0}")]
    UnknownSensor(SensorId),
    /// No such gateway is registered.
    #[error("unknown gateway {0}")]
    UnknownGateway(GatewayId),
    /// The sensor belongs to another gateway.
    #[error("sensor {sensor} belongs to gateway {owner}, not {gateway}")]
    NotOwner {
        /// The sensor.
        sensor: SensorId,
        /// Its registered gateway.
        owner: GatewayId,
        /// The gateway that published.
        gateway: GatewayId,
    },
}

impl Registry {
    /// Builds a registry. A sensor whose gateway is missing gets a gateway entry
    /// named after its id.
    pub fn new(
        gateways: impl IntoIterator<Item = GatewaySpec>,
        sensors: impl IntoIterator<Item = SensorSpec>,
    ) -> Self {
        let mut r = Self::default();
        for g in gateways {
            r.gateways.insert(g.id.clone(), g);
        }
        for s in sensors {
            r.upsert_sensor(s);
        }
        r
    }

    /// Adds or replaces a sensor (and its gateway, if new).
    pub fn upsert_sensor(&mut self, s: SensorSpec) {
        self.gateways
            .entry(s.gateway.clone())
            .or_insert_with(|| GatewaySpec {
                id: s.gateway.clone(),
                name: s.gateway.to_string(),
            });
        self.sensors.insert(s.id.clone(), s);
    }

    /// The sensor, if registered.
    pub fn sensor(&self, id: &str) -> Option<&SensorSpec> {
        self.sensors.get(id)
    }

    /// The gateway, if registered.
    pub fn gateway(&self, id: &str) -> Option<&GatewaySpec> {
        self.gateways.get(id)
    }

    /// Checks that `gateway` may publish for `sensor`, returning the sensor.
    pub fn authorize(
        &self,
        gateway: &GatewayId,
        sensor: &SensorId,
    ) -> Result<&SensorSpec, RegistryError> {
        let spec = self
            .sensors
            .get(sensor)
            .ok_or_else(|| RegistryError::UnknownSensor(sensor.clone()))?;
        if &spec.gateway != gateway {
            return Err(RegistryError::NotOwner {
                sensor: sensor.clone(),
                owner: spec.gateway.clone(),
                gateway: gateway.clone(),
            });
        }
        Ok(spec)
    }

    /// Every sensor, in id order.
    pub fn sensors(&self) -> impl Iterator<Item = &SensorSpec> {
        self.sensors.values()
    }

    /// Every gateway, in id order.
    pub fn gateways(&self) -> impl Iterator<Item = &GatewaySpec> {
        self.gateways.values()
    }

    /// The sensors of one gateway, in id order.
    pub fn sensors_of<'a>(
        &'a self,
        gateway: &'a GatewayId,
    ) -> impl Iterator<Item = &'a SensorSpec> + 'a {
        self.sensors.values().filter(move |s| &s.gateway == gateway)
    }

    /// Number of sensors.
    pub fn sensor_count(&self) -> usize {
        self.sensors.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{LatLon, SensorKind};

    fn spec(id: &str, gw: &str) -> SensorSpec {
        SensorSpec {
            id: SensorId::new(id).unwrap(),
            kind: SensorKind::AirQuality,
            gateway: GatewayId::new(gw).unwrap(),
            location: LatLon {
                lat: 60.17,
                lon: 24.94,
            },
            observes: None,
            metrics: vec![],
        }
    }

    #[test]
    fn a_gateway_may_publish_only_for_its_own_sensors() {
        let r = Registry::new([], [spec("s1", "gw1"), spec("s2", "gw2")]);
        let gw1 = GatewayId::new("gw1").unwrap();
        assert!(r.authorize(&gw1, &SensorId::new("s1").unwrap()).is_ok());
        assert!(matches!(
            r.authorize(&gw1, &SensorId::new("s2").unwrap()),
            Err(RegistryError::NotOwner { .. })
        ));
        assert!(matches!(
            r.authorize(&gw1, &SensorId::new("s3").unwrap()),
            Err(RegistryError::UnknownSensor(_))
        ));
        assert_eq!(r.gateways().count(), 2);
        assert_eq!(r.sensors_of(&gw1).count(), 1);
    }
}
