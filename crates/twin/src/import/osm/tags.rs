//! Parsing OSM tag values: speeds, lanes, heights, directions.

use std::collections::BTreeMap;

use crate::entity::RoadClass;

/// An element's tags.
pub(crate) type Tags = BTreeMap<String, String>;

/// What a parse found: a value, nothing to parse, or text that is not a value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Parsed<T> {
    /// A usable value.
    Value(T),
    /// Absent, or a value that means "use the default" (`none`, `signals`).
    Default,
    /// Unparseable text.
    Bad,
}

fn number_prefix(s: &str) -> Option<(f64, &str)> {
    let s = s.trim();
    let end = s
        .char_indices()
        .find(|&(_, c)| !(c.is_ascii_digit() || c == '.'))
        .map_or(s.len(), |(i, _)| i);
    let n: f64 = s[..end].parse().ok()?;
    n.is_finite().then_some((n, s[end..].trim()))
}

/// A `maxspeed` value in km/h: `50`, `30 mph`, `FI:urban`, `walk`; lists
/// (`50;30`) take the first value. `none`, `signals` and `variable` mean the
/// class default.
pub(crate) fn maxspeed_kmh(v: &str) -> Parsed<f64> {
    let v = v.split(';').next().unwrap_or("").trim();
    match v {
        "" | "none" | "signals" | "variable" => return Parsed::Default,
        "walk" => return Parsed::Value(7.0),
        _ => {}
    }
    if let Some((_, zone)) = v.split_once(':') {
        return match zone {
            "urban" => Parsed::Value(50.0),
            "rural" => Parsed::Value(80.0),
            "living_street" => Parsed::Value(20.0),
            "motorway" => Parsed::Value(120.0),
            "trunk" => Parsed::Value(100.0),
            "zone30" | "zone:30" => Parsed::Value(30.0),
            _ => Parsed::Bad,
        };
    }
    match number_prefix(v) {
        Some((n, "" | "km/h" | "kmh" | "kph")) if n > 0.0 => Parsed::Value(n),
        Some((n, "mph")) if n > 0.0 => Parsed::Value(n * 1.609_344),
        Some((n, "knots")) if n > 0.0 => Parsed::Value(n * 1.852),
        _ => Parsed::Bad,
    }
}

/// A `lanes` value: a positive whole number; lists take the first.
pub(crate) fn lanes(v: &str) -> Parsed<u8> {
    let v = v.split(';').next().unwrap_or("").trim();
    if v.is_empty() {
        return Parsed::Default;
    }
    match v.parse::<u8>() {
        Ok(n) if n > 0 => Parsed::Value(n),
        _ => Parsed::Bad,
    }
}

/// A length in metres: `12`, `12.5`, `12 m`, `12m`.
pub(crate) fn metres(v: &str) -> Parsed<f64> {
    match number_prefix(v) {
        Some((n, "" | "m")) if n > 0.0 => Parsed::Value(n),
        _ => Parsed::Bad,
    }
}

/// A storey count: a positive number.
pub(crate) fn levels(v: &str) -> Parsed<f64> {
    match number_prefix(v) {
        Some((n, "")) if n > 0.0 => Parsed::Value(n),
        Some((0.0, "")) => Parsed::Default,
        _ => Parsed::Bad,
    }
}

/// Which ways traffic may go along a way's node order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    /// Both directions.
    Both,
    /// Along the node order only.
    Forward,
    /// Against the node order only.
    Backward,
}

/// The direction of traffic: `oneway=yes|true|1` forward, `-1|reverse`
/// backward, `no` both; roundabouts and motorways are one-way by default.
pub(crate) fn flow(tags: &Tags, class: RoadClass) -> Flow {
    match tags.get("oneway").map(String::as_str) {
        Some("yes" | "true" | "1") => Flow::Forward,
        Some("-1" | "reverse") => Flow::Backward,
        Some("no" | "false" | "0") => Flow::Both,
        _ => {
            let roundabout = matches!(
                tags.get("junction").map(String::as_str),
                Some("roundabout" | "circular")
            );
            if roundabout || class.implies_oneway() {
                Flow::Forward
            } else {
                Flow::Both
            }
        }
    }
}

/// Lanes per direction: `lanes:forward`/`lanes:backward` when tagged; on a
/// one-way road all `lanes`; on a two-way road `lanes` split with the odd
/// lane forward; else the class default.
pub(crate) fn lanes_per_direction(
    tags: &Tags,
    class: RoadClass,
    flow: Flow,
) -> (Parsed<u8>, u8, u8) {
    let total = tags.get("lanes").map_or(Parsed::Default, |v| lanes(v));
    let dir = |k: &str| match tags.get(k).map(|v| lanes(v)) {
        Some(Parsed::Value(n)) => Some(n),
        _ => None,
    };
    let d = class.default_lanes();
    let (fwd, bwd) = match (flow, total) {
        (Flow::Forward | Flow::Backward, Parsed::Value(n)) => (n, n),
        (Flow::Forward | Flow::Backward, _) => (d, d),
        (Flow::Both, Parsed::Value(n)) => {
            let f = dir("lanes:forward").unwrap_or(n.div_ceil(2).max(1));
            let b = dir("lanes:backward").unwrap_or((n / 2).max(1));
            (f, b)
        }
        (Flow::Both, _) => (
            dir("lanes:forward").unwrap_or(d),
            dir("lanes:backward").unwrap_or(d),
        ),
    };
    (total, fwd, bwd)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> Tags {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn maxspeed_forms() {
        assert_eq!(maxspeed_kmh("40"), Parsed::Value(40.0));
        assert_eq!(maxspeed_kmh("50;30"), Parsed::Value(50.0));
        assert_eq!(maxspeed_kmh("FI:urban"), Parsed::Value(50.0));
        assert!(matches!(maxspeed_kmh("20 mph"), Parsed::Value(v) if (v - 32.19).abs() < 0.01));
        assert_eq!(maxspeed_kmh("none"), Parsed::Default);
        assert_eq!(maxspeed_kmh("fast"), Parsed::Bad);
        assert_eq!(maxspeed_kmh("-5"), Parsed::Bad);
    }

    #[test]
    fn lanes_heights_levels() {
        assert_eq!(lanes("2"), Parsed::Value(2));
        assert_eq!(lanes("0"), Parsed::Bad);
        assert_eq!(lanes("two"), Parsed::Bad);
        assert_eq!(metres("12.5 m"), Parsed::Value(12.5));
        assert_eq!(metres("12m"), Parsed::Value(12.0));
        assert_eq!(metres("40'"), Parsed::Bad);
        assert_eq!(levels("6"), Parsed::Value(6.0));
        assert_eq!(levels("0"), Parsed::Default);
    }

    #[test]
    fn direction_and_lane_split() {
        let r = RoadClass::Residential;
        assert_eq!(flow(&tags(&[("oneway", "yes")]), r), Flow::Forward);
        assert_eq!(flow(&tags(&[("oneway", "-1")]), r), Flow::Backward);
        assert_eq!(flow(&tags(&[("junction", "roundabout")]), r), Flow::Forward);
        assert_eq!(flow(&tags(&[]), RoadClass::Motorway), Flow::Forward);
        assert_eq!(flow(&tags(&[]), r), Flow::Both);
        // two-way, 3 lanes: 2 forward, 1 backward
        let (_, f, b) = lanes_per_direction(&tags(&[("lanes", "3")]), r, Flow::Both);
        assert_eq!((f, b), (2, 1));
        let (_, f, b) = lanes_per_direction(
            &tags(&[("lanes", "4"), ("lanes:backward", "1")]),
            r,
            Flow::Both,
        );
        assert_eq!((f, b), (2, 1));
        let (_, f, _) = lanes_per_direction(
            &tags(&[("lanes", "3"), ("oneway", "yes")]),
            r,
            Flow::Forward,
        );
        assert_eq!(f, 3);
        let (_, f, b) = lanes_per_direction(&tags(&[]), RoadClass::Trunk, Flow::Both);
        assert_eq!((f, b), (2, 2));
    }
}
