//! SUMO input: a compiled `.net.xml` (edges, lanes, connections, `tlLogic`) and
//! a `.rou.xml` (vehicles with explicit routes, or trips to be routed).

use std::collections::{BTreeMap, HashMap};

use quick_xml::Reader;
use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};

use super::{LinkSpec, Network, NetworkBuilder, SignalSpec};
use crate::Error;
use crate::demand::{Demand, Route, Trip};

/// Parses a SUMO network and route file.
///
/// # Errors
/// See [`parse_sumo_net`] and [`parse_sumo_routes`].
pub fn parse_sumo(net_xml: &str, rou_xml: &str) -> Result<(Network, Demand), Error> {
    let net = parse_sumo_net(net_xml)?;
    let demand = parse_sumo_routes(&net, rou_xml)?;
    Ok((net, demand))
}

/// One XML element's attributes, unescaped.
fn attrs(e: &BytesStart<'_>) -> Result<HashMap<String, String>, Error> {
    let mut out = HashMap::new();
    for a in e.attributes() {
        let a = a.map_err(|err| Error::Xml {
            position: 0,
            message: err.to_string(),
        })?;
        let k = a.key.as_ref().to_string();
        let v = a
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|err| Error::Xml {
                position: 0,
                message: err.to_string(),
            })?
            .into_owned();
        out.insert(k, v);
    }
    Ok(out)
}

fn get<'a>(
    a: &'a HashMap<String, String>,
    element: &str,
    attribute: &'static str,
) -> Result<&'a str, Error> {
    a.get(attribute)
        .map(String::as_str)
        .ok_or_else(|| Error::MissingAttribute {
            element: element.to_string(),
            attribute,
        })
}

fn num(field: &'static str, v: &str) -> Result<f64, Error> {
    v.trim()
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
        .ok_or_else(|| Error::InvalidNumber {
            field,
            value: v.to_string(),
        })
}

#[derive(Default)]
struct EdgeAcc {
    from: String,
    to: String,
    lanes: u16,
    length_sum: f64,
    speed: f64,
}

#[derive(Default)]
struct ConnAcc {
    from_lanes: Vec<String>,
    via: Option<String>,
    tl: Option<String>,
    link_indices: Vec<usize>,
}

/// Parses a compiled SUMO network (`netconvert` output).
///
/// Normal edges become links (length = mean lane length, speed = fastest lane,
/// capacity = lanes x 1800 veh/h); connections become movements (lanes = number
/// of distinct upstream lanes, crossing length and speed from the internal
/// `via` lane); each traffic-light `tlLogic` (the last program loaded per id)
/// becomes a fixed-time plan in which a movement is green when any of its
/// link indices shows `G`, `g`, `s`, `y`, `o` or `O`.
///
/// # Errors
/// [`Error::Xml`] for malformed XML, [`Error::MissingAttribute`] or
/// [`Error::InvalidNumber`] for bad elements, [`Error::BadSignal`] for a plan
/// whose states are shorter than a connection's link index.
pub fn parse_sumo_net(net_xml: &str) -> Result<Network, Error> {
    let mut reader = Reader::from_str(net_xml);
    let mut edges: Vec<(String, EdgeAcc)> = Vec::new();
    let mut internal: HashMap<String, (f64, f64)> = HashMap::new(); // lookup only
    let mut conns: BTreeMap<(String, String), ConnAcc> = BTreeMap::new();
    let mut tls: BTreeMap<String, (f64, Vec<(f64, String)>)> = BTreeMap::new();
    let mut cur_edge: Option<(String, bool)> = None; // (id, internal)
    let mut cur_tl: Option<String> = None;
    loop {
        let ev = reader.read_event().map_err(|e| Error::Xml {
            position: reader.buffer_position(),
            message: e.to_string(),
        })?;
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(ev, Event::Empty(_));
                match e.name().as_ref() {
                    "edge" => {
                        let a = attrs(e)?;
                        let id = get(&a, "edge", "id")?.to_string();
                        let is_internal = a.get("function").is_some_and(|f| f == "internal");
                        if !is_internal {
                            edges.push((
                                id.clone(),
                                EdgeAcc {
                                    from: get(&a, "edge", "from")?.to_string(),
                                    to: get(&a, "edge", "to")?.to_string(),
                                    ..EdgeAcc::default()
                                },
                            ));
                        }
                        if !empty {
                            cur_edge = Some((id, is_internal));
                        }
                    }
                    "lane" => {
                        let Some((_, is_internal)) = &cur_edge else {
                            continue;
                        };
                        let a = attrs(e)?;
                        let length = num("lane length", get(&a, "lane", "length")?)?;
                        let speed = num("lane speed", get(&a, "lane", "speed")?)?;
                        if *is_internal {
                            internal.insert(get(&a, "lane", "id")?.to_string(), (length, speed));
                        } else if let Some((_, acc)) = edges.last_mut() {
                            acc.lanes += 1;
                            acc.length_sum += length;
                            acc.speed = acc.speed.max(speed);
                        }
                    }
                    "tlLogic" => {
                        let a = attrs(e)?;
                        let id = get(&a, "tlLogic", "id")?.to_string();
                        let offset = a
                            .get("offset")
                            .map(|o| num("tlLogic offset", o))
                            .transpose()?;
                        tls.insert(id.clone(), (offset.unwrap_or(0.0), Vec::new()));
                        if !empty {
                            cur_tl = Some(id);
                        }
                    }
                    "phase" => {
                        let Some(id) = &cur_tl else { continue };
                        let a = attrs(e)?;
                        let d = num("phase duration", get(&a, "phase", "duration")?)?;
                        let state = get(&a, "phase", "state")?.to_string();
                        if let Some(t) = tls.get_mut(id) {
                            t.1.push((d, state));
                        }
                    }
                    "connection" => {
                        let a = attrs(e)?;
                        let from = get(&a, "connection", "from")?;
                        if from.starts_with(':') {
                            continue;
                        }
                        let to = get(&a, "connection", "to")?;
                        let c = conns.entry((from.to_string(), to.to_string())).or_default();
                        let fl = get(&a, "connection", "fromLane")?.to_string();
                        if !c.from_lanes.contains(&fl) {
                            c.from_lanes.push(fl);
                        }
                        if c.via.is_none() {
                            c.via = a.get("via").cloned();
                        }
                        if let Some(tl) = a.get("tl") {
                            c.tl = Some(tl.clone());
                            let li = get(&a, "connection", "linkIndex")?;
                            let li = li.parse::<usize>().map_err(|_| Error::InvalidNumber {
                                field: "connection linkIndex",
                                value: li.to_string(),
                            })?;
                            c.link_indices.push(li);
                        }
                    }
                    _ => {}
                }
            }
            Event::End(ref e) => match e.name().as_ref() {
                "edge" => cur_edge = None,
                "tlLogic" => cur_tl = None,
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }

    let mut b = NetworkBuilder::new();
    for (id, acc) in &edges {
        if acc.lanes == 0 {
            continue;
        }
        b.link(LinkSpec {
            id: id.clone(),
            from: acc.from.clone(),
            to: acc.to.clone(),
            length_m: acc.length_sum / f64::from(acc.lanes),
            lanes: acc.lanes,
            speed_limit_kmh: acc.speed * 3.6,
            capacity_veh_h: None,
        })?;
    }
    // node id of each tl: the junction the controlled edges end at
    let mut tl_moves: BTreeMap<String, Vec<(String, String, Vec<usize>)>> = BTreeMap::new();
    for ((from, to), c) in &conns {
        let (cross_m, cross_kmh) = match c.via.as_ref().and_then(|v| internal.get(v)) {
            Some(&(len, speed)) => (len, Some(speed * 3.6)),
            None => (0.0, None),
        };
        let lanes = u16::try_from(c.from_lanes.len()).unwrap_or(u16::MAX);
        b.movement(from, to, lanes, cross_m, cross_kmh)?;
        if let Some(tl) = &c.tl {
            tl_moves.entry(tl.clone()).or_default().push((
                from.clone(),
                to.clone(),
                c.link_indices.clone(),
            ));
        }
    }
    let edge_to: HashMap<&str, &str> = edges // lookup only
        .iter()
        .map(|(id, a)| (id.as_str(), a.to.as_str()))
        .collect();
    for (tl, moves) in tl_moves {
        let Some((offset, phases)) = tls.get(&tl) else {
            continue;
        };
        let node = edge_to
            .get(moves[0].0.as_str())
            .map_or(tl.clone(), |n| (*n).to_string());
        let mut spec_phases = Vec::with_capacity(phases.len());
        for (d, state) in phases {
            let st = state.as_bytes();
            let mut green = Vec::with_capacity(moves.len());
            for (_, _, idx) in &moves {
                let mut g = false;
                for &i in idx {
                    let c = *st.get(i).ok_or_else(|| Error::BadSignal {
                        node: tl.clone(),
                        reason: format!("state {state:?} has no link index {i}"),
                    })?;
                    g |= matches!(c, b'G' | b'g' | b's' | b'y' | b'o' | b'O');
                }
                green.push(g);
            }
            spec_phases.push((*d, green));
        }
        b.signal(SignalSpec {
            node,
            offset_s: *offset,
            movements: moves
                .iter()
                .map(|(f, t, _)| (f.clone(), t.clone()))
                .collect(),
            phases: spec_phases,
        });
    }
    b.build()
}

/// Parses a SUMO route file against `net`: `<vehicle>` with an inline
/// `<route edges>` or a `route` reference to a named `<route>`, and `<trip>`
/// with `from`/`to` (routed at departure on current travel times). Numeric
/// `depart` only.
///
/// # Errors
/// [`Error::UnknownLink`] for an edge the network lacks, [`Error::Disconnected`]
/// for consecutive edges without a movement, [`Error::EmptyRoute`],
/// [`Error::InvalidNumber`] for a non-numeric departure.
pub fn parse_sumo_routes(net: &Network, rou_xml: &str) -> Result<Demand, Error> {
    let mut reader = Reader::from_str(rou_xml);
    let mut named: HashMap<String, String> = HashMap::new(); // lookup only
    let mut trips = Vec::new();
    let mut cur: Option<(String, f64, Option<String>)> = None;
    loop {
        let ev = reader.read_event().map_err(|e| Error::Xml {
            position: reader.buffer_position(),
            message: e.to_string(),
        })?;
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(ev, Event::Empty(_));
                match e.name().as_ref() {
                    "vehicle" => {
                        let a = attrs(e)?;
                        let id = get(&a, "vehicle", "id")?.to_string();
                        let depart = num("vehicle depart", get(&a, "vehicle", "depart")?)?;
                        let r = a.get("route").and_then(|r| named.get(r)).cloned();
                        if empty {
                            let edges = r.ok_or_else(|| Error::EmptyRoute(id.clone()))?;
                            trips.push(fixed(net, id, depart, &edges)?);
                        } else {
                            cur = Some((id, depart, r));
                        }
                    }
                    "route" => {
                        let a = attrs(e)?;
                        let edges = get(&a, "route", "edges")?.to_string();
                        match &mut cur {
                            Some((_, _, r)) => *r = Some(edges),
                            None => {
                                if let Some(id) = a.get("id") {
                                    named.insert(id.clone(), edges);
                                }
                            }
                        }
                    }
                    "trip" => {
                        let a = attrs(e)?;
                        let id = get(&a, "trip", "id")?.to_string();
                        let depart = num("trip depart", get(&a, "trip", "depart")?)?;
                        let link = |k: &'static str| -> Result<_, Error> {
                            let s = get(&a, "trip", k)?;
                            net.link_idx(s)
                                .ok_or_else(|| Error::UnknownLink(s.to_string()))
                        };
                        trips.push(Trip {
                            id,
                            depart_s: depart,
                            route: Route::Od {
                                from: link("from")?,
                                to: link("to")?,
                            },
                        });
                    }
                    _ => {}
                }
            }
            Event::End(ref e) if e.name().as_ref() == "vehicle" => {
                if let Some((id, depart, r)) = cur.take() {
                    let edges = r.ok_or_else(|| Error::EmptyRoute(id.clone()))?;
                    trips.push(fixed(net, id, depart, &edges)?);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(Demand::new(trips))
}

fn fixed(net: &Network, id: String, depart: f64, edges: &str) -> Result<Trip, Error> {
    let route = crate::demand::route_from_ids(net, &id, edges.split_whitespace())?;
    Ok(Trip {
        id,
        depart_s: depart,
        route: Route::Fixed(route),
    })
}
