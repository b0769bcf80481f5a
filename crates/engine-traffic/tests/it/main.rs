//! Integration tests of the traffic engine: SUMO and CityFlow inputs, fidelity
//! against the stored SUMO reference, what-if edits, properties, determinism.

mod common;
mod fidelity;
mod formats;
mod whatif;
