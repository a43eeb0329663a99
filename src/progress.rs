//! A handle that long core calls report into and that the caller may cancel through.
//!
//! The window reads it when it draws (a progress bar per job), the command line has it call
//! a listener that moves its terminal bars, and tests cancel through it; the core never
//! knows which.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Called with (bytes done, bytes total) whenever either changes, on the thread doing the
/// work; it should return quickly.
pub type Listener = Arc<dyn Fn(u64, u64) + Send + Sync>;

/// Shared progress of one long job: bytes done out of bytes total, and a cancel flag.
/// Cloning gives another handle on the same job.
#[derive(Clone, Default)]
pub struct Progress {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    done: AtomicU64,
    total: AtomicU64,
    cancelled: AtomicBool,
    listener: Option<Listener>,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Progress({} of {}{})",
            self.done(),
            self.total(),
            if self.is_cancelled() { ", cancelled" } else { "" }
        )
    }
}

/// Returned by work that stopped because [`Progress::cancel`] was called.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cancelled")]
pub struct Cancelled;

impl Progress {
    /// A handle with nothing done yet, nothing to do, and no listener.
    pub fn new() -> Self {
        Self::default()
    }

    /// A handle that also tells `listener` of every change.
    pub fn with_listener(listener: Listener) -> Self {
        Progress { inner: Arc::new(Inner { listener: Some(listener), ..Inner::default() }) }
    }

    /// Starts a new phase of `total` bytes (the count of done bytes restarts at zero).
    pub fn start(&self, total: u64) {
        self.inner.total.store(total, Ordering::Relaxed);
        self.inner.done.store(0, Ordering::Relaxed);
        if let Some(listener) = &self.inner.listener {
            listener(0, total);
        }
    }

    /// Counts `bytes` more as done, and tells the listener.
    pub fn advance(&self, bytes: u64) {
        let done = self.inner.done.fetch_add(bytes, Ordering::Relaxed) + bytes;
        if let Some(listener) = &self.inner.listener {
            listener(done, self.total());
        }
    }

    /// Bytes done so far in the current phase.
    pub fn done(&self) -> u64 {
        self.inner.done.load(Ordering::Relaxed)
    }

    /// Bytes in the current phase; 0 until the work starts one.
    pub fn total(&self) -> u64 {
        self.inner.total.load(Ordering::Relaxed)
    }

    /// Fraction done in `0.0..=1.0`; `0.0` before anything is known.
    pub fn fraction(&self) -> f32 {
        let total = self.total();
        if total == 0 {
            return 0.0;
        }
        let fraction = (self.done() as f64 / total as f64).clamp(0.0, 1.0);
        // Clamped to 0..=1, well inside f32's range: the cast only rounds, it cannot truncate.
        #[allow(clippy::cast_possible_truncation)]
        let fraction = fraction as f32;
        fraction
    }

    /// Asks the work to stop at its next check; every clone of the handle sees it.
    pub fn cancel(&self) {
        self.inner.cancelled.store(true, Ordering::Relaxed);
    }

    /// True once [`cancel`](Self::cancel) was called on this handle or a clone of it.
    pub fn is_cancelled(&self) -> bool {
        self.inner.cancelled.load(Ordering::Relaxed)
    }

    /// `Err(Cancelled)` once cancel was asked for; long loops call this between chunks.
    pub fn check(&self) -> Result<(), Cancelled> {
        if self.is_cancelled() { Err(Cancelled) } else { Ok(()) }
    }
}

/// A size for people, in decimal units as file managers show them: "980 bytes", "4.2 MB".
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return format!("{bytes} bytes");
    }
    let mut value = bytes as f64;
    let mut unit = "";
    for u in UNITS {
        value /= 1000.0;
        unit = u;
        if value < 1000.0 {
            break;
        }
    }
    format!("{value:.1} {unit}")
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
    fn a_listener_hears_every_change() {
        let heard = Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = heard.clone();
        let p = Progress::with_listener(Arc::new(move |done, total| log.lock().unwrap().push((done, total))));
        p.start(10);
        p.advance(4);
        p.clone().advance(6);
        assert_eq!(*heard.lock().unwrap(), vec![(0, 10), (4, 10), (10, 10)]);
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
