//! A service station: `c` identical workers, a waiting line, non-preemptive
//! priority with FIFO inside a class.

use std::collections::VecDeque;

/// The waiting line of a station: one FIFO per priority class, class 0 served
/// first. Jobs are opaque `u32` handles.
#[derive(Debug, Clone, Default)]
pub(crate) struct WaitQueue {
    levels: Vec<VecDeque<u32>>,
    len: usize,
}

impl WaitQueue {
    /// Appends `job` to the back of class `class`.
    pub(crate) fn push(&mut self, class: u8, job: u32) {
        let c = usize::from(class);
        if self.levels.len() <= c {
            self.levels.resize_with(c + 1, VecDeque::new);
        }
        self.levels[c].push_back(job);
        self.len += 1;
    }

    /// Removes the head of the most urgent non-empty class.
    pub(crate) fn pop(&mut self) -> Option<u32> {
        let job = self.levels.iter_mut().find_map(VecDeque::pop_front)?;
        self.len -= 1;
        Some(job)
    }

    /// Number of waiting jobs.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

/// Workers and their waiting line. Capacity may change (shift calendars); a
/// worker whose shift ends finishes the job in hand first (non-preemptive).
#[derive(Debug, Clone, Default)]
pub(crate) struct Station {
    capacity: u32,
    busy: u32,
    queue: WaitQueue,
}

impl Station {
    /// A station with `capacity` workers on duty.
    pub(crate) fn new(capacity: u32) -> Self {
        Self {
            capacity,
            busy: 0,
            queue: WaitQueue::default(),
        }
    }

    /// A job arrives. Returns `true` if a worker takes it at once; otherwise it
    /// waits in class `class`.
    pub(crate) fn arrive(&mut self, job: u32, class: u8) -> bool {
        if self.busy < self.capacity {
            self.busy += 1;
            true
        } else {
            self.queue.push(class, job);
            false
        }
    }

    /// A worker finishes a job. Returns the waiting job it (or a colleague
    /// still on duty) takes next, if any.
    pub(crate) fn finish(&mut self) -> Option<u32> {
        debug_assert!(self.busy > 0, "finish without a busy worker");
        self.busy -= 1;
        self.take_next()
    }

    /// Starts the next waiting job if a worker is free.
    pub(crate) fn take_next(&mut self) -> Option<u32> {
        if self.busy < self.capacity {
            let job = self.queue.pop()?;
            self.busy += 1;
            Some(job)
        } else {
            None
        }
    }

    /// Changes the number of workers on duty. Call [`Station::take_next`]
    /// until it returns `None` to start the jobs that new workers take.
    pub(crate) fn set_capacity(&mut self, capacity: u32) {
        self.capacity = capacity;
    }

    /// Workers busy now.
    #[cfg(test)]
    pub(crate) fn busy(&self) -> u32 {
        self.busy
    }

    /// Jobs waiting now.
    #[cfg(test)]
    pub(crate) fn waiting(&self) -> usize {
        self.queue.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_urgent_class_first_then_fifo() {
        let mut q = WaitQueue::default();
        q.push(2, 10);
        q.push(0, 11);
        q.push(2, 12);
        q.push(0, 13);
        let order: Vec<u32> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(order, vec![11, 13, 10, 12]);
        assert_eq!(q.len(), 0);
    }

    #[test]
    fn capacity_drop_waits_for_busy_workers_to_finish() {
        let mut s = Station::new(2);
        assert!(s.arrive(1, 0));
        assert!(s.arrive(2, 0));
        assert!(!s.arrive(3, 0));
        s.set_capacity(1);
        assert_eq!(s.take_next(), None);
        // first finisher goes off duty: 1 busy == capacity 1
        assert_eq!(s.finish(), None);
        assert_eq!(s.finish(), Some(3));
        assert_eq!(s.busy(), 1);
        s.set_capacity(3);
        assert_eq!(s.take_next(), None);
        assert_eq!(s.waiting(), 0);
    }
}
