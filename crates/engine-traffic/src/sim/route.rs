//! Shortest paths on current link travel times (Dijkstra on the link graph,
//! so turn bans are respected).

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::network::{LinkIdx, Network};

#[derive(Debug, Clone, Copy, PartialEq)]
struct Item {
    cost: f64,
    link: u32,
}

impl Eq for Item {}

impl Ord for Item {
    fn cmp(&self, other: &Self) -> Ordering {
        // min-heap on cost, ties broken by link index for determinism
        other
            .cost
            .total_cmp(&self.cost)
            .then_with(|| other.link.cmp(&self.link))
    }
}

impl PartialOrd for Item {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Reusable Dijkstra buffers.
#[derive(Debug, Clone)]
pub(crate) struct Router {
    dist: Vec<f64>,
    prev: Vec<u32>,
    touched: Vec<u32>,
    heap: BinaryHeap<Item>,
}

impl Router {
    pub(crate) fn new(links: usize) -> Self {
        Self {
            dist: vec![f64::INFINITY; links],
            prev: vec![u32::MAX; links],
            touched: Vec::new(),
            heap: BinaryHeap::new(),
        }
    }

    /// The quickest path from the end of `from` to the end of `to` (both
    /// included), avoiding links with `closed > 0`; cost of a link = crossing
    /// time of the movement into it + its current travel time `tt`.
    pub(crate) fn shortest(
        &mut self,
        net: &Network,
        tt: &[f64],
        closed: &[u16],
        from: LinkIdx,
        to: LinkIdx,
    ) -> Option<Vec<LinkIdx>> {
        for &l in &self.touched {
            self.dist[l as usize] = f64::INFINITY;
            self.prev[l as usize] = u32::MAX;
        }
        self.touched.clear();
        self.heap.clear();
        self.dist[from.0 as usize] = 0.0;
        self.touched.push(from.0);
        self.heap.push(Item {
            cost: 0.0,
            link: from.0,
        });
        let mut found = false;
        while let Some(Item { cost, link }) = self.heap.pop() {
            if cost > self.dist[link as usize] {
                continue;
            }
            if link == to.0 {
                found = true;
                break;
            }
            for m in net.links[link as usize].moves.clone() {
                let mv = &net.movements[m as usize];
                let n = mv.to.0 as usize;
                if closed[n] > 0 {
                    continue;
                }
                let c = cost + mv.cross_s() + tt[n];
                if c < self.dist[n] {
                    if self.dist[n].is_infinite() {
                        self.touched.push(mv.to.0);
                    }
                    self.dist[n] = c;
                    self.prev[n] = link;
                    self.heap.push(Item {
                        cost: c,
                        link: mv.to.0,
                    });
                }
            }
        }
        if !found {
            return None;
        }
        let mut path = vec![to];
        let mut cur = to.0;
        while cur != from.0 {
            cur = self.prev[cur as usize];
            path.push(LinkIdx(cur));
        }
        path.reverse();
        Some(path)
    }
}
