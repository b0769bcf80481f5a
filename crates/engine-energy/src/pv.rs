//! The rooftop PV chain: weather → sun position → plane-of-array irradiance
//! → cell temperature → DC power → AC power.
//!
//! Each stage is the published model pvlib implements, so every stage can be
//! compared with pvlib on its own:
//! - sun position: NREL SPA ([`solar_position`]);
//! - extraterrestrial irradiance: Spencer (1971) ([`extra_radiation`]);
//! - transposition: isotropic sky and Hay-Davies ([`poa_isotropic`], [`poa_hay_davies`]);
//! - cell temperature: Faiman (2008) ([`faiman_cell_temp`]);
//! - DC power: PVWatts ([`pvwatts_dc`]); AC power: PVWatts inverter ([`pvwatts_ac`]).

mod spa;
mod spa_terms;

use serde::{Deserialize, Serialize};

use crate::csv::Table;
use crate::error::NetError;
pub use spa::{Site, SolarPosition, solar_position};

/// Extraterrestrial normal irradiance (W/m²) on day of year `doy` (1-based),
/// Spencer's series with pvlib's 1366.1 W/m² solar constant.
pub fn extra_radiation(doy: u32) -> f64 {
    let b = 2.0 * std::f64::consts::PI * (f64::from(doy) - 1.0) / 365.0;
    let r = 1.00011
        + 0.034221 * b.cos()
        + 0.00128 * b.sin()
        + 0.000719 * (2.0 * b).cos()
        + 0.000077 * (2.0 * b).sin();
    1366.1 * r
}

/// Cosine of the angle of incidence on a plane of `tilt`/`azimuth` (degrees)
/// for a sun at `zenith`/`sun_azimuth` (degrees), clipped to [-1, 1].
pub fn aoi_projection(tilt: f64, azimuth: f64, zenith: f64, sun_azimuth: f64) -> f64 {
    let (t, z) = (tilt.to_radians(), zenith.to_radians());
    let p = z.cos() * t.cos() + z.sin() * t.sin() * (sun_azimuth - azimuth).to_radians().cos();
    p.clamp(-1.0, 1.0)
}

/// Plane-of-array irradiance components, W/m².
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Poa {
    /// Total.
    pub global: f64,
    /// Beam.
    pub direct: f64,
    /// Sky diffuse.
    pub sky_diffuse: f64,
    /// Ground-reflected.
    pub ground_diffuse: f64,
}

/// Irradiance on a plane under the isotropic sky model.
pub fn poa_isotropic(tilt: f64, cos_aoi: f64, dni: f64, ghi: f64, dhi: f64, albedo: f64) -> Poa {
    let ct = tilt.to_radians().cos();
    let direct = (dni * cos_aoi).max(0.0);
    let sky = dhi * (1.0 + ct) * 0.5;
    let ground = ghi * albedo * (1.0 - ct) * 0.5;
    Poa {
        global: direct + sky + ground,
        direct,
        sky_diffuse: sky,
        ground_diffuse: ground,
    }
}

/// Irradiance on a plane under the Hay-Davies sky model (circumsolar share
/// from the anisotropy index `dni / dni_extra`).
#[allow(clippy::too_many_arguments)] // the model's own inputs
pub fn poa_hay_davies(
    tilt: f64,
    cos_aoi: f64,
    zenith: f64,
    dni: f64,
    ghi: f64,
    dhi: f64,
    dni_extra: f64,
    albedo: f64,
) -> Poa {
    let ct = tilt.to_radians().cos();
    let rb = cos_aoi.max(0.0) / zenith.to_radians().cos().max(0.01745);
    let ai = dni / dni_extra;
    let iso = (dhi * (1.0 - ai) * 0.5 * (1.0 + ct)).max(0.0);
    let circ = (dhi * ai * rb).max(0.0);
    let direct = (dni * cos_aoi).max(0.0);
    let ground = ghi * albedo * (1.0 - ct) * 0.5;
    Poa {
        global: direct + iso + circ + ground,
        direct,
        sky_diffuse: iso + circ,
        ground_diffuse: ground,
    }
}

/// Faiman cell temperature, °C: `T_air + E / (u0 + u1·wind)`.
pub fn faiman_cell_temp(poa_global: f64, temp_air: f64, wind_ms: f64, u0: f64, u1: f64) -> f64 {
    temp_air + poa_global / (u0 + u1 * wind_ms)
}

/// PVWatts DC power, W: `pdc0 · E/1000 · (1 + γ (T_cell − 25))`.
pub fn pvwatts_dc(poa_effective: f64, temp_cell: f64, pdc0_w: f64, gamma_pdc: f64) -> f64 {
    poa_effective * 0.001 * pdc0_w * (1.0 + gamma_pdc * (temp_cell - 25.0))
}

/// PVWatts inverter, W: part-load efficiency curve, clipped at
/// `eta_nom · pdc0` and at zero. `eta_ref` is 0.9637 in PVWatts.
pub fn pvwatts_ac(pdc_w: f64, inv_pdc0_w: f64, eta_nom: f64, eta_ref: f64) -> f64 {
    let pac0 = eta_nom * inv_pdc0_w;
    let zeta = pdc_w / inv_pdc0_w;
    let eta = if pdc_w == 0.0 {
        0.0
    } else {
        eta_nom / eta_ref * (-0.0162 * zeta - 0.0059 / zeta + 0.9858)
    };
    (eta * pdc_w).min(pac0).max(0.0)
}

/// A PV system.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PvSystem {
    /// DC rating, W (kWp · 1000).
    pub pdc0_w: f64,
    /// Tilt from horizontal, degrees.
    pub tilt: f64,
    /// Azimuth, degrees east of north (180 = south).
    pub azimuth: f64,
    /// Temperature coefficient of power, 1/K.
    pub gamma_pdc: f64,
    /// Nominal inverter efficiency.
    pub inv_eta_nom: f64,
    /// Ground albedo.
    pub albedo: f64,
    /// Faiman constant heat-transfer coefficient, W/(m²·K).
    pub u0: f64,
    /// Faiman wind-dependent coefficient, W·s/(m³·K).
    pub u1: f64,
}

impl Default for PvSystem {
    fn default() -> Self {
        Self {
            pdc0_w: 1000.0,
            tilt: 25.0,
            azimuth: 180.0,
            gamma_pdc: -0.004,
            inv_eta_nom: 0.96,
            albedo: 0.2,
            u0: 25.0,
            u1: 6.84,
        }
    }
}

impl PvSystem {
    /// The inverter's DC rating, W (`pdc0 / eta_nom`, an inverter sized to
    /// deliver the array's rating).
    pub fn inv_pdc0_w(&self) -> f64 {
        self.pdc0_w / self.inv_eta_nom
    }
}

/// One weather record.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Weather {
    /// The instant the sun is evaluated at (mid-interval), Unix seconds UTC.
    pub unix_seconds: f64,
    /// Global horizontal irradiance, W/m².
    pub ghi: f64,
    /// Direct normal irradiance, W/m².
    pub dni: f64,
    /// Diffuse horizontal irradiance, W/m².
    pub dhi: f64,
    /// Air temperature, °C.
    pub temp_air: f64,
    /// Wind speed, m/s.
    pub wind_ms: f64,
    /// Station pressure, hPa.
    pub pressure_hpa: f64,
}

/// Every stage of the chain for one record.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PvStages {
    /// Apparent (refracted) zenith, degrees.
    pub apparent_zenith: f64,
    /// Geometric zenith, degrees.
    pub zenith: f64,
    /// Sun azimuth, degrees.
    pub azimuth: f64,
    /// Extraterrestrial normal irradiance, W/m².
    pub dni_extra: f64,
    /// Angle of incidence, degrees.
    pub aoi: f64,
    /// Isotropic POA components.
    pub poa_iso: Poa,
    /// Hay-Davies POA global, W/m².
    pub poa_global_hay_davies: f64,
    /// Faiman cell temperature, °C.
    pub temp_cell: f64,
    /// DC power, W.
    pub pdc_w: f64,
    /// AC power, W.
    pub pac_w: f64,
}

/// Runs the chain for one record (the DC model uses the isotropic POA).
pub fn pv_chain(sys: &PvSystem, site: &Site, w: &Weather) -> PvStages {
    let sp = solar_position(w.unix_seconds, site, w.pressure_hpa, w.temp_air, 67.0);
    let doy = day_of_year(w.unix_seconds);
    let dni_extra = extra_radiation(doy);
    let cos_aoi = aoi_projection(sys.tilt, sys.azimuth, sp.apparent_zenith, sp.azimuth);
    let poa = poa_isotropic(sys.tilt, cos_aoi, w.dni, w.ghi, w.dhi, sys.albedo);
    let hd = poa_hay_davies(
        sys.tilt,
        cos_aoi,
        sp.apparent_zenith,
        w.dni,
        w.ghi,
        w.dhi,
        dni_extra,
        sys.albedo,
    );
    let temp_cell = faiman_cell_temp(poa.global, w.temp_air, w.wind_ms, sys.u0, sys.u1);
    let pdc = pvwatts_dc(poa.global, temp_cell, sys.pdc0_w, sys.gamma_pdc);
    let pac = pvwatts_ac(pdc, sys.inv_pdc0_w(), sys.inv_eta_nom, 0.9637);
    PvStages {
        apparent_zenith: sp.apparent_zenith,
        zenith: sp.zenith,
        azimuth: sp.azimuth,
        dni_extra,
        aoi: cos_aoi.acos().to_degrees(),
        poa_iso: poa,
        poa_global_hay_davies: hd.global,
        temp_cell,
        pdc_w: pdc,
        pac_w: pac,
    }
}

/// Days since 1970-01-01 for a civil date (proleptic Gregorian).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// Civil date `(year, month, day)` of a day count since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // 1..=31, 1..=12
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Day of the year (1-based) of a UTC instant.
pub fn day_of_year(unix_seconds: f64) -> u32 {
    #[allow(clippy::cast_possible_truncation)] // days since 1970 fit easily
    let days = (unix_seconds / 86400.0).floor() as i64;
    let (y, _, _) = civil_from_days(days);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // 0..366
    let doy = (days - days_from_civil(y, 1, 1) + 1) as u32;
    doy
}

/// A TMY3 file: site metadata and hourly records.
#[derive(Debug, Clone, PartialEq)]
pub struct Tmy3 {
    /// Station site.
    pub site: Site,
    /// Hours east of UTC of the local standard time.
    pub tz_hours: f64,
    /// Hourly records; `unix_seconds` is the middle of each hour-ending interval.
    pub records: Vec<Weather>,
    /// Month (1-12) of each record, local standard time.
    pub month: Vec<u32>,
}

/// Parses NREL TMY3 text (first line: USAF, name, state, TZ, lat, lon, alt;
/// second line: header; then one record per hour-ending local standard time).
/// Each record's own year is kept, as pvlib does when it does not coerce years.
pub fn parse_tmy3(text: &str) -> Result<Tmy3, NetError> {
    let (meta, rest) = text
        .split_once('\n')
        .ok_or_else(|| NetError::MissingTable("tmy3".into()))?;
    let m = Table::parse("tmy3_meta", &format!("a,b,c,tz,lat,lon,alt\n{meta}"))?;
    let site = Site {
        latitude: m.f64(0, "lat")?,
        longitude: m.f64(0, "lon")?,
        altitude_m: m.f64(0, "alt")?,
    };
    let tz = m.f64(0, "tz")?;
    let t = Table::parse("tmy3", rest)?;
    let (cd, ct) = (t.require("Date (MM/DD/YYYY)")?, t.require("Time (HH:MM)")?);
    let mut records = Vec::with_capacity(t.rows.len());
    let mut month = Vec::with_capacity(t.rows.len());
    for r in 0..t.rows.len() {
        let bad = |c: usize| NetError::BadValue {
            table: "tmy3".into(),
            row: r,
            column: t.header[c].clone(),
            value: t.cell(r, c).to_string(),
        };
        let date: Vec<&str> = t.cell(r, cd).split('/').collect();
        let time: Vec<&str> = t.cell(r, ct).split(':').collect();
        let (Some(mo), Some(d), Some(y), Some(h)) = (
            date.first().and_then(|s| s.parse::<u32>().ok()),
            date.get(1).and_then(|s| s.parse::<u32>().ok()),
            date.get(2).and_then(|s| s.parse::<i64>().ok()),
            time.first().and_then(|s| s.parse::<f64>().ok()),
        ) else {
            return Err(bad(cd));
        };
        // 24:00 is midnight of the next day; like pvlib's reader, a record
        // that lands on 29 February is moved to 1 March (TMY years have 8760 hours)
        let mut days = days_from_civil(y, mo, d);
        let mut h = h;
        if h >= 24.0 {
            days += 1;
            h -= 24.0;
        }
        if civil_from_days(days).1 == 2 && civil_from_days(days).2 == 29 {
            days += 1;
        }
        #[allow(clippy::cast_precision_loss)] // day counts are small
        let local = days as f64 * 86400.0 + h * 3600.0;
        records.push(Weather {
            unix_seconds: local - 1800.0 - tz * 3600.0,
            ghi: t.f64(r, "GHI (W/m^2)")?,
            dni: t.f64(r, "DNI (W/m^2)")?,
            dhi: t.f64(r, "DHI (W/m^2)")?,
            temp_air: t.f64(r, "Dry-bulb (C)")?,
            wind_ms: t.f64(r, "Wspd (m/s)")?,
            pressure_hpa: t.f64(r, "Pressure (mbar)")?,
        });
        month.push(mo);
    }
    Ok(Tmy3 {
        site,
        tz_hours: tz,
        records,
        month,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_round_trip() {
        for days in [-1000, 0, 6574, 6633, 20000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(day_of_year(86400.0 * 59.5), 60); // 1 March 1970
    }

    #[test]
    fn inverter_clips_at_rating_and_never_goes_negative() {
        assert_eq!(pvwatts_ac(0.0, 5208.3, 0.96, 0.9637), 0.0);
        assert_eq!(pvwatts_ac(10_000.0, 5000.0, 0.96, 0.9637), 4800.0);
        assert_eq!(pvwatts_ac(1.0, 5000.0, 0.96, 0.9637), 0.0);
    }

    #[test]
    fn spa_matches_the_papers_example() {
        // Reda & Andreas 2004, table A5: 2003-10-17 12:30:30 local (UTC-7), dT = 67 s
        let t =
            days_from_civil(2003, 10, 17) as f64 * 86400.0 + (19.0 * 3600.0 + 30.0 * 60.0 + 30.0);
        let site = Site {
            latitude: 39.742476,
            longitude: -105.1786,
            altitude_m: 1830.14,
        };
        let p = solar_position(t, &site, 820.0, 11.0, 67.0);
        assert!(
            (p.apparent_zenith - 50.11162).abs() < 1e-5,
            "{}",
            p.apparent_zenith
        );
        assert!((p.azimuth - 194.34024).abs() < 1e-5, "{}", p.azimuth);
    }
}
