//! Terminal progress bars (indicatif), one per job, moved by the core's [`Progress`]
//! listener on the thread doing the work: no thread of their own, no polling, no sleeping.
//!
//! Bars appear only for work that lasts (half a second), only when stderr is a terminal,
//! never with `--json`, and are cleared when the work ends.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use countersign::progress::Progress;

/// Work shorter than this shows no bar at all.
const SHOW_AFTER: Duration = Duration::from_millis(500);

pub struct Bars {
    multi: MultiProgress,
    enabled: bool,
    started: Instant,
    shown: AtomicBool,
}

impl Bars {
    /// Bars for this command; with `quiet` (machine-readable output), or when stderr is not
    /// a terminal, none are ever drawn.
    pub fn new(quiet: bool) -> Arc<Self> {
        let enabled = !quiet && std::io::IsTerminal::is_terminal(&std::io::stderr());
        Arc::new(Bars {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::hidden()),
            enabled,
            started: Instant::now(),
            shown: AtomicBool::new(false),
        })
    }

    /// A progress handle for one job, drawn as a bar labelled `label` once the work lasts.
    pub fn job(self: &Arc<Self>, label: &str) -> Progress {
        if !self.enabled {
            return Progress::new();
        }
        let style = ProgressStyle::with_template("{prefix} [{bar:30}] {percent:>3}% of {total_bytes} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        let bar = self.multi.add(ProgressBar::no_length().with_style(style).with_prefix(label.to_owned()));
        let bars = self.clone();
        Progress::with_listener(Arc::new(move |done, total| {
            bar.set_length(total);
            bar.set_position(done);
            bars.reveal();
        }))
    }

    /// Starts drawing once the work has lasted long enough to be worth a bar.
    fn reveal(&self) {
        if !self.shown.load(Ordering::Relaxed)
            && self.started.elapsed() >= SHOW_AFTER
            && !self.shown.swap(true, Ordering::Relaxed)
        {
            self.multi.set_draw_target(ProgressDrawTarget::stderr());
        }
    }

    /// Clears every bar (what the command prints next stands alone).
    pub fn finish(&self) {
        let _ = self.multi.clear();
    }
}

/// Runs `work` with one bar labelled `label`, on this thread.
pub fn with_progress<T>(label: &str, quiet: bool, work: impl FnOnce(&Progress) -> T) -> T {
    let bars = Bars::new(quiet);
    let progress = bars.job(label);
    let out = work(&progress);
    bars.finish();
    out
}
