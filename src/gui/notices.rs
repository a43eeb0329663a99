//! Sentences shown across the top of the window: the outcome of what the user last did, and
//! failures of the window itself. A list rather than one slot, so that a failure nobody
//! answered is not wiped by the next success.

use eframe::egui;

use super::widgets::{self, Tone};

/// How long a notice stays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifetime {
    /// The outcome of the last thing done: it stays until dismissed or until the next
    /// outcome takes its place, so that the top of the window answers the last action only.
    UntilNextOutcome,
    /// Something the window itself failed at (an internal error, a job that could not
    /// start): it stays until the user dismisses it, whatever happens after.
    UntilDismissed,
}

/// One sentence across the top of the window.
#[derive(Debug, Clone)]
pub struct Notice {
    pub tone: Tone,
    pub text: String,
    pub lifetime: Lifetime,
}

impl Notice {
    /// The outcome of an action that went well.
    pub fn success(text: impl Into<String>) -> Self {
        Notice { tone: Tone::Good, text: text.into(), lifetime: Lifetime::UntilNextOutcome }
    }

    /// The outcome of an action that failed, in its own words.
    pub fn failure(text: impl Into<String>) -> Self {
        Notice { tone: Tone::Bad, text: text.into(), lifetime: Lifetime::UntilNextOutcome }
    }

    /// A failure of the window itself, kept until dismissed.
    pub fn internal(text: impl Into<String>) -> Self {
        Notice { tone: Tone::Bad, text: text.into(), lifetime: Lifetime::UntilDismissed }
    }
}

/// The notices shown, oldest first.
#[derive(Debug, Default)]
pub struct Notices {
    shown: Vec<Notice>,
}

impl Notices {
    /// Adds `notice`; an outcome replaces the previous outcome.
    pub fn push(&mut self, notice: Notice) {
        if notice.lifetime == Lifetime::UntilNextOutcome {
            self.shown.retain(|n| n.lifetime != Lifetime::UntilNextOutcome);
        }
        self.shown.push(notice);
    }

    /// Draws every notice with its Dismiss button, and drops those dismissed.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        if self.shown.is_empty() {
            return;
        }
        self.shown.retain(|notice| !widgets::banner_dismissable(ui, notice.tone, &notice.text));
        ui.add_space(6.0);
    }
}
