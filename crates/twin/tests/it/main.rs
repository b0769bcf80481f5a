//! Integration tests of the twin: imports against reference figures, the
//! demo city, synthetic cities, and the live twin through its public API.

// test code: a failed unwrap is a failed test
#![allow(clippy::unwrap_used)]

mod demo;
mod geojson;
mod live;
mod osm;
mod props;
mod synthetic;
