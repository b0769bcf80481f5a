//! A sparse LU factorisation of 2×2-block matrices (one block per bus).
//!
//! The power-flow Jacobian has one 2×2 block per pair of connected buses
//! (angle and magnitude unknowns, P and Q equations). The structure is fixed
//! by the topology, so the work splits into a symbolic phase done once
//! (minimum-degree ordering, fill-in pattern) and a numeric phase per Newton
//! iteration with no allocation. Pivots are the diagonal blocks, which are
//! non-singular for a connected network with a slack; a vanishing pivot is
//! reported, never hidden.

use std::collections::BTreeSet;

/// A 2×2 block, row-major `[a, b, c, d]` = `[[a, b], [c, d]]`.
pub(crate) type Block = [f64; 4];

fn mul(x: &Block, y: &Block) -> Block {
    [
        x[0] * y[0] + x[1] * y[2],
        x[0] * y[1] + x[1] * y[3],
        x[2] * y[0] + x[3] * y[2],
        x[2] * y[1] + x[3] * y[3],
    ]
}

fn inv(x: &Block) -> Option<Block> {
    let det = x[0] * x[3] - x[1] * x[2];
    let scale = x.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    if det.abs() <= 1e-14 * scale * scale || !det.is_finite() {
        return None;
    }
    Some([x[3] / det, -x[1] / det, -x[2] / det, x[0] / det])
}

/// Minimum-degree ordering of a symmetric graph: `order[new] = old`.
/// Ties break on the lower node number, so the order is deterministic.
pub(crate) fn minimum_degree(adj: &[BTreeSet<usize>]) -> Vec<usize> {
    let n = adj.len();
    let mut g: Vec<BTreeSet<usize>> = adj.to_vec();
    let mut queue: BTreeSet<(usize, usize)> = (0..n).map(|i| (g[i].len(), i)).collect();
    let mut order = Vec::with_capacity(n);
    while let Some((_, v)) = queue.pop_first() {
        order.push(v);
        let nbrs: Vec<usize> = std::mem::take(&mut g[v]).into_iter().collect();
        for &a in &nbrs {
            queue.remove(&(g[a].len(), a));
            g[a].remove(&v);
        }
        for (i, &a) in nbrs.iter().enumerate() {
            for &b in &nbrs[i + 1..] {
                g[a].insert(b);
                g[b].insert(a);
            }
        }
        for &a in &nbrs {
            queue.insert((g[a].len(), a));
        }
    }
    order
}

/// An LU factorisation with a fixed pattern, in the permuted numbering.
#[derive(Debug, Clone)]
pub(crate) struct BlockLu {
    n: usize,
    row_ptr: Vec<usize>,
    cols: Vec<usize>,
    diag: Vec<usize>,
    /// Matrix values on entry to [`BlockLu::factor`], L and U afterwards.
    pub vals: Vec<Block>,
    inv_diag: Vec<Block>,
    marker: Vec<usize>,
}

impl BlockLu {
    /// The fill-in pattern for a structurally symmetric matrix whose
    /// off-diagonal blocks are `adj` (already in the elimination order).
    pub fn symbolic(adj: &[BTreeSet<usize>]) -> Self {
        let n = adj.len();
        let mut upper: Vec<BTreeSet<usize>> = (0..n)
            .map(|i| adj[i].iter().copied().filter(|&j| j > i).collect())
            .collect();
        for k in 0..n {
            if let Some(&parent) = upper[k].first() {
                let rest: Vec<usize> = upper[k].iter().copied().skip(1).collect();
                upper[parent].extend(rest);
            }
        }
        let mut lower: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (k, u) in upper.iter().enumerate() {
            for &j in u {
                lower[j].push(k); // ascending in k
            }
        }
        let mut row_ptr = Vec::with_capacity(n + 1);
        let mut cols = Vec::new();
        let mut diag = Vec::with_capacity(n);
        row_ptr.push(0);
        for i in 0..n {
            cols.extend(lower[i].iter().copied());
            diag.push(cols.len());
            cols.push(i);
            cols.extend(upper[i].iter().copied());
            row_ptr.push(cols.len());
        }
        let nnz = cols.len();
        Self {
            n,
            row_ptr,
            cols,
            diag,
            vals: vec![[0.0; 4]; nnz],
            inv_diag: vec![[0.0; 4]; n],
            marker: vec![usize::MAX; n],
        }
    }

    /// Storage position of block `(i, j)`, if it is in the pattern.
    pub fn position(&self, i: usize, j: usize) -> Option<usize> {
        let row = &self.cols[self.row_ptr[i]..self.row_ptr[i + 1]];
        row.binary_search(&j).ok().map(|p| self.row_ptr[i] + p)
    }

    /// Number of stored blocks (including fill-in).
    pub fn nnz(&self) -> usize {
        self.cols.len()
    }

    /// Sets all values to zero.
    pub fn clear(&mut self) {
        self.vals.fill([0.0; 4]);
    }

    /// Factors in place. `Err(row)` names a row whose pivot block vanished.
    pub fn factor(&mut self) -> Result<(), usize> {
        for i in 0..self.n {
            let (start, end) = (self.row_ptr[i], self.row_ptr[i + 1]);
            for p in start..end {
                self.marker[self.cols[p]] = p;
            }
            for p in start..self.diag[i] {
                let k = self.cols[p];
                let l = mul(&self.vals[p], &self.inv_diag[k]);
                self.vals[p] = l;
                for q in self.diag[k] + 1..self.row_ptr[k + 1] {
                    let j = self.cols[q];
                    let target = self.marker[j];
                    let u = mul(&l, &self.vals[q]);
                    let t = &mut self.vals[target];
                    for (a, b) in t.iter_mut().zip(u) {
                        *a -= b;
                    }
                }
            }
            self.inv_diag[i] = inv(&self.vals[self.diag[i]]).ok_or(i)?;
            for p in start..end {
                self.marker[self.cols[p]] = usize::MAX;
            }
        }
        Ok(())
    }

    /// Solves `LU x = b` in place (`b` becomes `x`).
    pub fn solve(&self, b: &mut [[f64; 2]]) {
        for i in 0..self.n {
            let mut s = b[i];
            for p in self.row_ptr[i]..self.diag[i] {
                let (l, x) = (&self.vals[p], b[self.cols[p]]);
                s[0] -= l[0] * x[0] + l[1] * x[1];
                s[1] -= l[2] * x[0] + l[3] * x[1];
            }
            b[i] = s;
        }
        for i in (0..self.n).rev() {
            let mut s = b[i];
            for p in self.diag[i] + 1..self.row_ptr[i + 1] {
                let (u, x) = (&self.vals[p], b[self.cols[p]]);
                s[0] -= u[0] * x[0] + u[1] * x[1];
                s[1] -= u[2] * x[0] + u[3] * x[1];
            }
            let d = &self.inv_diag[i];
            b[i] = [d[0] * s[0] + d[1] * s[1], d[2] * s[0] + d[3] * s[1]];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Dense reference: solve the 2n×2n system by Gaussian elimination with pivoting.
    fn dense_solve(a: &[Vec<f64>], b: &[f64]) -> Vec<f64> {
        let n = b.len();
        let mut m: Vec<Vec<f64>> = a
            .iter()
            .zip(b)
            .map(|(r, &v)| {
                let mut r = r.clone();
                r.push(v);
                r
            })
            .collect();
        for c in 0..n {
            let p = (c..n)
                .max_by(|&x, &y| m[x][c].abs().total_cmp(&m[y][c].abs()))
                .unwrap();
            m.swap(c, p);
            for r in c + 1..n {
                let f = m[r][c] / m[c][c];
                for k in c..=n {
                    m[r][k] -= f * m[c][k];
                }
            }
        }
        let mut x = vec![0.0; n];
        for r in (0..n).rev() {
            let s: f64 = (r + 1..n).map(|k| m[r][k] * x[k]).sum();
            x[r] = (m[r][n] - s) / m[r][r];
        }
        x
    }

    proptest! {
        #[test]
        fn block_lu_matches_dense_elimination_on_random_meshes(
            n in 2usize..14,
            extra in proptest::collection::vec((0usize..14, 0usize..14), 0..12),
            seed in proptest::collection::vec(-1.0f64..1.0, 400),
        ) {
            // a random tree plus extra edges: a meshed, connected graph
            let mut adj = vec![BTreeSet::new(); n];
            for i in 1..n {
                let p = (i * 7 + 3) % i;
                adj[i].insert(p);
                adj[p].insert(i);
            }
            for (a, b) in extra {
                let (a, b) = (a % n, b % n);
                if a != b { adj[a].insert(b); adj[b].insert(a); }
            }
            let order = minimum_degree(&adj);
            let mut new_of = vec![0; n];
            for (new, &old) in order.iter().enumerate() { new_of[old] = new; }
            let padj: Vec<BTreeSet<usize>> = (0..n).map(|new| adj[order[new]].iter().map(|&o| new_of[o]).collect()).collect();
            let mut lu = BlockLu::symbolic(&padj);
            // diagonally dominant blocks so the unpivoted LU is stable
            let mut dense = vec![vec![0.0; 2 * n]; 2 * n];
            let mut s = seed.iter().cycle();
            for i in 0..n {
                for &j in padj[i].iter().chain(std::iter::once(&i)) {
                    let mut blk = [*s.next().unwrap(), *s.next().unwrap(), *s.next().unwrap(), *s.next().unwrap()];
                    if i == j { blk[0] += 20.0; blk[3] += 20.0; }
                    let p = lu.position(i, j).unwrap();
                    lu.vals[p] = blk;
                    dense[2 * i][2 * j] = blk[0];
                    dense[2 * i][2 * j + 1] = blk[1];
                    dense[2 * i + 1][2 * j] = blk[2];
                    dense[2 * i + 1][2 * j + 1] = blk[3];
                }
            }
            let rhs: Vec<f64> = (0..2 * n).map(|k| (k as f64 * 0.37).sin()).collect();
            let want = dense_solve(&dense, &rhs);
            lu.factor().unwrap();
            let mut b: Vec<[f64; 2]> = (0..n).map(|i| [rhs[2 * i], rhs[2 * i + 1]]).collect();
            lu.solve(&mut b);
            for i in 0..n {
                prop_assert!((b[i][0] - want[2 * i]).abs() < 1e-9);
                prop_assert!((b[i][1] - want[2 * i + 1]).abs() < 1e-9);
            }
        }
    }

    #[test]
    fn a_tree_ordered_by_minimum_degree_has_no_fill() {
        // path 0-1-2-3-4 plus a branch 2-5
        let edges = [(0, 1), (1, 2), (2, 3), (3, 4), (2, 5)];
        let mut adj = vec![BTreeSet::new(); 6];
        for (a, b) in edges {
            adj[a].insert(b);
            adj[b].insert(a);
        }
        let order = minimum_degree(&adj);
        let mut new_of = [0; 6];
        for (new, &old) in order.iter().enumerate() {
            new_of[old] = new;
        }
        let padj: Vec<BTreeSet<usize>> = (0..6)
            .map(|n| adj[order[n]].iter().map(|&o| new_of[o]).collect())
            .collect();
        let lu = BlockLu::symbolic(&padj);
        assert_eq!(lu.nnz(), 6 + 2 * edges.len());
    }

    #[test]
    fn a_singular_pivot_is_reported() {
        let adj = vec![BTreeSet::from([1]), BTreeSet::from([0])];
        let mut lu = BlockLu::symbolic(&adj);
        let p = lu.position(0, 0).unwrap();
        lu.vals[p] = [1.0, 2.0, 2.0, 4.0];
        assert_eq!(lu.factor(), Err(0));
    }
}
