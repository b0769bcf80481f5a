//! NREL Solar Position Algorithm (Reda & Andreas 2004), the variant pvlib
//! evaluates as `nrel_numpy`: topocentric zenith with and without
//! atmospheric refraction, and azimuth east of north.

use super::spa_terms::{
    B0, B1, L0, L1, L2, L3, L4, L5, NUTATION_ABCD, NUTATION_Y, R0, R1, R2, R3, R4,
};

/// Where the sun is, seen from a site.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SolarPosition {
    /// Zenith angle corrected for refraction, degrees.
    pub apparent_zenith: f64,
    /// Geometric (topocentric) zenith angle, degrees.
    pub zenith: f64,
    /// Azimuth, degrees east of north.
    pub azimuth: f64,
    /// Earth-sun distance, AU.
    pub earth_sun_au: f64,
}

/// Where and under what air an observer stands.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Site {
    /// Latitude, degrees north.
    pub latitude: f64,
    /// Longitude, degrees east.
    pub longitude: f64,
    /// Elevation above sea level, m.
    pub altitude_m: f64,
}

fn series(terms: &[[f64; 3]], x: f64) -> f64 {
    terms.iter().map(|t| t[0] * (t[1] + t[2] * x).cos()).sum()
}

fn poly(jme: f64, parts: &[f64]) -> f64 {
    parts.iter().rev().fold(0.0, |acc, &p| acc * jme + p)
}

/// The sun's position at `unix_seconds` (UTC) for `site`, with the local
/// pressure (hPa) and temperature (°C) for refraction, and `delta_t`
/// (TT − UT, seconds; pvlib's default is 67).
pub fn solar_position(
    unix_seconds: f64,
    site: &Site,
    pressure_hpa: f64,
    temp_c: f64,
    delta_t: f64,
) -> SolarPosition {
    let jd = unix_seconds / 86400.0 + 2440587.5;
    let jde = jd + delta_t / 86400.0;
    let jc = (jd - 2451545.0) / 36525.0;
    let jce = (jde - 2451545.0) / 36525.0;
    let jme = jce / 10.0;
    let l_rad = poly(
        jme,
        &[
            series(&L0, jme),
            series(&L1, jme),
            series(&L2, jme),
            series(&L3, jme),
            series(&L4, jme),
            series(&L5, jme),
        ],
    ) / 1e8;
    let l = l_rad.to_degrees().rem_euclid(360.0);
    let b = (poly(jme, &[series(&B0, jme), series(&B1, jme)]) / 1e8).to_degrees();
    let r = poly(
        jme,
        &[
            series(&R0, jme),
            series(&R1, jme),
            series(&R2, jme),
            series(&R3, jme),
            series(&R4, jme),
        ],
    ) / 1e8;
    let theta = (l + 180.0).rem_euclid(360.0);
    let beta = -b;
    let x0 = 297.85036 + 445267.111480 * jce - 0.0019142 * jce.powi(2) + jce.powi(3) / 189474.0;
    let x1 = 357.52772 + 35999.050340 * jce - 0.0001603 * jce.powi(2) - jce.powi(3) / 300000.0;
    let x2 = 134.96298 + 477198.867398 * jce + 0.0086972 * jce.powi(2) + jce.powi(3) / 56250.0;
    let x3 = 93.27191 + 483202.017538 * jce - 0.0036825 * jce.powi(2) + jce.powi(3) / 327270.0;
    let x4 = 125.04452 - 1934.136261 * jce + 0.0020708 * jce.powi(2) + jce.powi(3) / 450000.0;
    let (mut dpsi, mut deps) = (0.0, 0.0);
    for (abcd, y) in NUTATION_ABCD.iter().zip(&NUTATION_Y) {
        let arg = (y[0] * x0 + y[1] * x1 + y[2] * x2 + y[3] * x3 + y[4] * x4).to_radians();
        dpsi += (abcd[0] + abcd[1] * jce) * arg.sin();
        deps += (abcd[2] + abcd[3] * jce) * arg.cos();
    }
    let dpsi = dpsi / 36_000_000.0;
    let deps = deps / 36_000_000.0;
    let u = jme / 10.0;
    let e0 = 84381.448 - 4680.93 * u - 1.55 * u.powi(2) + 1999.25 * u.powi(3)
        - 51.38 * u.powi(4)
        - 249.67 * u.powi(5)
        - 39.05 * u.powi(6)
        + 7.12 * u.powi(7)
        + 27.87 * u.powi(8)
        + 5.79 * u.powi(9)
        + 2.45 * u.powi(10);
    let eps = e0 / 3600.0 + deps;
    let dtau = -20.4898 / (3600.0 * r);
    let lamd = theta + dpsi + dtau;
    let v0 = (280.46061837 + 360.98564736629 * (jd - 2451545.0) + 0.000387933 * jc.powi(2)
        - jc.powi(3) / 38710000.0)
        .rem_euclid(360.0);
    let v = v0 + dpsi * eps.to_radians().cos();
    let (eps_r, lamd_r, beta_r) = (eps.to_radians(), lamd.to_radians(), beta.to_radians());
    let alpha = (lamd_r.sin() * eps_r.cos() - beta_r.tan() * eps_r.sin())
        .atan2(lamd_r.cos())
        .to_degrees()
        .rem_euclid(360.0);
    let delta = (beta_r.sin() * eps_r.cos() + beta_r.cos() * eps_r.sin() * lamd_r.sin())
        .asin()
        .to_degrees();
    let h = (v + site.longitude - alpha).rem_euclid(360.0);
    let xi = 8.794 / (3600.0 * r);
    let lat_r = site.latitude.to_radians();
    let uu = (0.99664719 * lat_r.tan()).atan();
    let x = uu.cos() + site.altitude_m / 6378140.0 * lat_r.cos();
    let y = 0.99664719 * uu.sin() + site.altitude_m / 6378140.0 * lat_r.sin();
    let (xi_r, h_r, delta_r) = (xi.to_radians(), h.to_radians(), delta.to_radians());
    let dalpha = (-x * xi_r.sin() * h_r.sin())
        .atan2(delta_r.cos() - x * xi_r.sin() * h_r.cos())
        .to_degrees();
    let delta_p = ((delta_r.sin() - y * xi_r.sin()) * dalpha.to_radians().cos())
        .atan2(delta_r.cos() - x * xi_r.sin() * h_r.cos())
        .to_degrees();
    let h_p = h - dalpha;
    let (dp_r, hp_r) = (delta_p.to_radians(), h_p.to_radians());
    let e0 = (lat_r.sin() * dp_r.sin() + lat_r.cos() * dp_r.cos() * hp_r.cos())
        .asin()
        .to_degrees();
    const ATMOS_REFRACT: f64 = 0.5667;
    let de = if e0 >= -(0.26667 + ATMOS_REFRACT) {
        (pressure_hpa / 1010.0) * (283.0 / (273.0 + temp_c)) * 1.02
            / (60.0 * (e0 + 10.3 / (e0 + 5.11)).to_radians().tan())
    } else {
        0.0
    };
    let gamma = hp_r
        .sin()
        .atan2(hp_r.cos() * lat_r.sin() - dp_r.tan() * lat_r.cos())
        .to_degrees()
        .rem_euclid(360.0);
    SolarPosition {
        apparent_zenith: 90.0 - (e0 + de),
        zenith: 90.0 - e0,
        azimuth: (gamma + 180.0).rem_euclid(360.0),
        earth_sun_au: r,
    }
}
