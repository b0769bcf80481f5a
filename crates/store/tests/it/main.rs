//! Integration tests of the store: every test body runs against SQLite (a
//! temporary file) and, when `DATABASE_URL` is set, against PostgreSQL in a
//! schema of its own. CI sets `DATABASE_URL`.
//!
//! ```text
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo test -p store --test it
//! ```

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

mod batch;
mod counts;
mod failures;
mod natural_key;
mod ops;
mod registry;
mod rollups;
mod support;
