//! Writes the benchmark's synthetic feeders as CSV tables (for the pandapower
//! peer in `reference/run_bench.sh`), without needing the server binary:
//! `ENERGY_SYNTH_OUT=DIR cargo test -p engine-energy --test it -- --ignored write_synthetic_feeders`

use engine_energy::{Network, SyntheticSpec, synthetic_feeder};

#[test]
#[ignore = "writes files; run by reference/run_bench.sh"]
fn write_synthetic_feeders() {
    let out =
        std::path::PathBuf::from(std::env::var("ENERGY_SYNTH_OUT").expect("set ENERGY_SYNTH_OUT"));
    for (subs, name) in [(10, "synth_1k"), (30, "synth_3k"), (100, "synth_10k")] {
        let net = synthetic_feeder(&SyntheticSpec {
            substations: subs,
            lv_buses: 98,
            seed: 7,
        });
        let dir = out.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        for (table, text) in net.to_csv_tables() {
            std::fs::write(dir.join(format!("{table}.csv")), text).unwrap();
        }
        // what was written reads back as the same network
        let back = Network::from_csv_tables(&crate::common::read_tables(&dir)).unwrap();
        assert_eq!(back, net);
    }
}
