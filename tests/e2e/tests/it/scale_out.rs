//! Acceptance: two ingest processes share an MQTT 5 shared subscription on
//! Mosquitto and write to one PostgreSQL: each takes 30-70% of the load,
//! nothing is lost, nothing is duplicated.

use std::time::{Duration, Instant};

use e2e::Server;
use e2e::publish::Publisher;
use testkit::services::{Mosquitto, database_url};

use crate::common::{self, DbTarget};
use crate::no_loss::drop_schema;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_split_a_shared_subscription_without_loss_or_duplicates() {
    let Some(db_url) = database_url() else { return };
    let Some(broker) = Mosquitto::start() else {
        return;
    };
    let schema = common::unique_schema("e2e_scale");
    let db = DbTarget::Postgres {
        url: &db_url,
        schema: &schema,
    };
    let mut servers = Vec::new();
    for k in 1..=2 {
        let dir = tempfile::tempdir().unwrap();
        let mut env = common::serve_env(broker.port, &format!("e2e-scale-{k}"), db);
        env.push(("CITYBRAIN__MQTT__SHARED_GROUP", "e2e".to_owned()));
        let dirp = dir.path().to_owned();
        let s = tokio::task::spawn_blocking(move || {
            Server::start(&dirp, &["serve"], &env, common::START)
        })
        .await
        .unwrap();
        servers.push((dir, s));
    }
    // both subscribed before publishing
    tokio::time::sleep(Duration::from_secs(2)).await;

    let total = 20_000usize;
    let per_msg = 10;
    let reg = common::registry();
    let messages = common::native_messages(
        &reg,
        total / per_msg,
        per_msg,
        common::now_ms() - i64::try_from(total).unwrap(),
    );
    let mut p = Publisher::connect("127.0.0.1", broker.port, "e2e-scale-gateway", None);
    for m in messages {
        p.publish(&m.topic, m.payload).await;
    }
    assert!(p.wait_acked(Duration::from_secs(60)).await);

    let store = common::open_store(servers[0].0.path(), db).await;
    let deadline = Instant::now() + Duration::from_secs(90);
    let stored = loop {
        let c = store.count_observations().await.unwrap_or(0);
        if c as usize >= total || Instant::now() > deadline {
            break c;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(stored as usize, total, "lost observations");
    let shares: Vec<f64> = servers
        .iter()
        .map(|(_, s)| s.metric("citybrain_observations_stored_total", ""))
        .collect();
    let sum: f64 = shares.iter().sum();
    assert_eq!(
        sum as usize, total,
        "the processes stored {shares:?} in all: duplicates or loss"
    );
    for (k, s) in shares.iter().enumerate() {
        let share = s / sum;
        assert!(
            (0.3..=0.7).contains(&share),
            "process {k} took {share:.2} of the load ({shares:?})"
        );
    }
    drop(servers);
    p.close().await;
    drop_schema(&db_url, &schema).await;
}
