//! 15-minute-life-circle accessibility: walking distances on a street graph
//! from every building to the nearest point of interest of each category.
//!
//! The graph is plain data (nodes and undirected weighted edges), so it can be
//! read from the reference CSVs ([`WalkGraph::from_csv`]) or built from the
//! twin's OSM footways and roads ([`WalkGraph::from_edges`]), with buildings
//! and POIs snapped to their nearest graph node by the caller.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap};

use serde::{Deserialize, Serialize};

use crate::table::{Table, TableError};

/// Why a graph or its inputs are unusable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AccessError {
    /// An edge or place refers to a node the graph does not have.
    #[error("{what} refers to node {node}, graph has {nodes} nodes")]
    NoSuchNode {
        /// Edge, building or POI.
        what: String,
        /// The node index.
        node: u32,
        /// Nodes in the graph.
        nodes: usize,
    },
    /// An edge length is negative or not finite.
    #[error("edge {from}-{to} has length {length_m}")]
    BadLength {
        /// One end.
        from: u32,
        /// Other end.
        to: u32,
        /// Its length, m.
        length_m: f64,
    },
    /// A CSV table is malformed.
    #[error(transparent)]
    Table(#[from] TableError),
}

/// An undirected walking graph in compressed adjacency form.
#[derive(Debug, Clone, PartialEq)]
pub struct WalkGraph {
    offsets: Vec<usize>,
    targets: Vec<u32>,
    lengths_m: Vec<f64>,
}

/// A point of interest snapped to the graph.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Poi {
    /// Category (`pharmacy`, `health`, `school_library`, ...).
    pub category: String,
    /// Its id (e.g. the OSM id).
    pub id: String,
    /// Nearest graph node.
    pub node: u32,
}

/// A building snapped to the graph.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Building {
    /// Its id (e.g. the OSM id).
    pub id: String,
    /// Nearest graph node.
    pub node: u32,
    /// Community it belongs to, if known.
    #[serde(default)]
    pub community: Option<String>,
    /// H3 cell (as a `u64`) it lies in, if known.
    #[serde(default)]
    pub cell: Option<u64>,
    /// Residents (weight of the resident share); 1 if unknown.
    #[serde(default = "one")]
    pub residents: f64,
}

fn one() -> f64 {
    1.0
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Item(f64, u32);
impl Eq for Item {}
impl PartialOrd for Item {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Item {
    // reversed: BinaryHeap is a max-heap; ties by node index for determinism
    fn cmp(&self, other: &Self) -> Ordering {
        other.0.total_cmp(&self.0).then(other.1.cmp(&self.1))
    }
}

impl WalkGraph {
    /// Builds a graph of `nodes` nodes from undirected edges `(a, b, length_m)`.
    ///
    /// # Errors
    /// An edge to a missing node or with a bad length.
    pub fn from_edges(nodes: usize, edges: &[(u32, u32, f64)]) -> Result<Self, AccessError> {
        let mut degree = vec![0usize; nodes + 1];
        for &(a, b, l) in edges {
            for n in [a, b] {
                if n as usize >= nodes {
                    return Err(AccessError::NoSuchNode {
                        what: format!("edge {a}-{b}"),
                        node: n,
                        nodes,
                    });
                }
            }
            if !(l.is_finite() && l >= 0.0) {
                return Err(AccessError::BadLength {
                    from: a,
                    to: b,
                    length_m: l,
                });
            }
            degree[a as usize + 1] += 1;
            degree[b as usize + 1] += 1;
        }
        for i in 1..=nodes {
            degree[i] += degree[i - 1];
        }
        let offsets = degree;
        let mut fill = offsets.clone();
        let mut targets = vec![0u32; 2 * edges.len()];
        let mut lengths_m = vec![0.0; 2 * edges.len()];
        for &(a, b, l) in edges {
            for (x, y) in [(a, b), (b, a)] {
                let k = fill[x as usize];
                targets[k] = y;
                lengths_m[k] = l;
                fill[x as usize] += 1;
            }
        }
        Ok(Self {
            offsets,
            targets,
            lengths_m,
        })
    }

    /// Reads the reference tables: `walk_nodes.csv` (needs `node_index`) and
    /// `walk_edges.csv` (`from_node,to_node,length_m`).
    ///
    /// # Errors
    /// Malformed tables, or edges to missing nodes.
    pub fn from_csv(nodes_csv: &str, edges_csv: &str) -> Result<Self, AccessError> {
        let nt = Table::parse(nodes_csv)?;
        let ni = nt.col("node_index")?;
        let mut n = 0usize;
        for r in nt.rows() {
            let i: usize = nt.get(r, ni)?;
            n = n.max(i + 1);
        }
        let et = Table::parse(edges_csv)?;
        let (a, b, l) = (
            et.col("from_node")?,
            et.col("to_node")?,
            et.col("length_m")?,
        );
        let mut edges = Vec::with_capacity(et.rows().len());
        for r in et.rows() {
            edges.push((et.get(r, a)?, et.get(r, b)?, et.get(r, l)?));
        }
        Self::from_edges(n, &edges)
    }

    /// Number of nodes.
    pub fn nodes(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Number of undirected edges.
    pub fn edges(&self) -> usize {
        self.targets.len() / 2
    }
}

/// Network distance (m) from every node to the nearest of `sources`
/// (multi-source Dijkstra); `f64::INFINITY` where none is reachable.
///
/// # Errors
/// A source outside the graph.
pub fn nearest_distances(g: &WalkGraph, sources: &[u32]) -> Result<Vec<f64>, AccessError> {
    let n = g.nodes();
    let mut dist = vec![f64::INFINITY; n];
    let mut heap = BinaryHeap::new();
    for &s in sources {
        if s as usize >= n {
            return Err(AccessError::NoSuchNode {
                what: "source".into(),
                node: s,
                nodes: n,
            });
        }
        dist[s as usize] = 0.0;
        heap.push(Item(0.0, s));
    }
    while let Some(Item(d, u)) = heap.pop() {
        if d > dist[u as usize] {
            continue;
        }
        let u = u as usize;
        for k in g.offsets[u]..g.offsets[u + 1] {
            let v = g.targets[k] as usize;
            let nd = d + g.lengths_m[k];
            if nd < dist[v] {
                dist[v] = nd;
                heap.push(Item(nd, g.targets[k]));
            }
        }
    }
    Ok(dist)
}

/// Served shares for one group of buildings and one category.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShareRow {
    /// Buildings in the group.
    pub buildings: u64,
    /// Share of buildings with a POI within each threshold, in threshold order.
    pub building_share: Vec<f64>,
    /// Share of residents with a POI within each threshold.
    pub resident_share: Vec<f64>,
}

/// Accessibility of one category.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoryAccess {
    /// POIs of the category.
    pub pois: u64,
    /// City-wide shares.
    pub city: ShareRow,
    /// Per community (buildings without one are left out).
    pub by_community: BTreeMap<String, ShareRow>,
    /// Per H3 cell, as the cell's hex string.
    pub by_cell: BTreeMap<String, ShareRow>,
}

/// Accessibility of every category.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessReport {
    /// Walking-distance thresholds, m (1,200 m is about 15 minutes).
    pub thresholds_m: Vec<f64>,
    /// Per category.
    pub categories: BTreeMap<String, CategoryAccess>,
    /// Distance from each building (input order) to the nearest POI per
    /// category, m; `None` when unreachable.
    pub distances_m: BTreeMap<String, Vec<Option<f64>>>,
}

#[derive(Default, Clone)]
struct ShareAcc {
    n: u64,
    weight: f64,
    hit: Vec<u64>,
    hit_w: Vec<f64>,
}

impl ShareAcc {
    fn add(&mut self, d: f64, w: f64, th: &[f64]) {
        if self.hit.is_empty() {
            self.hit = vec![0; th.len()];
            self.hit_w = vec![0.0; th.len()];
        }
        self.n += 1;
        self.weight += w;
        for (k, &t) in th.iter().enumerate() {
            if d <= t {
                self.hit[k] += 1;
                self.hit_w[k] += w;
            }
        }
    }
    #[allow(clippy::cast_precision_loss)]
    fn finish(&self, nth: usize) -> ShareRow {
        let n = self.n.max(1) as f64;
        let w = if self.weight > 0.0 { self.weight } else { 1.0 };
        ShareRow {
            buildings: self.n,
            building_share: (0..nth)
                .map(|k| self.hit.get(k).map_or(0.0, |&h| h as f64 / n))
                .collect(),
            resident_share: (0..nth)
                .map(|k| self.hit_w.get(k).map_or(0.0, |&h| h / w))
                .collect(),
        }
    }
}

/// Distances and served shares for every POI category.
///
/// A building's distance is the network distance between its node and the
/// nearest POI node of the category (the snapping legs are not added; add
/// them to the thresholds if wanted).
///
/// # Errors
/// A building or POI outside the graph.
pub fn access_report(
    g: &WalkGraph,
    buildings: &[Building],
    pois: &[Poi],
    thresholds_m: &[f64],
) -> Result<AccessReport, AccessError> {
    for b in buildings {
        if b.node as usize >= g.nodes() {
            return Err(AccessError::NoSuchNode {
                what: format!("building {}", b.id),
                node: b.node,
                nodes: g.nodes(),
            });
        }
    }
    let mut by_cat: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
    for p in pois {
        by_cat.entry(&p.category).or_default().push(p.node);
    }
    let nth = thresholds_m.len();
    let mut categories = BTreeMap::new();
    let mut distances_m = BTreeMap::new();
    for (cat, nodes) in by_cat {
        let dist = nearest_distances(g, &nodes)?;
        let mut city = ShareAcc::default();
        let mut comm: BTreeMap<String, ShareAcc> = BTreeMap::new();
        let mut cell: BTreeMap<String, ShareAcc> = BTreeMap::new();
        let mut per_building = Vec::with_capacity(buildings.len());
        for b in buildings {
            let d = dist[b.node as usize];
            per_building.push(d.is_finite().then_some(d));
            city.add(d, b.residents, thresholds_m);
            if let Some(c) = &b.community {
                comm.entry(c.clone())
                    .or_default()
                    .add(d, b.residents, thresholds_m);
            }
            if let Some(c) = b.cell {
                cell.entry(format!("{c:x}"))
                    .or_default()
                    .add(d, b.residents, thresholds_m);
            }
        }
        categories.insert(
            cat.to_string(),
            CategoryAccess {
                pois: nodes.len() as u64,
                city: city.finish(nth),
                by_community: comm
                    .iter()
                    .map(|(k, a)| (k.clone(), a.finish(nth)))
                    .collect(),
                by_cell: cell
                    .iter()
                    .map(|(k, a)| (k.clone(), a.finish(nth)))
                    .collect(),
            },
        );
        distances_m.insert(cat.to_string(), per_building);
    }
    Ok(AccessReport {
        thresholds_m: thresholds_m.to_vec(),
        categories,
        distances_m,
    })
}

impl AccessReport {
    /// City-wide building shares as a flat `category@threshold` map, for
    /// baseline-versus-variant deltas (adding or removing a facility).
    pub fn flat(&self) -> BTreeMap<String, f64> {
        let mut m = BTreeMap::new();
        for (cat, a) in &self.categories {
            for (t, s) in self.thresholds_m.iter().zip(&a.city.building_share) {
                m.insert(format!("{cat}@{t}m"), *s);
            }
        }
        m
    }
}

/// Reads `pois.csv` (`category,osm_id,node_index`).
///
/// # Errors
/// A malformed table.
pub fn parse_pois(text: &str) -> Result<Vec<Poi>, TableError> {
    let t = Table::parse(text)?;
    let (c, id, n) = (t.col("category")?, t.col("osm_id")?, t.col("node_index")?);
    t.rows()
        .iter()
        .map(|r| {
            Ok(Poi {
                category: r.1[c].trim().to_string(),
                id: r.1[id].trim().to_string(),
                node: t.get(r, n)?,
            })
        })
        .collect()
}

/// Reads buildings from a table with `osm_id,node_index` and optional
/// `community`, `cell` (hex) and `residents` columns.
///
/// # Errors
/// A malformed table.
pub fn parse_buildings(text: &str) -> Result<Vec<Building>, TableError> {
    let t = Table::parse(text)?;
    let (id, n) = (t.col("osm_id")?, t.col("node_index")?);
    let (comm, cell, res) = (
        t.col_opt("community"),
        t.col_opt("cell"),
        t.col_opt("residents"),
    );
    t.rows()
        .iter()
        .map(|r| {
            Ok(Building {
                id: r.1[id].trim().to_string(),
                node: t.get(r, n)?,
                community: comm
                    .map(|c| r.1[c].trim().to_string())
                    .filter(|s| !s.is_empty()),
                cell: match cell {
                    Some(c) if !r.1[c].trim().is_empty() => {
                        Some(u64::from_str_radix(r.1[c].trim(), 16).map_err(|_| t.bad(r, c))?)
                    }
                    _ => None,
                },
                residents: match res {
                    Some(c) => t.get(r, c)?,
                    None => 1.0,
                },
            })
        })
        .collect()
}
