//! Progress reporting for long runs.

/// Receives progress from a long computation. The CLI draws a bar; the API
/// stores a status a client can poll. Implementations must be cheap: engines
/// call it at most a few hundred times per run.
pub trait Progress {
    /// `done` of `total` units (simulated seconds, jobs, steps) are complete.
    fn update(&mut self, done: u64, total: u64);
}

/// Ignores progress.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn update(&mut self, _done: u64, _total: u64) {}
}

impl<F: FnMut(u64, u64)> Progress for F {
    fn update(&mut self, done: u64, total: u64) {
        self(done, total);
    }
}
