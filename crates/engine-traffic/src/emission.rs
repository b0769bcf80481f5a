//! CO2 emission factor as a function of average speed.

/// CO2 grams per vehicle-kilometre of an average petrol passenger car at
/// average speed `v_kmh`.
///
/// Fuel consumption follows the rational speed curve of COPERT-type
/// (EMEP/EEA guidebook) hot-emission factors for a Euro 4 petrol car of
/// 1.4-2.0 l, `FC = (217 + 0.253 v + 0.00965 v²) / (1 + 0.096 v - 0.000421 v²)`
/// g/km, and CO2 = 3.169 × FC (carbon balance of petrol). The speed is clamped to
/// the curve's range, 10-130 km/h, so crawling queues count as 10 km/h per
/// km driven (idling time is not added separately).
///
/// ```
/// let slow = engine_traffic::co2_g_per_km(10.0);
/// let urban = engine_traffic::co2_g_per_km(40.0);
/// assert!(slow > urban && urban > 100.0);
/// ```
pub fn co2_g_per_km(v_kmh: f64) -> f64 {
    let v = if v_kmh.is_finite() {
        v_kmh.clamp(10.0, 130.0)
    } else {
        10.0
    };
    let fc = (217.0 + 0.253 * v + 0.00965 * v * v) / (1.0 + 0.096 * v - 0.000421 * v * v);
    3.169 * fc
}
