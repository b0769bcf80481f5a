//! Loading reference folders.

use std::collections::BTreeMap;
use std::path::Path;

use engine_energy::{Network, Table};

/// Every `*.csv` in `dir`, keyed by file stem.
pub fn read_tables(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "csv") {
            let stem = p.file_stem().unwrap().to_string_lossy().to_string();
            out.insert(stem, std::fs::read_to_string(&p).unwrap());
        }
    }
    out
}

/// The network in a reference folder.
pub fn network(dir: &Path) -> Network {
    Network::from_csv_tables(&read_tables(dir)).unwrap()
}

/// A CSV file as a table.
pub fn table(path: &Path) -> Table {
    let name = path.file_stem().unwrap().to_string_lossy().to_string();
    Table::parse(&name, &std::fs::read_to_string(path).unwrap()).unwrap()
}
