//! Acceptance: a corpus of over 1,000 malformed or hostile payloads across the
//! four formats, interleaved with good ones, against a running process: it
//! keeps running, every bad message is dead-lettered with a reason, every
//! good observation is stored.

use std::time::Duration;

use domain::SensorSpec;
use e2e::Server;
use e2e::publish::Publisher;
use simulators::encode::{self, Message, Reading};
use simulators::sparkplug;
use testkit::services::Mosquitto;

use crate::common::{self, DbTarget};

struct Corpus {
    messages: Vec<Message>,
    good_observations: u64,
    bad_messages: u64,
}

fn reading(s: &SensorSpec, i: u64, ts: i64) -> Reading {
    let m = common::metric_of(s);
    Reading {
        sensor: s.id.clone(),
        metric: m,
        value: common::value_of(m, i),
        ts,
    }
}

/// Bad messages that each yield exactly one dead letter and no observation.
fn bad_messages(
    gw: &str,
    s: &SensorSpec,
    apikey: &str,
    n: u64,
    now: i64,
    rng: &mut rand_chacha::ChaCha8Rng,
) -> Vec<Message> {
    let sensor = s.id.as_str();
    let m = common::metric_of(s);
    let obs = format!("citybrain/v1/{gw}/obs");
    let senml = format!("citybrain/v1/{gw}/senml");
    let fiware = format!("/json/{apikey}/{sensor}/attrs");
    let node = format!("spBv1.0/{}/DDATA/{gw}/{sensor}", sparkplug::GROUP);
    let msg = |topic: &str, payload: Vec<u8>| Message {
        topic: topic.to_owned(),
        payload,
    };
    match n % 16 {
        0 => vec![encode::malformed(gw, now, rng).0],
        1 => vec![msg(
            &obs,
            format!(r#"{{"sensor":"{sensor}","metric":"{m}","value":1e999}}"#).into_bytes(),
        )],
        2 => vec![msg(
            &obs,
            format!(r#"{{"sensor":"{sensor}","metric":"{m}","value":5,"unit":"furlongs"}}"#)
                .into_bytes(),
        )],
        3 => vec![msg(
            &obs,
            format!(r#"{{"sensor":"{sensor}","metric":"{m}","value":5,"sensor":"x"}}"#)
                .into_bytes(),
        )],
        4 => vec![msg(
            &senml,
            format!(r#"[{{"bn":"{sensor}/","n":"{m}","vs":"text"}}]"#).into_bytes(),
        )],
        5 => vec![msg(
            &senml,
            format!(r#"[{{"bn":"{sensor}/","n":"{m}","v":5,"u":"Cel","bver":99}}]"#).into_bytes(),
        )],
        6 => vec![msg(&senml, br#"[{"bn":"no-slash","v":1}"#.to_vec())],
        7 => vec![msg(
            &senml,
            format!(r#"[{{"bn":"{sensor}/","n":"{m}","v":-1e12}}]"#).into_bytes(),
        )],
        8 => vec![msg(&fiware, format!(r#"{{"{m}":"NaN"}}"#).into_bytes())],
        9 => vec![msg(
            &format!("/json/no-such-key/{sensor}/attrs"),
            format!(r#"{{"{m}":1}}"#).into_bytes(),
        )],
        10 => vec![msg(&fiware, format!(r#"{{"{m}":"twelve"}}"#).into_bytes())],
        11 => vec![msg(&fiware, b"{\"a\":".to_vec())],
        12 => vec![msg(&node, vec![0xff, 0x13, 0x37, 0x00, 0x42])],
        13 => {
            // an alias that no birth defined
            let r = Reading {
                sensor: s.id.clone(),
                metric: "no_such_metric",
                value: 1.0,
                ts: now,
            };
            let mut m = sparkplug::ddata(gw, sensor, 9_999, 1, now, &[r]);
            m.payload.truncate(m.payload.len() / 2);
            vec![m]
        }
        14 => vec![msg(
            &format!("citybrain/v1/{gw}/unknown-kind"),
            b"{}".to_vec(),
        )],
        _ => {
            let mut deep = "[".repeat(64);
            deep.push_str(&"]".repeat(64));
            vec![msg(&obs, deep.into_bytes())]
        }
    }
}

fn corpus(reg: &domain::Registry, bad_target: u64, now: i64) -> Corpus {
    use rand::SeedableRng as _;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    let sensors = common::value_sensors(reg);
    let mut c = Corpus {
        messages: Vec::new(),
        good_observations: 0,
        bad_messages: 0,
    };
    let mut i = 0u64;
    let mut ts = now - 600_000;
    let formats = ["native", "senml", "fiware"];
    while c.bad_messages < bad_target {
        let s = &sensors[usize::try_from(i).unwrap() % sensors.len()];
        let gw = s.gateway.as_str();
        let apikey = simulators::fiware_apikey(gw);
        // a good message in a rotating format, one observation
        ts += 1;
        let r = reading(s, i, ts);
        let good = match formats[usize::try_from(i % 3).unwrap()] {
            "native" => encode::native(gw, ts, &[r]),
            "senml" => encode::senml(gw, &[r]),
            _ => encode::fiware(&apikey, &[r]).remove(0),
        };
        c.messages.push(good);
        c.good_observations += 1;
        // then a bad one
        for m in bad_messages(gw, s, &apikey, i, now, &mut rng) {
            c.messages.push(m);
            c.bad_messages += 1;
        }
        i += 1;
    }
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_corpus_is_dead_lettered_and_every_good_observation_is_stored() {
    let Some(broker) = Mosquitto::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let reg = common::registry();
    let mut env = common::serve_env(broker.port, "e2e-bad-input", DbTarget::Sqlite);
    let apikeys: Vec<String> = reg
        .gateways()
        .map(|g| {
            format!(
                "\"{}\" = \"{}\"",
                simulators::fiware_apikey(g.id.as_str()),
                g.id
            )
        })
        .collect();
    env.push((
        "CITYBRAIN__INGEST__FIWARE_APIKEYS",
        format!("{{ {} }}", apikeys.join(", ")),
    ));
    let dirp = dir.path().to_owned();
    let server =
        tokio::task::spawn_blocking(move || Server::start(&dirp, &["serve"], &env, common::START))
            .await
            .unwrap();

    let now = common::now_ms();
    let c = corpus(&reg, 1_200, now);
    assert!(c.bad_messages >= 1_000);
    let mut p = Publisher::connect("127.0.0.1", broker.port, "e2e-bad-input-gw", None);
    for m in c.messages {
        p.publish(&m.topic, m.payload).await;
    }
    assert!(
        p.wait_acked(Duration::from_secs(60)).await,
        "broker did not acknowledge the corpus"
    );

    let store = common::open_store(dir.path(), DbTarget::Sqlite).await;
    let expected = (c.good_observations, c.bad_messages);
    let last = {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let got = (
                store.count_observations().await.unwrap(),
                store.dead_letter_count().await.unwrap(),
            );
            if got == expected || std::time::Instant::now() > deadline {
                break got;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    };
    assert!(
        last == expected,
        "stored (observations, dead letters) = {last:?}, expected {expected:?}\nlog:\n{}",
        server.log()
    );
    // every dead letter says why
    let letters = store.dead_letters(2_000, 0).await.unwrap();
    assert!(letters.iter().all(|d| !d.letter.reason.trim().is_empty()));
    let reasons: std::collections::BTreeSet<String> = letters
        .iter()
        .map(|d| d.letter.reason.split(':').next().unwrap_or("").to_owned())
        .collect();
    assert!(reasons.len() >= 10, "too few distinct reasons: {reasons:?}");
    // still running and healthy
    let (status, _) = tokio::task::spawn_blocking(move || {
        let r = server.get("/health");
        drop(server);
        r
    })
    .await
    .unwrap();
    assert_eq!(status, 200);
    p.close().await;
}
