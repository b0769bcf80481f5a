//! Acceptance 4 (accessibility): network distances equal the references within 1 m.

use engine_community::{WalkGraph, access_report, parse_buildings, parse_pois};

use crate::{shared_json, shared_text};

struct Fixture {
    graph: WalkGraph,
    buildings_csv: String,
    pois_csv: String,
}

fn fixture() -> Option<Fixture> {
    let dir = "accessibility_helsinki_osm";
    Some(Fixture {
        graph: WalkGraph::from_csv(
            &shared_text(&format!("{dir}/walk_nodes.csv"))?,
            &shared_text(&format!("{dir}/walk_edges.csv"))?,
        )
        .unwrap(),
        buildings_csv: shared_text(&format!("{dir}/buildings_expected_network_distance.csv"))?,
        pois_csv: shared_text(&format!("{dir}/pois.csv"))?,
    })
}

#[test]
fn building_distances_match_the_reference_within_a_metre() {
    let Some(f) = fixture() else { return };
    assert_eq!(f.graph.nodes(), 5559);
    assert_eq!(f.graph.edges(), 6362);
    let buildings = parse_buildings(&f.buildings_csv).unwrap();
    let pois = parse_pois(&f.pois_csv).unwrap();
    let report = access_report(&f.graph, &buildings, &pois, &[400.0, 800.0, 1200.0]).unwrap();
    let header: Vec<&str> = f.buildings_csv.lines().next().unwrap().split(',').collect();
    let mut checked = 0;
    for (col, name) in header.iter().enumerate() {
        let Some(cat) = name.strip_prefix("dist_m_") else {
            continue;
        };
        let ours = &report.distances_m[cat];
        for (b, line) in f.buildings_csv.lines().skip(1).enumerate() {
            let want: f64 = line.split(',').nth(col).unwrap().parse().unwrap();
            match ours[b] {
                Some(d) => assert!((d - want).abs() <= 1.0, "{cat} building {b}: {d} vs {want}"),
                None => assert!(
                    want.is_infinite(),
                    "{cat} building {b}: unreachable vs {want}"
                ),
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 5 * 486);
}

#[test]
fn served_shares_match_the_reference() {
    let (Some(f), Some(want)) = (
        fixture(),
        shared_json("accessibility_helsinki_osm/access_reference_results.json"),
    ) else {
        return;
    };
    let buildings = parse_buildings(&f.buildings_csv).unwrap();
    let pois = parse_pois(&f.pois_csv).unwrap();
    let report = access_report(&f.graph, &buildings, &pois, &[400.0, 800.0, 1200.0]).unwrap();
    for (cat, w) in want["categories"].as_object().unwrap() {
        let got = &report.categories[cat];
        assert_eq!(got.pois, w["n_pois"].as_u64().unwrap(), "{cat}");
        for (k, t) in ["400", "800", "1200"].iter().enumerate() {
            let ws = w[format!("share_buildings_within_{t}m")].as_f64().unwrap();
            assert!(
                (got.city.building_share[k] - ws).abs() < 1e-12,
                "{cat}@{t}: {} vs {ws}",
                got.city.building_share[k]
            );
        }
    }
}

#[test]
fn adding_a_pharmacy_raises_the_served_share() {
    let Some(f) = fixture() else { return };
    let buildings = parse_buildings(&f.buildings_csv).unwrap();
    let mut pois = parse_pois(&f.pois_csv).unwrap();
    let th = [400.0];
    let before = access_report(&f.graph, &buildings, &pois, &th).unwrap();
    // the worst-served building gets a pharmacy at its own node
    let d = &before.distances_m["pharmacy"];
    let worst = (0..d.len())
        .filter(|&i| d[i].is_some())
        .max_by(|&a, &b| d[a].partial_cmp(&d[b]).unwrap())
        .unwrap();
    pois.push(engine_community::Poi {
        category: "pharmacy".into(),
        id: "new".into(),
        node: buildings[worst].node,
    });
    let after = access_report(&f.graph, &buildings, &pois, &th).unwrap();
    assert_eq!(after.distances_m["pharmacy"][worst], Some(0.0));
    let deltas = scenario::compare(&before.flat(), &after.flat());
    let ph = deltas.iter().find(|k| k.kpi == "pharmacy@400m").unwrap();
    assert!(ph.delta > 0.0);
    assert!(
        deltas
            .iter()
            .filter(|k| !k.kpi.starts_with("pharmacy"))
            .all(|k| k.delta == 0.0)
    );
}

#[test]
fn multi_source_distances_equal_the_minimum_of_single_sources() {
    // a small hand-made graph: 0-1-2-3 path plus a shortcut 0-3
    let g = WalkGraph::from_edges(5, &[(0, 1, 10.0), (1, 2, 10.0), (2, 3, 10.0), (0, 3, 25.0)])
        .unwrap();
    let both = engine_community::nearest_distances(&g, &[0, 2]).unwrap();
    let a = engine_community::nearest_distances(&g, &[0]).unwrap();
    let b = engine_community::nearest_distances(&g, &[2]).unwrap();
    for i in 0..5 {
        assert_eq!(both[i], a[i].min(b[i]));
    }
    assert_eq!(a[3], 25.0);
    assert!(both[4].is_infinite());
    assert!(WalkGraph::from_edges(2, &[(0, 2, 1.0)]).is_err());
}
