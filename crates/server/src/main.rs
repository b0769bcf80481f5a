//! The `citybrain` binary.

fn main() {}
