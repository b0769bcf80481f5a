//! Criterion benches of the API (added with the load-test harness).

fn main() {}
