//! Where the model puts its future events: the `scenario` scheduler when a
//! caller drives the whole city, or a part's own queue.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use scenario::{Scheduler, SimTime};

use super::ModelEvent;

/// Takes future events.
pub(crate) trait Calendar {
    /// Schedules `event` at `at` ms.
    fn schedule(&mut self, at: u64, event: ModelEvent);
}

impl Calendar for Scheduler<ModelEvent> {
    fn schedule(&mut self, at: u64, event: ModelEvent) {
        Scheduler::schedule(self, SimTime(at), event);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    at: u64,
    /// insertion order: breaks ties of time, unique
    seq: u64,
    event: ModelEvent,
}

/// Events in (time, insertion) order, as [`Scheduler`] orders them, for
/// the few pending events of a part (its streams' next arrivals and its
/// workers' jobs in hand): a plain list scanned for the earliest while it is
/// short, a binary heap once it grows past `SHORT`.
#[derive(Debug, Default)]
pub(crate) struct EventQueue {
    short: Vec<Entry>,
    heap: BinaryHeap<Reverse<Entry>>,
    long: bool,
    seq: u64,
}

const SHORT: usize = 24;

impl EventQueue {
    /// Removes and returns the earliest event.
    pub(crate) fn pop(&mut self) -> Option<(u64, ModelEvent)> {
        let e = if self.long {
            self.heap.pop()?.0
        } else {
            let (i, _) = self
                .short
                .iter()
                .enumerate()
                .min_by_key(|(_, e)| (e.at, e.seq))?;
            self.short.swap_remove(i)
        };
        Some((e.at, e.event))
    }
}

impl Calendar for EventQueue {
    fn schedule(&mut self, at: u64, event: ModelEvent) {
        let e = Entry {
            at,
            seq: self.seq,
            event,
        };
        self.seq += 1;
        if self.long {
            self.heap.push(Reverse(e));
        } else if self.short.len() < SHORT {
            self.short.push(e);
        } else {
            self.long = true;
            self.heap.extend(self.short.drain(..).map(Reverse));
            self.heap.push(Reverse(e));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Pops in the scheduler's order, short or long.
        #[test]
        fn pops_in_the_schedulers_order(
            ops in prop::collection::vec((any::<bool>(), 0u64..50, 0u32..1000), 0..200),
        ) {
            let mut q = EventQueue::default();
            let mut s: Scheduler<ModelEvent> = Scheduler::new();
            let mut now = 0;
            for (pop, dt, id) in ops {
                if pop {
                    let a = q.pop();
                    let b = s.pop().map(|(t, e)| (t.as_millis(), e));
                    prop_assert_eq!(a, b);
                    if let Some((t, _)) = a {
                        now = t;
                    }
                } else {
                    q.schedule(now + dt, ModelEvent::Finish(id));
                    Calendar::schedule(&mut s, now + dt, ModelEvent::Finish(id));
                }
            }
            while let Some(b) = s.pop() {
                prop_assert_eq!(q.pop(), Some((b.0.as_millis(), b.1)));
            }
            prop_assert_eq!(q.pop(), None);
        }
    }
}
