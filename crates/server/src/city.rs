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
