#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
//! End-to-end tests of the `citybrain` binary.

mod bad_input;
mod common;
mod demo;
mod no_loss;
mod scale_out;
