//! NGSI-LD (ETSI GS CIM 009) core subset.

#[allow(dead_code)]
mod geoquery;
#[allow(dead_code)]
mod query;
