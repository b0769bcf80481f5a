//! `citybrain import osm FILE`: import a city and report what it holds.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Subcommand};

/// `citybrain import` subcommands.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Import an OpenStreetMap extract (`.osm.pbf`).
    Osm(OsmArgs),
}

/// Options of `citybrain import osm`.
#[derive(Debug, Args)]
pub struct OsmArgs {
    /// The `.osm.pbf` file.
    pub file: PathBuf,
    /// Extra GeoJSON layers (communities, feeders, sensors).
    #[arg(long)]
    pub geojson: Vec<PathBuf>,
    /// Write the imported entities as GeoJSON here.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Also store the entities in this database (`sqlite://FILE` or `postgres://...`),
    /// so `citybrain serve` with `city.source = "store"` runs this city.
    #[arg(long)]
    pub db: Option<String>,
}

/// Runs the subcommand.
pub fn run(cmd: Cmd) -> anyhow::Result<()> {
    match cmd {
        Cmd::Osm(a) => osm(a),
    }
}

fn osm(a: OsmArgs) -> anyhow::Result<()> {
    let bytes = std::fs::read(&a.file).with_context(|| format!("reading {}", a.file.display()))?;
    let import = twin::import::osm(&bytes, &twin::import::OsmOptions::default())
        .with_context(|| format!("importing {}", a.file.display()))?;
    let (mut city, warnings) = import.into_parts();
    for p in &a.geojson {
        let text =
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
        for e in
            twin::import::geojson(&text).with_context(|| format!("importing {}", p.display()))?
        {
            if let Some(spec) = e.sensor().cloned() {
                city.registry.upsert_sensor(spec);
            }
            city.entities.retain(|x| x.id != e.id);
            city.entities.push(e);
        }
    }
    city.assign_communities();
    city.check().context("the imported city is inconsistent")?;
    let counts = city.counts();
    let summary = serde_json::json!({
        "file": a.file.display().to_string(),
        "entities": city.entities.len(),
        "by_kind": counts.iter().map(|(k, n)| (k.type_name().to_owned(), serde_json::json!(n))).collect::<serde_json::Map<_, _>>(),
        "warnings": warnings.len(),
        "attribution": city.attribution,
    });
    for w in warnings.iter().take(10) {
        tracing::warn!(warning = %w, "Import warning.");
    }
    if let Some(out) = &a.out {
        std::fs::write(out, twin::export::geojson(city.entities.iter()))
            .with_context(|| format!("writing {}", out.display()))?;
    }
    if let Some(url) = &a.db {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        rt.block_on(async {
            let db = store::DbConfig {
                url: Some(url.clone()),
                ..store::DbConfig::default()
            };
            let store = db.build().await.context("connecting to the database")?;
            crate::city::persist(&city, &store, |_| None).await
        })?;
    }
    #[allow(clippy::print_stdout)] // the summary is the command's output
    {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    }
    Ok(())
}
