//! The spatial index of entities: an R*-tree bulk-loaded once per city plus
//! a persistent overlay of the entities upserted or removed since, so a
//! snapshot shares the tree and copies nothing.

use std::sync::Arc;

use domain::{EntityId, EntityKind};
use geo::Rect;
use rstar::{AABB, Envelope as _, RTree, RTreeObject};

/// A rectangle with an index into some table (used for one-off indexes).
#[derive(Debug, Clone, Copy)]
pub(crate) struct RectItem {
    env: AABB<[f64; 2]>,
    pub(crate) index: usize,
}

impl RectItem {
    pub(crate) fn new(r: Rect<f64>, index: usize) -> Self {
        Self {
            env: aabb(r),
            index,
        }
    }
}

impl RTreeObject for RectItem {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        self.env
    }
}

pub(crate) fn aabb(r: Rect<f64>) -> AABB<[f64; 2]> {
    AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y])
}

/// One entity in the tree.
#[derive(Debug, Clone)]
pub(crate) struct IdItem {
    env: AABB<[f64; 2]>,
    id: EntityId,
    kind: EntityKind,
}

impl IdItem {
    pub(crate) fn new(id: EntityId, kind: EntityKind, bounds: Rect<f64>) -> Self {
        Self {
            env: aabb(bounds),
            id,
            kind,
        }
    }
}

impl RTreeObject for IdItem {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        self.env
    }
}

/// Upserts and removals since the tree was built: `Some` holds the current
/// envelope, `None` marks a removal.
type Overlay = imbl::OrdMap<EntityId, Option<(AABB<[f64; 2]>, EntityKind)>>;

/// Entity bounding boxes, queryable by rectangle.
#[derive(Debug, Clone)]
pub(crate) struct SpatialIndex {
    tree: Arc<RTree<IdItem>>,
    overlay: Overlay,
}

impl SpatialIndex {
    /// Overlay entries tolerated before the writer rebuilds the tree: an
    /// eighth of the tree, at least 1,024. Rebuilding costs O(n log n), so the
    /// amortised cost per upsert stays O(log n).
    const MIN_OVERLAY: usize = 1024;

    pub(crate) fn build(items: Vec<IdItem>) -> Self {
        Self {
            tree: Arc::new(RTree::bulk_load(items)),
            overlay: Overlay::new(),
        }
    }

    pub(crate) fn upsert(&mut self, id: EntityId, kind: EntityKind, bounds: Rect<f64>) {
        self.overlay.insert(id, Some((aabb(bounds), kind)));
    }

    pub(crate) fn remove(&mut self, id: EntityId) {
        self.overlay.insert(id, None);
    }

    /// Whether the overlay has grown enough that the writer should rebuild.
    pub(crate) fn wants_rebuild(&self) -> bool {
        self.overlay.len() > Self::MIN_OVERLAY.max(self.tree.size() / 8)
    }

    /// Ids of the entities whose bounding box intersects `r` and whose kind
    /// is in `kinds` (every kind when empty), unsorted.
    pub(crate) fn query(&self, r: Rect<f64>, kinds: &[EntityKind]) -> Vec<EntityId> {
        let env = aabb(r);
        let want = |k: EntityKind| kinds.is_empty() || kinds.contains(&k);
        let mut out: Vec<EntityId> = self
            .tree
            .locate_in_envelope_intersecting(env)
            .filter(|it| want(it.kind) && !self.overlay.contains_key(&it.id))
            .map(|it| it.id.clone())
            .collect();
        for (id, entry) in &self.overlay {
            if let Some((e, k)) = entry
                && want(*k)
                && e.intersects(&env)
            {
                out.push(id.clone());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::coord;

    fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Rect<f64> {
        Rect::new(coord! {x: x0, y: y0}, coord! {x: x1, y: y1})
    }

    fn id(s: &str) -> EntityId {
        EntityId::new(s).unwrap()
    }

    #[test]
    fn overlay_upserts_move_entities_and_removals_hide_them() {
        let mut ix = SpatialIndex::build(vec![
            IdItem::new(id("a"), EntityKind::Building, rect(0.0, 0.0, 1.0, 1.0)),
            IdItem::new(id("b"), EntityKind::Sensor, rect(5.0, 5.0, 6.0, 6.0)),
        ]);
        let q = |ix: &SpatialIndex, r| {
            let mut v = ix.query(r, &[]);
            v.sort();
            v
        };
        assert_eq!(q(&ix, rect(-1.0, -1.0, 2.0, 2.0)), vec![id("a")]);
        let before = ix.clone();
        ix.upsert(id("a"), EntityKind::Building, rect(10.0, 10.0, 11.0, 11.0));
        ix.remove(id("b"));
        ix.upsert(id("c"), EntityKind::Sensor, rect(0.5, 0.5, 0.5, 0.5));
        assert_eq!(q(&ix, rect(-1.0, -1.0, 2.0, 2.0)), vec![id("c")]);
        assert_eq!(q(&ix, rect(9.0, 9.0, 12.0, 12.0)), vec![id("a")]);
        assert!(q(&ix, rect(4.0, 4.0, 7.0, 7.0)).is_empty());
        // the clone taken before is unaffected
        assert_eq!(q(&before, rect(4.0, 4.0, 7.0, 7.0)), vec![id("b")]);
        // kind filter
        assert!(
            ix.query(rect(-1.0, -1.0, 2.0, 2.0), &[EntityKind::Building])
                .is_empty()
        );
    }
}
