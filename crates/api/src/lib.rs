//! The HTTP API: CityBrain v1, an NGSI-LD core subset, live streams and the dashboard.

mod ngsi;
