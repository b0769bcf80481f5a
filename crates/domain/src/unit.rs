//! Units of measure, their aliases on the wire, and conversion between units
//! of the same dimension.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Physical dimension of a unit; values convert only within one dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dimension {
    /// Vehicles per hour.
    VehicleRate,
    /// A count of vehicles in a reporting interval.
    VehicleCount,
    /// Speed.
    Speed,
    /// Fraction of a whole (percent, ratio).
    Fraction,
    /// Mass concentration in air.
    MassConcentration,
    /// A dimensionless index (AQI, counts of things).
    Index,
    /// Temperature.
    Temperature,
    /// Power.
    Power,
    /// Energy.
    Energy,
    /// Length (water level, rain).
    Length,
    /// Electric potential.
    Voltage,
    /// Electric current.
    Current,
    /// Irradiance.
    Irradiance,
    /// Volume flow (water).
    VolumeFlow,
    /// Signal strength in dBm.
    SignalStrength,
}

/// A unit of measure. The serialised form is the canonical symbol (`"ug/m3"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Unit {
    /// Vehicles per hour.
    VehPerHour,
    /// Vehicles (count in an interval).
    Vehicles,
    /// Kilometres per hour.
    KmPerHour,
    /// Metres per second.
    MetrePerSecond,
    /// Percent (0-100).
    Percent,
    /// Ratio (0-1).
    Ratio,
    /// Micrograms per cubic metre.
    MicrogramPerM3,
    /// Milligrams per cubic metre.
    MilligramPerM3,
    /// A dimensionless index or count.
    Dimensionless,
    /// Degrees Celsius.
    Celsius,
    /// Kelvin.
    Kelvin,
    /// Watts.
    Watt,
    /// Kilowatts.
    Kilowatt,
    /// Megawatts.
    Megawatt,
    /// Watt-hours.
    WattHour,
    /// Kilowatt-hours.
    KilowattHour,
    /// Joules.
    Joule,
    /// Metres.
    Metre,
    /// Centimetres.
    Centimetre,
    /// Millimetres.
    Millimetre,
    /// Volts.
    Volt,
    /// Amperes.
    Ampere,
    /// Watts per square metre.
    WattPerM2,
    /// Cubic metres per second.
    CubicMetrePerSecond,
    /// Litres per second.
    LitrePerSecond,
    /// Decibel-milliwatts.
    Dbm,
}

/// The text is not a unit this platform knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown unit {0:?}")]
pub struct UnitError(pub String);

impl Unit {
    /// Every unit, in declaration order.
    pub const ALL: [Unit; 26] = [
        Unit::VehPerHour,
        Unit::Vehicles,
        Unit::KmPerHour,
        Unit::MetrePerSecond,
        Unit::Percent,
        Unit::Ratio,
        Unit::MicrogramPerM3,
        Unit::MilligramPerM3,
        Unit::Dimensionless,
        Unit::Celsius,
        Unit::Kelvin,
        Unit::Watt,
        Unit::Kilowatt,
        Unit::Megawatt,
        Unit::WattHour,
        Unit::KilowattHour,
        Unit::Joule,
        Unit::Metre,
        Unit::Centimetre,
        Unit::Millimetre,
        Unit::Volt,
        Unit::Ampere,
        Unit::WattPerM2,
        Unit::CubicMetrePerSecond,
        Unit::LitrePerSecond,
        Unit::Dbm,
    ];

    /// The canonical symbol, as written on the wire and in the store.
    /// Symbols follow the SenML units registry (RFC 8428) where it has one.
    pub const fn symbol(self) -> &'static str {
        match self {
            Unit::VehPerHour => "veh/h",
            Unit::Vehicles => "veh",
            Unit::KmPerHour => "km/h",
            Unit::MetrePerSecond => "m/s",
            Unit::Percent => "%",
            Unit::Ratio => "/",
            Unit::MicrogramPerM3 => "ug/m3",
            Unit::MilligramPerM3 => "mg/m3",
            Unit::Dimensionless => "1",
            Unit::Celsius => "Cel",
            Unit::Kelvin => "K",
            Unit::Watt => "W",
            Unit::Kilowatt => "kW",
            Unit::Megawatt => "MW",
            Unit::WattHour => "Wh",
            Unit::KilowattHour => "kWh",
            Unit::Joule => "J",
            Unit::Metre => "m",
            Unit::Centimetre => "cm",
            Unit::Millimetre => "mm",
            Unit::Volt => "V",
            Unit::Ampere => "A",
            Unit::WattPerM2 => "W/m2",
            Unit::CubicMetrePerSecond => "m3/s",
            Unit::LitrePerSecond => "l/s",
            Unit::Dbm => "dBm",
        }
    }

    /// Parses a symbol or one of its common aliases (`µg/m³`, `kw`, `°C`).
    pub fn parse(s: &str) -> Result<Unit, UnitError> {
        let t = s.trim();
        if let Some(u) = Unit::ALL.iter().copied().find(|u| u.symbol() == t) {
            return Ok(u);
        }
        let lower = t.to_ascii_lowercase();
        let u = match lower.as_str() {
            "vph" | "veh/hr" | "vehicles/h" => Unit::VehPerHour,
            "vehicles" | "count" | "cnt" => Unit::Vehicles,
            "kmh" | "kph" | "km/hr" => Unit::KmPerHour,
            "mps" => Unit::MetrePerSecond,
            "percent" | "pct" | "%rh" => Unit::Percent,
            "ratio" => Unit::Ratio,
            "µg/m³" | "µg/m3" | "ug/m³" | "ugm3" | "μg/m³" | "μg/m3" => Unit::MicrogramPerM3,
            "mg/m³" => Unit::MilligramPerM3,
            "" | "index" | "aqi" | "none" => Unit::Dimensionless,
            "c" | "°c" | "cel" | "celsius" | "degc" => Unit::Celsius,
            "w" => Unit::Watt,
            "kw" => Unit::Kilowatt,
            "wh" => Unit::WattHour,
            "kwh" => Unit::KilowattHour,
            "m" | "meter" | "metre" => Unit::Metre,
            "cm" => Unit::Centimetre,
            "mm" => Unit::Millimetre,
            "v" => Unit::Volt,
            "a" => Unit::Ampere,
            "w/m²" | "w/m^2" => Unit::WattPerM2,
            "m³/s" => Unit::CubicMetrePerSecond,
            "l/s" | "lps" => Unit::LitrePerSecond,
            "dbm" => Unit::Dbm,
            _ => return Err(UnitError(t.chars().take(32).collect())),
        };
        Ok(u)
    }

    /// The dimension of this unit.
    pub const fn dimension(self) -> Dimension {
        match self {
            Unit::VehPerHour => Dimension::VehicleRate,
            Unit::Vehicles => Dimension::VehicleCount,
            Unit::KmPerHour | Unit::MetrePerSecond => Dimension::Speed,
            Unit::Percent | Unit::Ratio => Dimension::Fraction,
            Unit::MicrogramPerM3 | Unit::MilligramPerM3 => Dimension::MassConcentration,
            Unit::Dimensionless => Dimension::Index,
            Unit::Celsius | Unit::Kelvin => Dimension::Temperature,
            Unit::Watt | Unit::Kilowatt | Unit::Megawatt => Dimension::Power,
            Unit::WattHour | Unit::KilowattHour | Unit::Joule => Dimension::Energy,
            Unit::Metre | Unit::Centimetre | Unit::Millimetre => Dimension::Length,
            Unit::Volt => Dimension::Voltage,
            Unit::Ampere => Dimension::Current,
            Unit::WattPerM2 => Dimension::Irradiance,
            Unit::CubicMetrePerSecond | Unit::LitrePerSecond => Dimension::VolumeFlow,
            Unit::Dbm => Dimension::SignalStrength,
        }
    }

    /// `(scale, offset)` such that `base = value * scale + offset`, where the
    /// base unit is the first unit of each dimension in [`Unit::ALL`].
    const fn to_base(self) -> (f64, f64) {
        match self {
            Unit::MetrePerSecond => (3.6, 0.0),
            Unit::Ratio => (100.0, 0.0),
            Unit::MilligramPerM3 => (1000.0, 0.0),
            Unit::Kelvin => (1.0, -273.15),
            Unit::Watt => (0.001, 0.0),
            Unit::Megawatt => (1000.0, 0.0),
            Unit::WattHour => (0.001, 0.0),
            Unit::Joule => (1.0 / 3.6e6, 0.0),
            Unit::Centimetre => (0.01, 0.0),
            Unit::Millimetre => (0.001, 0.0),
            Unit::LitrePerSecond => (0.001, 0.0),
            _ => (1.0, 0.0),
        }
    }

    /// Converts `value` in this unit into `target`. `None` when the dimensions differ.
    ///
    /// ```
    /// use domain::Unit;
    /// assert_eq!(Unit::Watt.convert(1500.0, Unit::Kilowatt), Some(1.5));
    /// assert_eq!(Unit::Watt.convert(1.0, Unit::Metre), None);
    /// ```
    pub fn convert(self, value: f64, target: Unit) -> Option<f64> {
        if self.dimension() != target.dimension() {
            return None;
        }
        if self == target {
            return Some(value);
        }
        let (s1, o1) = self.to_base();
        let (s2, o2) = target.to_base();
        Some((value * s1 + o1 - o2) / s2)
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

impl TryFrom<String> for Unit {
    type Error = UnitError;
    fn try_from(s: String) -> Result<Self, UnitError> {
        Unit::parse(&s)
    }
}

impl From<Unit> for String {
    fn from(u: Unit) -> String {
        u.symbol().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_symbol_parses_back_to_its_unit() {
        for u in Unit::ALL {
            assert_eq!(Unit::parse(u.symbol()), Ok(u), "{u:?}");
        }
    }

    #[test]
    fn aliases_parse() {
        assert_eq!(Unit::parse("µg/m³"), Ok(Unit::MicrogramPerM3));
        assert_eq!(Unit::parse("°C"), Ok(Unit::Celsius));
        assert_eq!(Unit::parse("kw"), Ok(Unit::Kilowatt));
        assert!(Unit::parse("mW").is_err());
        assert!(Unit::parse("furlongs").is_err());
    }

    #[test]
    fn conversions_are_exact_for_simple_factors() {
        assert_eq!(Unit::Kelvin.convert(273.15, Unit::Celsius), Some(0.0));
        assert_eq!(Unit::Celsius.convert(0.0, Unit::Kelvin), Some(273.15));
        assert_eq!(
            Unit::MetrePerSecond.convert(10.0, Unit::KmPerHour),
            Some(36.0)
        );
        assert_eq!(Unit::Centimetre.convert(250.0, Unit::Metre), Some(2.5));
        assert_eq!(
            Unit::MilligramPerM3.convert(0.035, Unit::MicrogramPerM3),
            Some(35.0)
        );
        assert_eq!(Unit::Kilowatt.convert(1.0, Unit::VehPerHour), None);
    }
}
