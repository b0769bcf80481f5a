//! Error types of the energy engine.

/// Bad network data: a table that cannot be read or an element that cannot
/// be modelled.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NetError {
    /// The CSV text itself is malformed.
    #[error("{table} line {line}: {reason}")]
    Csv {
        /// Table name.
        table: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A required table is absent.
    #[error("missing table {0}")]
    MissingTable(String),
    /// A required column is absent.
    #[error("table {table} has no column {column}")]
    MissingColumn {
        /// Table name.
        table: String,
        /// Column name.
        column: String,
    },
    /// A cell does not parse or is out of range.
    #[error("{table} row {row}: column {column} has bad value {value:?}")]
    BadValue {
        /// Table name.
        table: String,
        /// 0-based data row.
        row: usize,
        /// Column name.
        column: String,
        /// The offending text.
        value: String,
    },
    /// Two rows share one index.
    #[error("{table}: duplicate index {index}")]
    DuplicateIndex {
        /// Table name.
        table: String,
        /// The repeated index.
        index: i64,
    },
    /// An element refers to a bus (or a switch to an element) that does not exist.
    #[error("{table} {index}: unknown {what} {reference}")]
    UnknownReference {
        /// Table name.
        table: String,
        /// Index of the referring element.
        index: i64,
        /// What was referred to (`"bus"`, `"line"`, ...).
        what: &'static str,
        /// The missing index.
        reference: i64,
    },
    /// An element table this engine does not model has in-service rows.
    #[error("table {table} has {rows} rows but is not supported by this engine")]
    Unsupported {
        /// Table name.
        table: String,
        /// Number of rows.
        rows: usize,
    },
    /// A physically meaningless parameter (zero impedance, non-positive voltage, ...).
    #[error("{table} {index}: {reason}")]
    BadParameter {
        /// Table name.
        table: String,
        /// Element index.
        index: i64,
        /// What is wrong, with the value.
        reason: String,
    },
}

/// A power flow that has no solution or could not find it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PfError {
    /// The network data cannot be modelled.
    #[error(transparent)]
    Net(#[from] NetError),
    /// No in-service external grid: there is no slack bus.
    #[error("no in-service ext_grid: the network has no slack bus")]
    NoSlack,
    /// Buses with load or generation are not connected to any external grid,
    /// and the options ask to fail rather than de-energise them.
    #[error("{} buses with load or generation are islanded from every ext_grid (first: {first})", buses.len(), first = buses.first().copied().unwrap_or(-1))]
    Islanded {
        /// pandapower indices of the islanded buses.
        buses: Vec<i64>,
    },
    /// Newton-Raphson did not reach the tolerance.
    #[error(
        "power flow did not converge in {iterations} iterations (largest mismatch {mismatch_mva:e} MVA at bus {bus})"
    )]
    NotConverged {
        /// Iterations done.
        iterations: usize,
        /// Largest power mismatch left, in MVA.
        mismatch_mva: f64,
        /// pandapower index of the bus with the largest mismatch.
        bus: i64,
    },
    /// The Jacobian became singular (a voltage collapse or a degenerate network).
    #[error("singular Jacobian at bus {bus}")]
    Singular {
        /// pandapower index of the bus whose pivot vanished.
        bus: i64,
    },
    /// An injection is not a finite number.
    #[error("non-finite injection at bus {bus}")]
    NonFinite {
        /// pandapower index of the bus.
        bus: i64,
    },
    /// Per-step input has the wrong length.
    #[error("expected {expected} values for {what}, got {got}")]
    Shape {
        /// What was passed.
        what: &'static str,
        /// Expected length.
        expected: usize,
        /// Actual length.
        got: usize,
    },
}
