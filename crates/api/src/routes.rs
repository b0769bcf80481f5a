//! Route handlers, one module per area, and the route table. Every
//! documented route is registered through `utoipa-axum`, so the OpenAPI
//! document is generated from the same table that serves requests.

pub mod admin;
pub mod alarms;
pub mod city;
pub mod docs;
pub mod energy;
pub mod incidents;
pub mod indicators;
pub mod map;
pub mod scenarios;
pub mod sensors;
pub mod stream;
pub mod system;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::ngsi::{entities, subscriptions, temporal};

/// Routes that need no token: health, readiness, metrics.
pub fn public() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(system::health))
        .routes(routes!(system::ready))
        .routes(routes!(system::metrics))
}

/// Routes behind the guard (authentication, rate limit, audit), with the
/// request timeout.
pub fn guarded() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(city::city))
        .routes(routes!(city::cells))
        .routes(routes!(city::cell_history))
        .routes(routes!(map::roads))
        .routes(routes!(map::buildings))
        .routes(routes!(map::traffic))
        .routes(routes!(sensors::list))
        .routes(routes!(sensors::get_one))
        .routes(routes!(sensors::observations))
        .routes(routes!(alarms::list))
        .routes(routes!(alarms::get_one))
        .routes(routes!(alarms::ack))
        .routes(routes!(alarms::rules, alarms::create_rule))
        .routes(routes!(
            alarms::rule,
            alarms::replace_rule,
            alarms::delete_rule
        ))
        .routes(routes!(incidents::list, incidents::create))
        .routes(routes!(incidents::metrics))
        .routes(routes!(incidents::get_one))
        .routes(routes!(incidents::transition))
        .routes(routes!(scenarios::list, scenarios::create))
        .routes(routes!(scenarios::get_one, scenarios::delete))
        .routes(routes!(scenarios::map))
        .routes(routes!(indicators::scores))
        .routes(routes!(indicators::history))
        .routes(routes!(indicators::inputs, indicators::put_inputs))
        .routes(routes!(indicators::delete_input))
        .routes(routes!(indicators::profiles))
        .routes(routes!(energy::feeders))
        .routes(routes!(energy::feeders_geojson))
        .routes(routes!(energy::feeder))
        .routes(routes!(admin::tokens, admin::create_token))
        .routes(routes!(admin::revoke_token))
        .routes(routes!(admin::dead_letters))
        .routes(routes!(admin::audit))
        .routes(routes!(admin::mqtt_auth))
        .routes(routes!(entities::list, entities::create))
        .routes(routes!(
            entities::get_one,
            entities::delete,
            entities::merge
        ))
        .routes(routes!(entities::update_attrs, entities::append_attrs))
        .routes(routes!(entities::update_attr, entities::delete_attr))
        .routes(routes!(entities::upsert))
        .routes(routes!(entities::types))
        .routes(routes!(temporal::list))
        .routes(routes!(temporal::get_one))
        .routes(routes!(subscriptions::list, subscriptions::create))
        .routes(routes!(
            subscriptions::get_one,
            subscriptions::update,
            subscriptions::delete
        ))
}

/// Live streams: behind the guard, without the request timeout.
pub fn streams() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(stream::websocket))
        .routes(routes!(stream::sse))
}
