//! The model's hot data structures: FIFO queues that keep their vehicles'
//! ready times inline (so polling a queue never touches the vehicle table),
//! the ordered sets of queues to visit in a step (so a step visits only
//! those, in index order, instead of every movement and link), and the
//! calendar of timed wake-ups (so a queue that cannot change for a while is
//! not visited until it can).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

/// A vehicle in a queue with the time it may leave (a copy of the vehicle's
/// `ready_s`, which does not change while it is queued) and, in a movement's
/// queue, the queue it joins on the next link (the movement after that one,
/// or the sink): what checking the head for room needs, without touching the
/// vehicle or its path.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Slot {
    pub ready_s: f64,
    pub vi: u32,
    pub then: u32,
}

/// A FIFO of vehicles on one link: a movement's lane-group queue or a link's
/// sink (vehicles ending their trip there).
///
/// Besides the vehicles it keeps, without touching them: the head's ready
/// time, the length of the *ready prefix* (the queue counted at the stop
/// line: vehicles from the front whose ready time has passed, stopping at the
/// first that is still travelling) and the ready time of the first vehicle
/// after that prefix. Invariants: `head_ready_s` is the front's ready time
/// (infinite when empty); `nready <= len`; `pending_ready_s` is the ready time
/// of the slot at `nready` (infinite when `nready == len`).
#[derive(Debug, Clone)]
pub(super) struct Fifo {
    slots: VecDeque<Slot>,
    head_ready_s: f64,
    pending_ready_s: f64,
    nready: u32,
}

impl Default for Fifo {
    fn default() -> Self {
        Self {
            slots: VecDeque::new(),
            head_ready_s: f64::INFINITY,
            pending_ready_s: f64::INFINITY,
            nready: 0,
        }
    }
}

impl Fifo {
    /// Appends a vehicle at the back.
    pub fn push(&mut self, s: Slot) {
        if self.slots.is_empty() {
            self.head_ready_s = s.ready_s;
        }
        if self.nready as usize == self.slots.len() {
            self.pending_ready_s = s.ready_s;
        }
        self.slots.push_back(s);
    }

    /// Takes the front vehicle out.
    pub fn pop(&mut self) -> Option<Slot> {
        let s = self.slots.pop_front()?;
        self.head_ready_s = self.ready_at(0);
        if self.nready > 0 {
            // the slot at `nready` moved down with the others: same vehicle
            self.nready -= 1;
        } else {
            self.pending_ready_s = self.head_ready_s;
        }
        Some(s)
    }

    /// Takes vehicle `vi` out wherever it is; its position, if it was there.
    pub fn remove(&mut self, vi: u32) -> Option<usize> {
        let k = self.slots.iter().position(|s| s.vi == vi)?;
        self.slots.remove(k);
        self.head_ready_s = self.ready_at(0);
        let n = self.nready as usize;
        if k < n {
            self.nready -= 1;
        } else if k == n {
            self.pending_ready_s = self.ready_at(n);
        }
        Some(k)
    }

    /// Sets the `then` of vehicle `vi`'s slot (its path changed).
    pub fn set_then(&mut self, vi: u32, then: u32) {
        if let Some(s) = self.slots.iter_mut().find(|s| s.vi == vi) {
            s.then = then;
        }
    }

    /// Extends the ready prefix over every vehicle ready by `t` (in order,
    /// stopping at the first that is not) and returns its length.
    pub fn count_ready(&mut self, t: f64) -> u32 {
        if self.pending_ready_s <= t {
            let mut n = self.nready as usize;
            while n < self.slots.len() && self.slots[n].ready_s <= t {
                n += 1;
            }
            self.nready = u32::try_from(n).expect("queue fits u32");
            self.pending_ready_s = self.ready_at(n);
        }
        self.nready
    }

    /// The front vehicle.
    pub fn front(&self) -> Option<Slot> {
        self.slots.front().copied()
    }

    /// The front vehicle's ready time (infinite when empty).
    pub fn head_ready_s(&self) -> f64 {
        self.head_ready_s
    }

    /// Length of the ready prefix as last extended by [`Fifo::count_ready`].
    pub fn nready(&self) -> u32 {
        self.nready
    }

    /// Ready time of the first vehicle after the ready prefix (infinite when
    /// none): the prefix can grow only once a step reaches it.
    pub fn pending_ready_s(&self) -> f64 {
        self.pending_ready_s
    }

    /// Number of vehicles.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether no vehicle is queued.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    fn ready_at(&self, k: usize) -> f64 {
        self.slots.get(k).map_or(f64::INFINITY, |s| s.ready_s)
    }
}

/// A set of small indices (queues that may hold vehicles), iterated in
/// increasing order. Iteration with [`IndexSet::next_from`] reads the live
/// set, so an index inserted ahead of the cursor is still visited in the same
/// pass, exactly as a scan over every index would.
#[derive(Debug, Clone, Default)]
pub(super) struct IndexSet {
    words: Vec<u64>,
}

impl IndexSet {
    /// An empty set for indices `0..n`.
    pub fn new(n: usize) -> Self {
        Self {
            words: vec![0; n.div_ceil(64)],
        }
    }

    /// Adds `i`.
    pub fn insert(&mut self, i: usize) {
        self.words[i / 64] |= 1 << (i % 64);
    }

    /// Removes `i`.
    pub fn remove(&mut self, i: usize) {
        self.words[i / 64] &= !(1 << (i % 64));
    }

    /// The smallest index `>= i` in the set.
    pub fn next_from(&self, i: usize) -> Option<usize> {
        let mut w = i / 64;
        let mut bits = *self.words.get(w)? & (u64::MAX << (i % 64));
        loop {
            if bits != 0 {
                return Some(w * 64 + bits.trailing_zeros() as usize);
            }
            w += 1;
            bits = *self.words.get(w)?;
        }
    }
}

/// The first whole-second step at or after time `t_s` (`u32::MAX`: never).
pub(super) fn step_at(t_s: f64) -> u32 {
    if t_s.is_nan() || t_s >= f64::from(u32::MAX) {
        return u32::MAX;
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let s = t_s.max(0.0).ceil() as u32;
    s
}

/// Timed wake-ups of queues at whole-second steps: a ring of per-second
/// buckets over the next [`Calendar::WINDOW`] steps (a timing wheel: O(1) to
/// add and to take), with a min-heap for the rare wake-ups further ahead. The
/// order within a step is unspecified: a woken queue joins an ordered set, or
/// its count is a sum. An entry that is no longer needed is left in place:
/// waking a queue early or twice only costs a visit, which never changes the
/// result.
#[derive(Debug, Clone)]
pub(super) struct Calendar {
    /// `ring[s % WINDOW]` holds the entries of step `s`, for `next <= s < next + WINDOW`.
    ring: Vec<Vec<u32>>,
    /// The first step not yet taken out.
    next: u32,
    /// Entries due now (steps before `next`), being taken out.
    due: Vec<u32>,
    far: BinaryHeap<Reverse<(u32, u32)>>,
}

impl Default for Calendar {
    fn default() -> Self {
        Self {
            ring: vec![Vec::new(); Self::WINDOW as usize],
            next: 0,
            due: Vec::new(),
            far: BinaryHeap::new(),
        }
    }
}

impl Calendar {
    /// Steps covered by the ring.
    const WINDOW: u32 = 1024;

    /// Wakes `i` at step `step` (at once if that step is past; never when
    /// `step` is `u32::MAX`).
    pub fn at(&mut self, step: u32, i: usize) {
        if step == u32::MAX {
            return;
        }
        let i = u32::try_from(i).expect("index fits u32");
        if step < self.next {
            self.due.push(i);
        } else if step - self.next < Self::WINDOW {
            self.ring[(step % Self::WINDOW) as usize].push(i);
        } else {
            self.far.push(Reverse((step, i)));
        }
    }

    /// The next index due at or before step `step`, taken out.
    pub fn pop_due(&mut self, step: u32) -> Option<usize> {
        loop {
            if let Some(i) = self.due.pop() {
                return Some(i as usize);
            }
            if self.next > step {
                return None;
            }
            let s = self.next;
            let bucket = &mut self.ring[(s % Self::WINDOW) as usize];
            std::mem::swap(bucket, &mut self.due);
            while let Some(&Reverse((fs, i))) = self.far.peek() {
                if fs > s {
                    break;
                }
                self.far.pop();
                self.due.push(i);
            }
            self.next = s + 1;
        }
    }
}
