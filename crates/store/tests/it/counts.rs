//! `count_observations` is a running total kept by the batch and retention
//! transactions; it must always equal a row-by-row count of the table.

use domain::{Observation, Timestamp};
use store::Batch;

use crate::support::*;

const DAY: i64 = 86_400_000;

#[tokio::test]
async fn the_running_total_equals_the_table_through_batches_redeliveries_and_retention() {
    each_backend_with(
        |c| {
            c.batch_size = 40;
            c.retention.raw_days = 2;
        },
        |store| async move {
            register_default(&store).await;
            let sensors = ["s1", "s2", "a1"];
            let mut rng = Lcg(11);
            let mut sent = Vec::new();
            for day in 0..8i64 {
                // a day of readings at 10 min steps, then redeliveries of
                // earlier ones (some from days that retention has removed:
                // they come back, as the spec warns for raw_days too short)
                for _ in 0..3 {
                    let mut batch = Vec::new();
                    for _ in 0..90 {
                        let o = obs(
                            sensors[rng.next_below(3) as usize],
                            "flow",
                            day * DAY + (rng.next_below(144) * 600_000) as i64,
                            rng.next_below(100) as f64,
                        );
                        batch.push(o);
                    }
                    for _ in 0..20 {
                        if !sent.is_empty() {
                            let i = rng.next_below(sent.len() as u64) as usize;
                            batch.push(Observation::clone(&sent[i]));
                        }
                    }
                    sent.extend(batch.iter().cloned());
                    store
                        .insert_batch(&Batch {
                            observations: batch,
                            ..Batch::default()
                        })
                        .await
                        .unwrap();
                    assert_counts_agree(&store, "after a batch").await;
                }
                let gone = store
                    .apply_retention(Timestamp((day + 1) * DAY))
                    .await
                    .unwrap();
                if day >= 2 {
                    assert!(
                        gone.observations > 0,
                        "day {day}: retention removed nothing"
                    );
                }
                assert_counts_agree(&store, "after retention").await;
            }
            // per-sensor totals stay monotonic: they still count everything
            // ever stored, more than what is left
            let ever: u64 = store
                .sensor_status()
                .await
                .unwrap()
                .iter()
                .map(|s| s.observations_total)
                .sum();
            assert!(ever > store.count_observations().await.unwrap());
        },
    )
    .await;
}

async fn assert_counts_agree(store: &store::Store, when: &str) {
    let total = store.count_observations().await.unwrap();
    let exact = store.count_observations_exact().await.unwrap();
    assert_eq!(total, exact, "{when}");
}
