//! H3 cells in SQL: sensors are stored with their resolution-15 cell, so the
//! sensors inside a cell of any resolution are one integer range.
//!
//! An H3 cell index holds, from high to low bits: mode, resolution (bits 52-55),
//! base cell, then fifteen 3-bit digits; the digits below the cell's resolution
//! are 7. Every resolution-15 descendant of a cell shares its mode, base cell
//! and first `r` digits and has digits 0-6 below, so the descendants are exactly
//! the resolution-15 cells in `[lo, hi]` where `lo` sets those digits to 0 and
//! `hi` to 6.

use domain::LatLon;
use h3o::{CellIndex, LatLng, Resolution};

use crate::Error;

const RES_SHIFT: u32 = 52;
const RES_MASK: u64 = 0xF << RES_SHIFT;

/// The resolution-15 cell of a location, as stored in `sensors.cell`.
pub(crate) fn sensor_cell(at: LatLon) -> Option<i64> {
    let ll = LatLng::new(at.lat, at.lon).ok()?;
    i64::try_from(u64::from(ll.to_cell(Resolution::Fifteen))).ok()
}

/// The inclusive range of resolution-15 cells inside `cell`.
pub(crate) fn descendant_range(cell: u64) -> Result<(i64, i64), Error> {
    let c = CellIndex::try_from(cell).map_err(|_| Error::InvalidCell(cell))?;
    let r = u32::from(u8::from(c.resolution()));
    let free_bits = (15 - r) * 3;
    let low_mask = if free_bits == 0 {
        0
    } else {
        (1u64 << free_bits) - 1
    };
    let at15 = (cell & !RES_MASK) | (15u64 << RES_SHIFT);
    let lo = at15 & !low_mask;
    let sixes = (0..(15 - r)).fold(0u64, |acc, k| acc | (6u64 << (3 * k)));
    let hi = lo | sixes;
    let lo = i64::try_from(lo).map_err(|_| Error::InvalidCell(cell))?;
    let hi = i64::try_from(hi).map_err(|_| Error::InvalidCell(cell))?;
    Ok((lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn helsinki() -> LatLng {
        LatLng::new(60.1699, 24.9384).unwrap()
    }

    #[test]
    fn every_descendant_is_in_range_and_neighbours_are_not() {
        let fine = helsinki().to_cell(Resolution::Fifteen);
        for r in [
            Resolution::Zero,
            Resolution::Seven,
            Resolution::Nine,
            Resolution::Fifteen,
        ] {
            let parent = fine.parent(r).unwrap();
            let (lo, hi) = descendant_range(u64::from(parent)).unwrap();
            let f = i64::try_from(u64::from(fine)).unwrap();
            assert!(lo <= f && f <= hi, "{r:?}");
            // children at res 15 of a res-13 parent: all 49 are in range
            if r == Resolution::Fifteen {
                assert_eq!(lo, hi);
            }
            for n in parent.grid_disk::<Vec<_>>(1) {
                if n == parent {
                    continue;
                }
                let child = n.center_child(Resolution::Fifteen).unwrap();
                let c = i64::try_from(u64::from(child)).unwrap();
                assert!(!(lo..=hi).contains(&c), "neighbour of {r:?} inside range");
            }
        }
        let p13 = fine.parent(Resolution::Thirteen).unwrap();
        let (lo, hi) = descendant_range(u64::from(p13)).unwrap();
        let kids: Vec<_> = p13.children(Resolution::Fifteen).collect();
        assert_eq!(kids.len(), 49);
        for k in kids {
            let k = i64::try_from(u64::from(k)).unwrap();
            assert!((lo..=hi).contains(&k));
        }
    }

    #[test]
    fn invalid_cells_are_rejected() {
        assert!(matches!(descendant_range(0), Err(Error::InvalidCell(0))));
        assert!(matches!(
            descendant_range(u64::MAX),
            Err(Error::InvalidCell(_))
        ));
    }

    #[test]
    fn sensor_cells_are_resolution_15() {
        let c = sensor_cell(LatLon {
            lat: 60.1699,
            lon: 24.9384,
        })
        .unwrap();
        let c = CellIndex::try_from(u64::try_from(c).unwrap()).unwrap();
        assert_eq!(c.resolution(), Resolution::Fifteen);
    }
}
