//! Joining OSM way pieces into closed rings (multipolygon assembly).

/// Joins node-id sequences end to end into closed rings. Pieces may be
/// reversed. `None` when a ring cannot be closed or is degenerate (fewer than
/// four nodes, i.e. three distinct corners).
pub(crate) fn assemble(pieces: &[Vec<i64>]) -> Option<Vec<Vec<i64>>> {
    let mut pool: Vec<&[i64]> = pieces
        .iter()
        .filter(|p| !p.is_empty())
        .map(Vec::as_slice)
        .collect();
    let mut rings = Vec::new();
    while !pool.is_empty() {
        let mut ring: Vec<i64> = pool.remove(0).to_vec();
        loop {
            let (first, last) = (*ring.first()?, *ring.last()?);
            if ring.len() > 1 && first == last {
                if ring.len() < 4 {
                    return None;
                }
                rings.push(ring);
                break;
            }
            let pos = pool
                .iter()
                .position(|p| p.first() == Some(&last) || p.last() == Some(&last))?;
            let next = pool.remove(pos);
            if next.first() == Some(&last) {
                ring.extend_from_slice(&next[1..]);
            } else {
                ring.extend(next.iter().rev().skip(1));
            }
        }
    }
    Some(rings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_join_in_any_order_and_direction() {
        let rings = assemble(&[vec![3, 4, 1], vec![1, 2], vec![3, 2]]).unwrap();
        assert_eq!(rings, vec![vec![3, 4, 1, 2, 3]]);
        let two = assemble(&[vec![1, 2, 3, 1], vec![5, 6], vec![6, 7, 5]]).unwrap();
        assert_eq!(two.len(), 2);
    }

    #[test]
    fn open_or_degenerate_rings_fail() {
        assert_eq!(assemble(&[vec![1, 2, 3]]), None);
        assert_eq!(assemble(&[vec![1, 2], vec![3, 4]]), None);
        assert_eq!(assemble(&[vec![1, 2, 1]]), None);
        assert_eq!(assemble(&[]), Some(vec![]));
    }
}
