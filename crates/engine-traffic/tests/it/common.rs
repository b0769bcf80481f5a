//! Shared helpers: the Hangzhou inputs (read in place from the shared data)
//! and the stored SUMO reference.

use std::path::PathBuf;

use engine_traffic::{Demand, Network, Params, Report, Scenario, parse_cityflow, parse_sumo};

/// Horizon of every Hangzhou run, s.
pub const HORIZON_S: u32 = 3600;
/// Seeds of averaged runs (as SUMO's reference: 1-5).
pub const SEEDS: [u64; 5] = [1, 2, 3, 4, 5];

pub const STEM: &str = "hangzhou_4x4_gudang_18041610_1h";
/// The saturated variant's flow file (6984 vehicles).
pub const SATURATED_FLOW: &str = "anon_4_4_hangzhou_real_5816.json";

fn read(p: PathBuf) -> String {
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()))
}

/// The Hangzhou SUMO network with the real demand, or `None` (skipped) when
/// the shared data is absent.
pub fn real() -> Option<(Network, Demand)> {
    let dir = testkit::shared_data("traffic/hangzhou_4x4/sumo")?;
    let net = read(dir.join(format!("{STEM}.net.xml")));
    let rou = read(dir.join(format!("{STEM}.rou.xml")));
    Some(parse_sumo(&net, &rou).expect("Hangzhou SUMO files parse"))
}

/// The Hangzhou SUMO network with the saturated demand (the CityFlow flow
/// file's routes and departures; same road ids), or `None` (skipped).
pub fn saturated() -> Option<(Network, Demand)> {
    let (net, _) = real()?;
    let dir = testkit::shared_data("traffic/hangzhou_4x4/cityflow")?;
    let roadnet = read(dir.join("roadnet_4_4.json"));
    let flow = read(dir.join(SATURATED_FLOW));
    let (_, cf_demand) = parse_cityflow(&roadnet, &flow).expect("CityFlow files parse");
    // re-resolve the CityFlow routes on the SUMO network (same road ids)
    let trips = cf_demand
        .trips()
        .iter()
        .map(|t| {
            let engine_traffic::Route::Fixed(r) = &t.route else {
                unreachable!("CityFlow routes are explicit")
            };
            (t.id.clone(), t.depart_s, r.clone())
        })
        .collect::<Vec<_>>();
    let (cf_net, _) = parse_cityflow(&roadnet, "[]").expect("roadnet parses");
    let trips = trips
        .into_iter()
        .map(|(id, depart_s, r)| {
            let ids = r.iter().map(|l| cf_net.link(*l).id.as_str());
            engine_traffic::Trip {
                route: engine_traffic::Route::Fixed(
                    engine_traffic::route_from_ids(&net, &id, ids).expect("same road ids"),
                ),
                id,
                depart_s,
            }
        })
        .collect();
    Some((net, Demand::new(trips)))
}

/// The stored SUMO reference (crates/engine-traffic/reference/sumo_reference.json).
pub fn reference() -> serde_json::Value {
    serde_json::from_str(include_str!("../../reference/sumo_reference.json"))
        .expect("reference JSON parses")
}

/// A number at a JSON path like `cases.real.micro.mean.avg_travel_time_s`.
#[track_caller]
pub fn num(v: &serde_json::Value, path: &str) -> f64 {
    path.split('.')
        .fold(v, |v, k| &v[k])
        .as_f64()
        .unwrap_or_else(|| panic!("reference has no number at {path}"))
}

/// Runs with the calibrated default parameters.
pub fn run(net: &Network, demand: &Demand, scenario: &Scenario, seed: u64) -> Report {
    engine_traffic::simulate(
        net,
        demand,
        scenario,
        &Params::default(),
        seed,
        HORIZON_S,
        &mut scenario::NoProgress,
    )
    .expect("run succeeds")
}

/// GEH statistic of two hourly counts.
pub fn geh(m: f64, c: f64) -> f64 {
    if m + c == 0.0 {
        0.0
    } else {
        (2.0 * (m - c).powi(2) / (m + c)).sqrt()
    }
}
