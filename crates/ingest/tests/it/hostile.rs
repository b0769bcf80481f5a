//! A hostile corpus: at least 1,000 malformed or hostile payloads across the
//! four formats (native, SenML, FIWARE, Sparkplug B), generated
//! deterministically and interleaved with good ones, plus the hand-written
//! files in `tests/corpus/`. Every bad message must give dead letters with a
//! reason code and no observation from its bad part; every good one must give
//! exactly its observations; nothing may panic.

use std::time::Duration;

use ingest::sparkplug::{Metric, MetricValue, Payload, datatype};
use ingest::{Decoded, Reason, SparkplugState};
use prost::Message;

use crate::common::{NOW, ctx};

/// One generated message and what it must give.
pub struct Case {
    pub topic: String,
    pub payload: Vec<u8>,
    /// Observations it must yield.
    pub obs: usize,
    /// Dead letters it must yield (0 for a good message).
    pub dead: usize,
    pub what: &'static str,
}

/// xorshift64*: a small deterministic generator for the corpus.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const NATIVE: &str = "citybrain/v1/gw-a/obs";
const SENML: &str = "citybrain/v1/gw-a/senml";
const FIWARE: &str = "/json/key-a/aq-1/attrs";
const SP_NODE: &str = "spBv1.0/city/NDATA/gw-a";
const SP_DEV: &str = "spBv1.0/city/DDATA/gw-a/aq-1";

fn case(
    topic: &str,
    payload: impl Into<Vec<u8>>,
    obs: usize,
    dead: usize,
    what: &'static str,
) -> Case {
    Case {
        topic: topic.into(),
        payload: payload.into(),
        obs,
        dead,
        what,
    }
}

fn native_good(r: &mut Rng, n: usize) -> String {
    let recs: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"{{"sensor":"aq-1","metric":"pm25","value":{}.5,"ts":{}}}"#,
                r.below(500),
                NOW.0 - i as i64 * 1000
            )
        })
        .collect();
    format!(r#"{{"ts":{},"obs":[{}]}}"#, NOW.0, recs.join(","))
}

fn senml_good(r: &mut Rng, n: usize) -> String {
    let mut recs = vec![format!(
        r#"{{"bn":"aq-1/","bt":{},"bu":"ug/m3"}}"#,
        NOW.0 / 1000
    )];
    for i in 0..n {
        recs.push(format!(r#"{{"n":"pm10","v":{},"t":-{i}}}"#, r.below(900)));
    }
    format!("[{}]", recs.join(","))
}

fn fiware_good(r: &mut Rng) -> String {
    format!(
        r#"{{"pm25":{},"pm10":"{}","t":{},"TimeInstant":"2025-12-31T23:59:59.500Z"}}"#,
        r.below(300),
        r.below(300),
        r.below(30)
    )
}

fn sp_metric_alias(v: f64, ts: Option<u64>) -> Metric {
    Metric {
        alias: Some(1),
        timestamp: ts,
        value: Some(MetricValue::DoubleValue(v)),
        ..Metric::default()
    }
}

fn next_seq(s: &mut u64) -> Option<u64> {
    *s = (*s + 1) % 256;
    Some(*s)
}

fn sp_payload(seq: Option<u64>, metrics: Vec<Metric>) -> Vec<u8> {
    Payload {
        timestamp: Some(NOW.0 as u64),
        metrics,
        seq,
        ..Payload::default()
    }
    .encode_to_vec()
}

fn sp_named(name: &str, dt: u32, v: MetricValue) -> Metric {
    Metric {
        name: Some(name.into()),
        datatype: Some(dt),
        value: Some(v),
        ..Metric::default()
    }
}

/// The birth that defines alias 1 = `det-1/flow` for the node.
fn sp_birth() -> Case {
    let birth = sp_payload(
        Some(0),
        vec![
            sp_named("bdSeq", datatype::UINT64, MetricValue::LongValue(3)),
            Metric {
                name: Some("det-1/flow".into()),
                alias: Some(1),
                datatype: Some(datatype::DOUBLE),
                value: Some(MetricValue::DoubleValue(100.0)),
                ..Metric::default()
            },
        ],
    );
    case("spBv1.0/city/NBIRTH/gw-a", birth, 1, 0, "sparkplug birth")
}

/// Deterministically generates the corpus: `per_format` bad messages of each
/// format, with a good message of a random format after every third bad one.
pub fn corpus(seed: u64, per_format: usize) -> Vec<Case> {
    let mut r = Rng(seed | 1);
    let mut out = vec![sp_birth()];
    let mut seq: u64 = 0;
    for i in 0..per_format {
        // --- native
        let n = 1 + r.below(5);
        let good = native_good(&mut r, n);
        let bad = match i % 12 {
            0 => case(
                NATIVE,
                &good.as_bytes()[..r.below(good.len() - 1) + 1],
                0,
                1,
                "native truncated",
            ),
            1 => {
                let mut b = good.clone().into_bytes();
                let at = r.below(b.len());
                b.insert(at, 0xff);
                case(NATIVE, b, 0, 1, "native invalid utf-8")
            }
            2 => case(
                NATIVE,
                format!(
                    "{}{}{}",
                    "[".repeat(9 + r.below(100_000)),
                    good,
                    "]".repeat(3)
                ),
                0,
                1,
                "native deep",
            ),
            3 => case(
                NATIVE,
                good.replacen(
                    r#""sensor":"aq-1""#,
                    r#""sensor":"aq-1","sensor":"det-1""#,
                    1,
                ),
                0,
                1,
                "native duplicate key",
            ),
            4 => {
                let v = ["\"12\"", "true", "null", "{}", "[1]"][r.below(5)];
                let bad = good.replacen(r#""value":"#, &format!(r#""value":{v},"x":"#,), 1);
                // the first record gets a wrong-typed value and an unknown field
                case(NATIVE, bad, n - 1, 1, "native wrong type")
            }
            5 => case(
                NATIVE,
                good.replacen(r#""sensor":"aq-1""#, r#""sensor":"m-1""#, 1),
                n - 1,
                1,
                "native not owner",
            ),
            6 => case(
                NATIVE,
                good.replacen(r#""sensor":"aq-1""#, r#""sensor":"ghost""#, 1),
                n - 1,
                1,
                "native unknown sensor",
            ),
            7 => case(
                NATIVE,
                good.replacen(r#""metric":"pm25""#, r#""metric":"pm25","unit":"kWh""#, 1),
                n - 1,
                1,
                "native wrong unit",
            ),
            8 => case(
                NATIVE,
                good.replacen(r#""value":"#, r#""value":-1"#, 1),
                n - 1,
                1,
                "native out of range",
            ),
            9 => case(
                NATIVE,
                good.replacen(
                    r#""ts":1767225600000,"obs""#,
                    r#""ts":9767225600000,"obs""#,
                    1,
                )
                .replace(r#","ts":"#, r#","tz":"#),
                0,
                n,
                "native unknown field",
            ),
            10 => case(
                NATIVE,
                format!("{}{}", good, " ".repeat(300_000)),
                0,
                1,
                "native oversized",
            ),
            _ => case(
                NATIVE,
                good.replacen(r#""value":"#, r#""value":1e999,"v":"#, 1),
                0,
                1,
                "native number overflow",
            ),
        };
        out.push(bad);
        // --- SenML
        let n = 1 + r.below(5);
        let good = senml_good(&mut r, n);
        let bad = match i % 10 {
            0 => case(
                SENML,
                &good.as_bytes()[..r.below(good.len() - 1) + 1],
                0,
                1,
                "senml truncated",
            ),
            1 => case(
                SENML,
                good.replacen(r#"{"n":"pm10","v":"#, r#"{"n":"pm10","vs":"#, 1),
                n - 1,
                1,
                "senml string value",
            ),
            2 => case(
                SENML,
                good.replacen(r#""bu":"ug/m3""#, r#""bu":"dBm""#, 1),
                0,
                n,
                "senml wrong base unit",
            ),
            3 => case(
                SENML,
                good.replacen(r#""bn":"aq-1/""#, r#""bn":"aq-1""#, 1),
                0,
                n,
                "senml name without slash",
            ),
            4 => case(
                SENML,
                good.replacen(r#""bu":"ug/m3""#, r#""bu":"ug/m3","bver":99"#, 1),
                0,
                1,
                "senml future version",
            ),
            5 => case(
                SENML,
                good.replacen('[', "{\"e\":[", 1).replacen(']', "]}", 1),
                0,
                1,
                "senml not an array",
            ),
            6 => case(
                SENML,
                good.replacen(r#"{"n":"pm10","v":"#, r#"{"n":"pm10","n_":1,"v":"#, 1),
                n - 1,
                1,
                "senml must-understand",
            ),
            7 => case(
                SENML,
                good.replacen(r#""bn":"aq-1/""#, r#""bn":"m-1/""#, 1),
                0,
                n,
                "senml not owner",
            ),
            8 => case(
                SENML,
                good.replacen(r#"{"n":"pm10","v":"#, r#"{"n":"pm10","v":-1"#, 1),
                n - 1,
                1,
                "senml negative",
            ),
            _ => case(
                SENML,
                good.replacen(r#""bt":"#, r#""bt":"x","q":"#, 1),
                0,
                n + 1,
                "senml wrong base type",
            ),
        };
        out.push(bad);
        // --- FIWARE
        let good = fiware_good(&mut r);
        let bad = match i % 8 {
            0 => case(
                FIWARE,
                &good.as_bytes()[..r.below(good.len() - 1) + 1],
                0,
                1,
                "fiware truncated",
            ),
            1 => case(
                "/json/stolen-key/aq-1/attrs",
                good.clone(),
                0,
                1,
                "fiware unknown apikey",
            ),
            2 => case(
                "/json/key-a/m-1/attrs",
                good.clone(),
                0,
                3,
                "fiware not owner",
            ),
            3 => case(
                FIWARE,
                good.replacen("\"pm25\":", "\"windSpeed\":", 1),
                2,
                1,
                "fiware unknown attribute",
            ),
            4 => case(
                FIWARE,
                good.replacen("2025-12-31T23:59:59.500Z", "2025-13-31T23:59:59Z", 1),
                0,
                1,
                "fiware bad time",
            ),
            5 => case(
                FIWARE,
                good.replacen("\"pm10\":\"", "\"pm10\":\"x", 1),
                2,
                1,
                "fiware non-numeric string",
            ),
            6 => case(
                FIWARE,
                good.replacen("\"t\":", "\"t\":[", 1).replacen(
                    ",\"TimeInstant\"",
                    "],\"TimeInstant\"",
                    1,
                ),
                2,
                1,
                "fiware array value",
            ),
            _ => case(
                FIWARE,
                good.replacen("{", "{\"pm25\":0,", 1),
                0,
                1,
                "fiware duplicate key",
            ),
        };
        out.push(bad);
        // --- Sparkplug
        let bad = match i % 10 {
            0 => case(
                SP_NODE,
                sp_payload(None, vec![sp_metric_alias(1.0, None)]),
                0,
                1,
                "sparkplug no seq",
            ),
            1 => case(
                SP_NODE,
                sp_payload(
                    Some(256 + r.below(1000) as u64),
                    vec![sp_metric_alias(1.0, None)],
                ),
                0,
                1,
                "sparkplug seq > 255",
            ),
            2 => {
                let mut b = sp_payload(next_seq(&mut seq), vec![sp_metric_alias(1.0, None)]);
                b.insert(0, 0x07); // field 0, invalid wire type 7
                case(SP_NODE, b, 0, 1, "sparkplug invalid wire type")
            }
            3 => case(
                SP_NODE,
                vec![0x12, 0xff, 0x01, 0x00],
                0,
                1,
                "sparkplug truncated length",
            ),
            4 => case(
                SP_NODE,
                sp_payload(
                    next_seq(&mut seq),
                    vec![Metric {
                        alias: Some(77),
                        value: Some(MetricValue::DoubleValue(1.0)),
                        ..Metric::default()
                    }],
                ),
                0,
                1,
                "sparkplug unknown alias",
            ),
            5 => case(
                SP_DEV,
                sp_payload(
                    next_seq(&mut seq),
                    vec![sp_named(
                        "pm25",
                        datatype::STRING,
                        MetricValue::StringValue("high".into()),
                    )],
                ),
                0,
                1,
                "sparkplug string",
            ),
            6 => case(
                SP_DEV,
                sp_payload(
                    next_seq(&mut seq),
                    vec![sp_named(
                        "pm25",
                        datatype::DOUBLE,
                        MetricValue::DoubleValue(f64::INFINITY),
                    )],
                ),
                0,
                1,
                "sparkplug infinite",
            ),
            7 => case(
                "spBv1.0/city/DDATA/gw-a/m-1",
                sp_payload(next_seq(&mut seq), vec![]),
                0,
                1,
                "sparkplug not owner",
            ),
            8 => case(
                "spBv1.0/city/NDATA/intruder",
                sp_payload(Some(0), vec![]),
                0,
                1,
                "sparkplug unknown edge node",
            ),
            _ => case(
                SP_NODE,
                sp_payload(
                    next_seq(&mut seq),
                    vec![
                        sp_metric_alias(1.0, Some(u64::MAX)),
                        sp_metric_alias(2.0, None),
                    ],
                ),
                1,
                1,
                "sparkplug bad timestamp",
            ),
        };
        out.push(bad);
        // --- a good message after every third round of bad ones, rotating formats
        if i % 3 == 0 {
            let good = match (i / 3) % 4 {
                0 => {
                    let n = 1 + r.below(20);
                    case(NATIVE, native_good(&mut r, n), n, 0, "native good")
                }
                1 => {
                    let n = 1 + r.below(20);
                    case(SENML, senml_good(&mut r, n), n, 0, "senml good")
                }
                2 => case(FIWARE, fiware_good(&mut r), 3, 0, "fiware good"),
                _ => {
                    let ms: Vec<Metric> = (0..1 + r.below(20))
                        .map(|k| {
                            sp_metric_alias(r.below(5000) as f64, Some(NOW.0 as u64 - k as u64))
                        })
                        .collect();
                    let n = ms.len();
                    case(
                        SP_NODE,
                        sp_payload(next_seq(&mut seq), ms),
                        n,
                        0,
                        "sparkplug good",
                    )
                }
            };
            out.push(good);
        }
    }
    out
}

#[track_caller]
fn check(c: &Case, d: &Decoded) {
    let what = c.what;
    assert_eq!(
        d.observations.len(),
        c.obs,
        "{what}: observations; dead letters {:?}",
        d.dead_letters
    );
    assert_eq!(
        d.dead_letters.len(),
        c.dead,
        "{what}: dead letters {:?}",
        d.dead_letters
    );
    for dl in &d.dead_letters {
        assert!(
            Reason::of(dl).is_some(),
            "{what}: no reason code in {:?}",
            dl.reason
        );
        assert!(dl.payload.len() <= domain::DEAD_LETTER_MAX_BYTES);
    }
}

#[test]
fn a_hostile_corpus_of_over_a_thousand_payloads_is_dead_lettered_and_good_ones_kept() {
    let cases = corpus(0xC17B_2A1E, 300);
    let bad = cases.iter().filter(|c| c.dead > 0).count();
    let good = cases.iter().filter(|c| c.dead == 0).count();
    assert!(bad >= 1_000, "{bad} bad cases");
    assert!(good >= 100, "{good} good cases");
    let c = ctx();
    let mut st = SparkplugState::default();
    let mut per_reason = std::collections::BTreeMap::new();
    for case in &cases {
        let d = ingest::decode(&case.topic, &case.payload, NOW, &c, &mut st);
        check(case, &d);
        for dl in &d.dead_letters {
            *per_reason
                .entry(Reason::of(dl).map(Reason::as_str))
                .or_insert(0) += 1;
        }
    }
    // the corpus exercises a wide range of reasons
    assert!(per_reason.len() >= 20, "{per_reason:?}");
}

#[test]
fn the_hand_written_corpus_files_are_all_rejected() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut n = 0;
    let c = ctx();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let topic = match name.split('-').next() {
            Some("native") => NATIVE,
            Some("senml") => SENML,
            Some("fiware") => FIWARE,
            Some("sparkplug") => SP_DEV,
            _ => continue,
        };
        let payload = std::fs::read(&path).unwrap();
        let d = ingest::decode(topic, &payload, NOW, &c, &mut SparkplugState::default());
        assert!(d.observations.is_empty(), "{name}: {:?}", d.observations);
        assert!(!d.dead_letters.is_empty(), "{name}: no dead letter");
        assert!(
            d.dead_letters.iter().all(|dl| Reason::of(dl).is_some()),
            "{name}"
        );
        n += 1;
    }
    assert!(n >= 10, "only {n} corpus files");
}

/// The same corpus through the embedded broker and the MQTT client: the client
/// keeps running and every message arrives with its decode result.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hostile_corpus_passes_through_the_broker_without_stopping_ingest() {
    use crate::mqtt::{Publisher, collect, ingest_config, start_ingest};
    let b = ingest::broker::EmbeddedBroker::start(ingest::broker::EmbeddedBrokerConfig {
        port: 0,
        max_payload_bytes: 4 * 1024 * 1024,
        ..Default::default()
    })
    .unwrap();
    // fixed gateway ids: this broker is private to the test
    let mut cfg = ingest_config(&b.url(), &crate::mqtt::unique("ingest"), "gw-a");
    cfg.topics = ingest::default_topics();
    let mut c = ctx();
    // the broker sets the receive time; widen the window around the fixed test time
    c.limits.window.max_age_ms = i64::MAX / 4;
    c.limits.window.max_future_ms = i64::MAX / 4;
    let mut r = start_ingest(cfg, c);
    let p = Publisher::connect("127.0.0.1", b.port(), None).await;
    // subscription active?
    loop {
        p.publish("citybrain/v1/gw-a/status", "online").await;
        let got = collect(&mut r.rx, Duration::from_millis(200), |d| !d.is_empty()).await;
        if !got.is_empty() {
            for d in got {
                d.ack.ack().await.unwrap();
            }
            break;
        }
    }
    for d in collect(&mut r.rx, Duration::from_millis(300), |_| false).await {
        d.ack.ack().await.unwrap();
    }
    let cases: Vec<Case> = corpus(0xC17B_2A1E, 60).into_iter().collect();
    for case in &cases {
        p.publish(&case.topic, case.payload.clone()).await;
    }
    // acknowledge as they come: rumqttd keeps at most 100 unacknowledged
    // messages in flight per connection
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while got.len() < cases.len() {
        match tokio::time::timeout_at(deadline, r.rx.recv()).await {
            Ok(Some(d)) => {
                got.push((d.topic, d.decoded));
                d.ack.ack().await.unwrap();
            }
            _ => break,
        }
    }
    assert_eq!(got.len(), cases.len());
    let got: Vec<Decoded> = got.into_iter().map(|(_, d)| d).collect();
    let sum = |f: &dyn Fn(&Case) -> usize| cases.iter().map(f).sum::<usize>();
    let obs: usize = got.iter().map(|d| d.observations.len()).sum();
    let dead: usize = got.iter().map(|d| d.dead_letters.len()).sum();
    assert_eq!(obs, sum(&|c| c.obs));
    assert_eq!(dead, sum(&|c| c.dead));
    assert!(
        got.iter()
            .flat_map(|d| &d.dead_letters)
            .all(|dl| Reason::of(dl).is_some())
    );
    assert!(!r.task.is_finished(), "ingest keeps running");
    r.shutdown().await;
}
