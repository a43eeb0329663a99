//! Toasts: the outcome of what the user last did, and failures of the window itself. They
//! float over the bottom right of the window, so that they never push the view's controls
//! from under the pointer. Successes go away by themselves; failures stay until dismissed,
//! and a failure belongs to the view it happened in (it is not shown over another view).

use eframe::egui::{self, RichText};

use super::View;
use super::widgets::{self, Tone};

/// How long a success stays, in seconds.
pub const SUCCESS_SECONDS: f64 = 8.0;

/// How long a notice stays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifetime {
    /// The outcome of the last thing done: the next outcome takes its place. A success goes
    /// away after [`SUCCESS_SECONDS`]; a failure stays until dismissed.
    UntilNextOutcome,
    /// Something the window itself failed at (an internal error, a job that could not
    /// start): it stays until the user dismisses it, whatever happens after, in every view.
    UntilDismissed,
}

/// One sentence in a toast.
#[derive(Debug, Clone)]
pub struct Notice {
    pub tone: Tone,
    pub text: String,
    pub lifetime: Lifetime,
    /// The view it belongs to (set when it is shown): a failure shows only there.
    view: Option<View>,
    /// When it was shown, in the window's seconds.
    since: f64,
}

impl Notice {
    /// The outcome of an action that went well.
    pub fn success(text: impl Into<String>) -> Self {
        Notice::new(Tone::Good, text, Lifetime::UntilNextOutcome)
    }

    /// The outcome of an action that failed, in its own words.
    pub fn failure(text: impl Into<String>) -> Self {
        Notice::new(Tone::Bad, text, Lifetime::UntilNextOutcome)
    }

    /// A failure of the window itself, kept until dismissed.
    pub fn internal(text: impl Into<String>) -> Self {
        Notice::new(Tone::Bad, text, Lifetime::UntilDismissed)
    }

    fn new(tone: Tone, text: impl Into<String>, lifetime: Lifetime) -> Self {
        Notice { tone, text: text.into(), lifetime, view: None, since: 0.0 }
    }

    fn expires(&self) -> bool {
        self.tone == Tone::Good && self.lifetime == Lifetime::UntilNextOutcome
    }

    /// Whether it is shown over `view`.
    fn shown_in(&self, view: View) -> bool {
        self.lifetime == Lifetime::UntilDismissed || self.expires() || self.view.is_none_or(|v| v == view)
    }
}

/// The notices shown, oldest first.
#[derive(Debug)]
pub struct Notices {
    shown: Vec<Notice>,
    /// Successes go away after this many seconds (`None`: never; for tests that step
    /// frames faster than a person reads).
    success_seconds: Option<f64>,
}

impl Default for Notices {
    fn default() -> Self {
        Notices { shown: Vec::new(), success_seconds: Some(SUCCESS_SECONDS) }
    }
}

impl Notices {
    /// Adds `notice`, shown in `view` at time `now`; an outcome replaces the previous
    /// outcome of the same view.
    pub fn push(&mut self, mut notice: Notice, view: View, now: f64) {
        notice.view = Some(view);
        notice.since = now;
        if notice.lifetime == Lifetime::UntilNextOutcome {
            self.shown.retain(|n| {
                n.lifetime != Lifetime::UntilNextOutcome || (!n.expires() && n.view != Some(view))
            });
        }
        self.shown.push(notice);
    }

    #[cfg(test)]
    pub fn keep_successes(&mut self) {
        self.success_seconds = None;
    }

    /// Drops the successes that have been shown long enough at `now`; returns how long until
    /// the next one goes, so that the window repaints then (and not before).
    fn expire(&mut self, now: f64) -> Option<f64> {
        let limit = self.success_seconds?;
        self.shown.retain(|n| !n.expires() || now - n.since < limit);
        self.shown.iter().filter(|n| n.expires()).map(|n| limit - (now - n.since)).reduce(f64::min)
    }

    /// Draws the toasts of `view` over the bottom right of the window, each with its
    /// Dismiss button, and drops those dismissed.
    pub fn ui(&mut self, ctx: &egui::Context, view: View) {
        let now = ctx.input(|i| i.time);
        if let Some(left) = self.expire(now) {
            ctx.request_repaint_after(std::time::Duration::from_secs_f64(left.max(0.0)));
        }
        if !self.shown.iter().any(|n| n.shown_in(view)) {
            return;
        }
        let mut dismissed = None;
        egui::Area::new(egui::Id::unique("notices"))
            .order(egui::Order::Foreground)
            .anchor(egui::Align2::RIGHT_BOTTOM, egui::vec2(-12.0, -36.0))
            .show(ctx, |ui| {
                ui.set_max_width(460.0);
                for (i, notice) in self.shown.iter().enumerate().filter(|(_, n)| n.shown_in(view)) {
                    let c = widgets::colour(ui, notice.tone);
                    egui::Frame::popup(ui.style()).stroke(egui::Stroke::new(1.5, c)).show(ui, |ui| {
                        ui.horizontal_wrapped(|ui| {
                            ui.label(RichText::new(&notice.text).color(c));
                            if ui.button("Dismiss").clicked() {
                                dismissed = Some(i);
                            }
                        });
                    });
                    ui.add_space(4.0);
                }
            });
        if let Some(i) = dismissed {
            self.shown.remove(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn successes_expire_failures_stay_and_belong_to_their_view() {
        let mut notices = Notices::default();
        notices.push(Notice::failure("the backup failed"), View::Keys, 0.0);
        notices.push(Notice::success("copied"), View::Sign, 1.0);
        notices.push(Notice::internal("internal"), View::Sign, 1.0);
        let shown = |n: &Notices, view| {
            n.shown.iter().filter(|x| x.shown_in(view)).map(|x| x.text.clone()).collect::<Vec<_>>()
        };
        assert_eq!(shown(&notices, View::Keys), ["the backup failed", "copied", "internal"]);
        assert_eq!(shown(&notices, View::Verify), ["copied", "internal"], "a failure stays in its view");
        assert_eq!(
            notices.expire(2.0),
            Some(SUCCESS_SECONDS - 1.0),
            "the repaint comes when the success goes"
        );
        notices.expire(1.0 + SUCCESS_SECONDS);
        assert_eq!(shown(&notices, View::Keys), ["the backup failed", "internal"]);
        notices.push(Notice::success("saved"), View::Keys, 20.0);
        assert_eq!(
            shown(&notices, View::Keys),
            ["internal", "saved"],
            "a new outcome of a view replaces its last"
        );
    }
}
