//! A handle that long core calls report into and that the caller may cancel through.
//!
//! The command line draws a progress line from it, the window a progress bar, and tests
//! cancel through it; the core never knows which.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Shared progress of one long job: bytes done out of bytes total, and a cancel flag.
/// Cloning gives another handle on the same job.
#[derive(Clone, Debug, Default)]
pub struct Progress {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    done: AtomicU64,
    total: AtomicU64,
    cancelled: AtomicBool,
}

/// Returned by work that stopped because [`Progress::cancel`] was called.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cancelled")]
pub struct Cancelled;

impl Progress {
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts a new phase of `total` bytes (the count of done bytes restarts at zero).
    pub fn start(&self, total: u64) {
        self.inner.total.store(total, Ordering::Relaxed);
        self.inner.done.store(0, Ordering::Relaxed);
    }

    pub fn advance(&self, bytes: u64) {
        self.inner.done.fetch_add(bytes, Ordering::Relaxed);
    }

    pub fn done(&self) -> u64 {
        self.inner.done.load(Ordering::Relaxed)
    }

    pub fn total(&self) -> u64 {
        self.inner.total.load(Ordering::Relaxed)
    }

    /// Fraction done in `0.0..=1.0`; `0.0` before anything is known.
    pub fn fraction(&self) -> f32 {
        let total = self.total();
        if total == 0 {
            return 0.0;
        }
        (self.done() as f64 / total as f64).clamp(0.0, 1.0) as f32
    }

    pub fn cancel(&self) {
        self.inner.cancelled.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.inner.cancelled.load(Ordering::Relaxed)
    }

    /// `Err(Cancelled)` once cancel was asked for; long loops call this between chunks.
    pub fn check(&self) -> Result<(), Cancelled> {
        if self.is_cancelled() { Err(Cancelled) } else { Ok(()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_counts_and_cancellation() {
        let p = Progress::new();
        let q = p.clone();
        p.start(200);
        q.advance(50);
        assert_eq!(p.done(), 50);
        assert!((p.fraction() - 0.25).abs() < 1e-6);
        assert!(p.check().is_ok());
        q.cancel();
        assert_eq!(p.check(), Err(Cancelled));
    }

    #[test]
    fn fraction_is_zero_without_total_and_never_above_one() {
        let p = Progress::new();
        assert_eq!(p.fraction(), 0.0);
        p.start(10);
        p.advance(25);
        assert_eq!(p.fraction(), 1.0);
    }
}
