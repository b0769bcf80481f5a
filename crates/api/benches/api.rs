//! Benchmarks of the API on a synthetic city of about 10^6 entities.
//!
//! Criterion (`cargo bench -p api --bench api`): the H3 cells query for the
//! city-wide bbox at resolution 9, through the whole router (middleware
//! included), in both forms, next to the floor of the same pipeline
//! (`/health`) and the twin query alone.
//!
//! Load mode (`API_BENCH_SERVE=<seconds>`): serves the same city on
//! `127.0.0.1:$API_BENCH_PORT` (default 8099) while an in-process ingest
//! loop applies 20,000 observations/s to the twin (one writer, a snapshot
//! every 100 ms, live cell updates and the operations centre on every batch,
//! as the server's twin task does), so an HTTP load generator can measure
//! latency under ingest. `crates/api/benches/load.sh` drives it.

use std::hint::black_box;
use std::time::{Duration, Instant};

use api::{AppState, AuthConfig, HttpConfig, LiveHub, LiveUpdate, OpsConfig};
use axum::body::Body;
use axum::http::Request;
use criterion::{Criterion, Throughput};
use domain::{Metric, Observation, SensorKind, Timestamp};
use tokio::sync::watch;
use tower::ServiceExt;
use twin::synthetic::{SyntheticSpec, generate};
use twin::{Twin, TwinConfig};

const METRIC: &str = "flow";
const RES: u8 = 9;

struct Fixture {
    rt: tokio::runtime::Runtime,
    state: AppState,
    twin: Twin,
    tx: watch::Sender<twin::TwinSnapshot>,
    detectors: Vec<domain::SensorId>,
    bbox: String,
    _dir: tempfile::TempDir,
}

/// The synthetic city of ~10^6 entities with one `flow` reading per traffic
/// detector (so the res-9 cells of the whole city hold data).
fn fixture() -> Fixture {
    let t0 = Instant::now();
    let city = generate(&SyntheticSpec::with_entities(1_000_000, 7));
    let entities = city.entities.len();
    let mut twin = Twin::new(city, TwinConfig::default()).expect("a valid synthetic city");
    let snap = twin.snapshot();
    let detectors: Vec<domain::SensorId> = snap
        .sensors()
        .filter(|s| s.spec().kind == SensorKind::TrafficDetector)
        .map(|s| s.spec().id.clone())
        .collect();
    let flow = Metric::new(METRIC).expect("valid metric");
    let now = api::util::now().0;
    let obs: Vec<Observation> = detectors
        .iter()
        .enumerate()
        .map(|(i, s)| Observation {
            sensor: s.clone(),
            metric: flow.clone(),
            ts: Timestamp(now),
            value: 200.0 + (i % 900) as f64,
        })
        .collect();
    twin.apply_observations(&obs);
    let snap = twin.snapshot();
    let b = snap.bounds().expect("the city has bounds");
    let bbox = format!("{},{},{},{}", b.min().x, b.min().y, b.max().x, b.max().y);
    let cells = snap
        .cells(h3o::Resolution::Nine, METRIC, None)
        .expect("res 9 is kept")
        .len();
    eprintln!(
        "city: {entities} entities, {} detectors, {cells} res-9 cells with {METRIC}; built in {:.1} s",
        detectors.len(),
        t0.elapsed().as_secs_f64()
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let (tx, rx) = watch::channel(snap);
    let state = rt.block_on(async {
        let store = store::DbConfig {
            data_dir: dir.path().to_owned(),
            ..store::DbConfig::default()
        }
        .build()
        .await
        .expect("a SQLite store");
        let http = HttpConfig {
            rate_limit_per_sec: 0,
            port: std::env::var("API_BENCH_PORT")
                .ok()
                .and_then(|p| p.parse().ok())
                .unwrap_or(8099),
            ..HttpConfig::default()
        };
        let auth = AuthConfig {
            anonymous_read: true,
            bootstrap_tokens_file: None,
        };
        AppState::load(
            rx,
            store,
            LiveHub::new(256),
            http,
            auth,
            &OpsConfig::default(),
        )
        .await
        .expect("the app state")
    });
    Fixture {
        rt,
        state,
        twin,
        tx,
        detectors,
        bbox,
        _dir: dir,
    }
}

fn bench(c: &mut Criterion, f: &Fixture) {
    let router = api::router(f.state.clone());
    let snap = f.state.twin();
    let rect = {
        let v: Vec<f64> = f
            .bbox
            .split(',')
            .map(|x| x.parse().unwrap_or(0.0))
            .collect();
        geo::Rect::new((v[0], v[1]), (v[2], v[3]))
    };
    let n = snap
        .cells(h3o::Resolution::Nine, METRIC, Some(rect))
        .expect("res 9")
        .len() as u64;
    let call = |uri: String| {
        let router = router.clone();
        async move {
            let resp = router
                .oneshot(Request::get(uri).body(Body::empty()).expect("a request"))
                .await
                .expect("a response");
            assert!(resp.status().is_success());
            axum::body::to_bytes(resp.into_body(), usize::MAX)
                .await
                .expect("a body")
                .len()
        }
    };
    let mut g = c.benchmark_group("cells_res9_city");
    g.throughput(Throughput::Elements(n));
    g.sample_size(30);
    for format in ["compact", "geojson"] {
        let uri = format!(
            "/api/v1/cells?res={RES}&metric={METRIC}&bbox={}&format={format}",
            f.bbox
        );
        g.bench_function(format!("router_{format}"), |b| {
            b.iter(|| black_box(f.rt.block_on(call(uri.clone()))));
        });
    }
    g.bench_function("twin_query_only", |b| {
        b.iter(|| {
            black_box(
                snap.cells(h3o::Resolution::Nine, METRIC, Some(rect))
                    .expect("res 9")
                    .len(),
            )
        });
    });
    g.bench_function("router_health_floor", |b| {
        b.iter(|| black_box(f.rt.block_on(call("/health".into()))));
    });
    g.finish();

    // a live cell frame of 50,000 cells, serialised per client
    let rows: Vec<api::CellRow> = snap
        .cells(h3o::Resolution::Ten, METRIC, None)
        .expect("res 10")
        .iter()
        .cycle()
        .take(50_000)
        .map(|a| {
            let w = api::routes::city::live_window(a);
            (
                a.cell.to_string(),
                w.mean().unwrap_or(0.0) + 0.123_456_789,
                w.count(),
                w.min().unwrap_or(0.0) + 0.111_111_1,
                w.max().unwrap_or(0.0) + 0.987_654_3,
                w.last().map_or(0.0, |l| l.0) + 0.555_555_5,
            )
        })
        .collect();
    let frame = LiveUpdate::Cells {
        res: 10,
        metric: METRIC.into(),
        cells: rows,
    };
    let mut g = c.benchmark_group("stream_frame_50k_cells");
    g.throughput(Throughput::Elements(50_000));
    g.sample_size(20);
    for format in ["compact", "full"] {
        let q: api::routes::stream::StreamQuery = axum::extract::Query::try_from_uri(
            &format!("/s?format={format}").parse().expect("uri"),
        )
        .expect("query")
        .0;
        let filter = api::routes::stream::Filter::parse(&q).expect("filter");
        let bytes = filter.render(&frame).map_or(0, |m| m.len());
        eprintln!("stream frame of 50,000 cells, format={format}: {bytes} bytes");
        g.bench_function(format, |b| b.iter(|| black_box(filter.render(&frame))));
    }
    g.finish();
}

/// Serves the fixture for `secs` seconds with an ingest loop at `rate`
/// observations per second.
fn serve(mut f: Fixture, secs: u64, rate: u64) {
    let state = f.state.clone();
    let stop = tokio_util::sync::CancellationToken::new();
    let (btx, brx) = tokio::sync::oneshot::channel();
    let cfg = (*state.http).clone();
    let s2 = stop.clone();
    f.rt.spawn(async move { api::serve(&cfg, state, s2, btx).await });
    let addr = f.rt.block_on(brx).expect("the server binds");
    eprintln!("serving on http://{addr} for {secs} s, ingesting {rate} observations/s");
    let flow = Metric::new(METRIC).expect("valid metric");
    let tick = Duration::from_millis(100);
    let per_tick = (rate / 10).max(1) as usize;
    let start = Instant::now();
    let (mut applied, mut i) = (0u64, 0usize);
    let mut next = Instant::now();
    while start.elapsed() < Duration::from_secs(secs) {
        let now = api::util::now();
        let batch: Vec<Observation> = (0..per_tick)
            .map(|k| {
                let s = &f.detectors[(i + k) % f.detectors.len()];
                Observation {
                    sensor: s.clone(),
                    metric: flow.clone(),
                    ts: Timestamp(now.0 + (k % 1000) as i64),
                    value: 100.0 + ((i + k) % 1500) as f64,
                }
            })
            .collect();
        i += per_tick;
        f.twin.apply_observations(&batch);
        let snap = f.twin.snapshot();
        let _ = f.tx.send(snap.clone());
        let touched: std::collections::BTreeSet<h3o::CellIndex> = batch
            .iter()
            .filter_map(|o| snap.sensor(o.sensor.as_str()))
            .filter_map(|s| s.cell().parent(h3o::Resolution::Nine))
            .collect();
        let rows: Vec<api::CellRow> = touched
            .iter()
            .filter_map(|c| snap.cell(METRIC, *c).ok().flatten())
            .filter_map(|a| {
                let w = api::routes::city::live_window(&a);
                Some((
                    a.cell.to_string(),
                    w.mean()?,
                    w.count(),
                    w.min()?,
                    w.max()?,
                    w.last()?.0,
                ))
            })
            .collect();
        f.state.live.publish(LiveUpdate::Cells {
            res: RES,
            metric: METRIC.into(),
            cells: rows,
        });
        f.rt.block_on(f.state.ops.on_observations(&batch, &snap));
        applied += batch.len() as u64;
        next += tick;
        if let Some(d) = next.checked_duration_since(Instant::now()) {
            std::thread::sleep(d);
        }
    }
    let secs_run = start.elapsed().as_secs_f64();
    eprintln!(
        "applied {applied} observations in {secs_run:.1} s ({:.0}/s)",
        applied as f64 / secs_run
    );
    stop.cancel();
}

fn main() {
    let f = fixture();
    if let Ok(secs) = std::env::var("API_BENCH_SERVE") {
        let secs = secs.parse().unwrap_or(60);
        let rate = std::env::var("API_BENCH_INGEST")
            .ok()
            .and_then(|r| r.parse().ok())
            .unwrap_or(20_000);
        serve(f, secs, rate);
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c, &f);
    c.final_summary();
}
