//! Loading the city the server runs, and keeping the store's registry and
//! entity table in step with it.

use anyhow::Context as _;
use domain::GatewaySpec;
use store::{EntityRecord, GatewayRecord, Store};
use twin::City;

use crate::config::{CityConfig, CitySource};

/// The demo city's OpenStreetMap extract (central Helsinki, ODbL,
/// © OpenStreetMap contributors), embedded so `citybrain demo` runs anywhere.
pub const HELSINKI_PBF: &[u8] = include_bytes!("../../../deploy/cities/helsinki/Helsinki.osm.pbf");

/// Illustrative static indicator inputs of the demo (the file's `note` says
/// what they are: example values, not official statistics).
pub const DEMO_INDICATOR_INPUTS: &str =
    include_str!("../../../deploy/cities/helsinki/indicator-inputs.example.json");

/// The demo's example static indicator inputs, parsed.
///
/// # Errors
/// When the embedded file does not parse (a build defect the tests catch).
pub fn demo_indicator_inputs() -> anyhow::Result<Vec<api::indicators::StaticInput>> {
    #[derive(serde::Deserialize)]
    struct File {
        inputs: Vec<api::indicators::StaticInput>,
    }
    let f: File = serde_json::from_str(DEMO_INDICATOR_INPUTS)
        .context("parsing the demo's example indicator inputs")?;
    Ok(f.inputs)
}

/// Enters the demo's example static indicator inputs when none are stored
/// yet, so that every pillar scores on a fresh demo. Inputs entered by a
/// user are never overwritten.
///
/// # Errors
/// When the store refuses the inputs.
pub async fn seed_demo_indicator_inputs(svc: &api::IndicatorService) -> anyhow::Result<usize> {
    if !svc.static_inputs().is_empty() {
        return Ok(0);
    }
    let inputs = demo_indicator_inputs()?;
    svc.put_inputs(&inputs, "demo-example")
        .await
        .context("storing the demo's example indicator inputs")?;
    Ok(inputs.len())
}

/// Builds the configured city. `store` is read for `source = "store"`.
pub async fn load(cfg: &CityConfig, store: &Store) -> anyhow::Result<City> {
    let mut city = match cfg.source {
        CitySource::Demo => {
            let mut c =
                twin::demo::helsinki(HELSINKI_PBF, cfg.seed).context("building the demo city")?;
            c.name.clone_from(&cfg.name);
            c
        }
        CitySource::Osm => {
            let path = cfg
                .osm_file
                .as_ref()
                .context("city.source = \"osm\" needs city.osm_file")?;
            let bytes =
                std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            let import = twin::import::osm(&bytes, &twin::import::OsmOptions::default())
                .with_context(|| format!("importing {}", path.display()))?;
            let (mut c, warnings) = import.into_parts();
            for w in warnings.iter().take(20) {
                tracing::warn!(warning = %w, "OSM import warning.");
            }
            c.name.clone_from(&cfg.name);
            c
        }
        CitySource::Geojson => City::new(cfg.name.clone()),
        CitySource::Synthetic => {
            let mut spec = twin::synthetic::SyntheticSpec::small(cfg.seed);
            spec.grid_x = cfg.synthetic_grid_x;
            spec.grid_y = cfg.synthetic_grid_y;
            twin::synthetic::generate(&spec)
        }
        CitySource::Store => from_store(&cfg.name, store).await?,
    };
    for path in &cfg.geojson_files {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let entities = twin::import::geojson(&text)
            .with_context(|| format!("importing {}", path.display()))?;
        for e in entities {
            if let Some(spec) = e.sensor().cloned() {
                city.registry.upsert_sensor(spec);
            }
            city.entities.retain(|x| x.id != e.id);
            city.entities.push(e);
        }
    }
    city.assign_communities();
    city.check().context("the city is inconsistent")?;
    Ok(city)
}

/// Rebuilds a city from the store's entity table and registry.
async fn from_store(name: &str, store: &Store) -> anyhow::Result<City> {
    let records = store
        .entities()
        .await
        .context("reading entities from the store")?;
    let features: Vec<serde_json::Value> = records
        .iter()
        .map(|r| {
            let geometry: serde_json::Value = serde_json::from_str(&r.geometry).unwrap_or(serde_json::Value::Null);
            serde_json::json!({"type": "Feature", "id": r.id.as_str(), "geometry": geometry, "properties": r.attrs})
        })
        .collect();
    let text = serde_json::json!({"type": "FeatureCollection", "features": features}).to_string();
    let entities = twin::import::geojson(&text).context("decoding stored entities")?;
    let registry = store
        .load_registry()
        .await
        .context("reading the registry")?;
    let gateways: Vec<GatewaySpec> = registry.gateways().cloned().collect();
    City::from_entities(name, entities, gateways).context("assembling the stored city")
}

/// Writes the city's gateways (with passwords from `password`), sensors and
/// entities to the store, so other processes and restarts see the same city.
pub async fn persist(
    city: &City,
    store: &Store,
    password: impl Fn(&str) -> Option<String>,
) -> anyhow::Result<()> {
    let gateways: Vec<GatewayRecord> = city
        .registry
        .gateways()
        .map(|g| GatewayRecord {
            spec: g.clone(),
            password: password(g.id.as_str()),
        })
        .collect();
    store
        .upsert_gateways(&gateways)
        .await
        .context("storing gateways")?;
    let sensors: Vec<domain::SensorSpec> = city.registry.sensors().cloned().collect();
    store
        .upsert_sensors(&sensors)
        .await
        .context("storing sensors")?;
    let records: Vec<EntityRecord> = city.entities.iter().map(to_record).collect();
    for chunk in records.chunks(5000) {
        store
            .upsert_entities(chunk)
            .await
            .context("storing entities")?;
    }
    Ok(())
}

/// An entity as a store record: the GeoJSON feature's properties are the attributes.
pub fn to_record(e: &twin::Entity) -> EntityRecord {
    let f = twin::export::feature(e);
    EntityRecord {
        id: e.id.clone(),
        kind: e.kind,
        name: e.name.clone().unwrap_or_default(),
        geometry: twin::export::geometry(&e.geometry),
        cell: Some(u64::from(e.cell)),
        community: e.community.clone(),
        attrs: serde_json::Value::Object(f.properties.unwrap_or_default()),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use governance::Source;

    use super::*;

    /// Every static indicator and deduction of the six-pillar profile has an
    /// example value, and nothing else is in the file.
    #[test]
    fn demo_inputs_cover_exactly_the_static_inputs_of_the_six_pillar_profile() {
        let p = governance::builtin("six-pillar").expect("builtin profile");
        let want: BTreeSet<String> = p
            .indicators()
            .iter()
            .filter(|i| matches!(i.source, Source::Static))
            .map(|i| i.id.clone())
            .chain(
                p.deductions()
                    .iter()
                    .filter(|d| matches!(d.source, Source::Static))
                    .map(|d| d.id.clone()),
            )
            .collect();
        let got: BTreeSet<String> = demo_indicator_inputs()
            .expect("the file parses")
            .into_iter()
            .map(|i| i.indicator)
            .collect();
        assert_eq!(got, want);
    }

    #[tokio::test]
    async fn demo_inputs_are_accepted_once_and_never_overwrite_a_users_inputs() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = store::DbConfig {
            data_dir: dir.path().to_path_buf(),
            ..store::DbConfig::default()
        };
        let store = db.build().await.expect("sqlite store");
        let svc = api::IndicatorService::load(store.clone())
            .await
            .expect("load");
        let n = seed_demo_indicator_inputs(&svc).await.expect("accepted");
        assert_eq!(n, demo_indicator_inputs().expect("parses").len());
        assert!(
            svc.static_inputs()
                .iter()
                .all(|i| i.updated_by.as_deref() == Some("demo-example"))
        );
        // a second start finds inputs and leaves them alone
        assert_eq!(seed_demo_indicator_inputs(&svc).await.expect("ok"), 0);

        let other = dir.path().join("other");
        let store2 = store::DbConfig {
            data_dir: other,
            ..store::DbConfig::default()
        }
        .build()
        .await
        .expect("sqlite store");
        let svc2 = api::IndicatorService::load(store2).await.expect("load");
        let mine = api::indicators::StaticInput {
            indicator: "eid_share".into(),
            year: 2024,
            value: 0.5,
            numerator: None,
            denominator: None,
            quality: None,
            updated_by: None,
            updated_at: None,
        };
        svc2.put_inputs(&[mine], "analyst").await.expect("stored");
        assert_eq!(seed_demo_indicator_inputs(&svc2).await.expect("ok"), 0);
        assert_eq!(svc2.static_inputs().len(), 1);
    }
}
