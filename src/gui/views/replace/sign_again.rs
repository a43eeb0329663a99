//! Step 4 of the "Replace a key" page, "Sign again what they have": look for what the old
//! key signed at the paths the history recorded, sign with the new key what is there and
//! unchanged, and list what moved or changed.

use eframe::egui::{self, RichText};

use super::Message;
use super::shared::{Page, State, record_step, signed_with_old, step_heading};
use crate::gui::KeyRow;
use crate::gui::actions::{Action, Actions};
use crate::gui::context::ViewContext;
use crate::gui::failure::Failure;
use crate::gui::widgets::{self, DisabledBecause as _, Tone};
use countersign::history::Entry;
use countersign::keystore::KeyRecord;
use countersign::progress::Progress;
use countersign::resign::{self, Candidate, Found, Outcome, Report};
use countersign::rotation::{self, Replacements, Resigned, Steps};

/// Results of step 4's jobs.
#[derive(Debug)]
pub(super) enum Event {
    /// What is at each artifact's recorded path now, and the artifacts signed again already
    /// (by an earlier run).
    Looked { to_sign: Vec<Candidate>, already: Vec<Candidate> },
    /// What became of each candidate once signed again.
    Resigned(Result<Vec<Report>, Failure>),
}

/// What was found at the recorded paths, the signing under way, and what became of it.
#[derive(Default)]
pub(super) struct SignAgainStep {
    candidates: Option<Vec<Candidate>>,
    /// Artifacts an earlier run signed again already: listed, not signed once more.
    already: Vec<Candidate>,
    looking: bool,
    /// One handle per candidate while they are signed again (empty otherwise).
    resigning: Vec<Progress>,
    reports: Option<Vec<Report>>,
}

impl SignAgainStep {
    /// Looking for the apps or signing them again is under way: the page stays on its key.
    pub(super) fn is_busy(&self) -> bool {
        self.looking || !self.resigning.is_empty()
    }

    /// Applies a result; true when the signing history changed (apps were signed again).
    pub(super) fn apply(&mut self, event: Event, actions: &mut Actions) -> bool {
        match event {
            Event::Looked { to_sign, already } => {
                self.looking = false;
                self.reports = None;
                self.candidates = Some(to_sign);
                self.already = already;
                false
            }
            Event::Resigned(result) => {
                self.resigning.clear();
                actions.push(Action::ReloadKeys);
                actions.push(Action::ReloadHistory);
                match result {
                    Ok(reports) => self.reports = Some(reports),
                    Err(e) => actions.failed(&e),
                }
                true
            }
        }
    }

    pub(super) fn ui(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext, page: &Page, ready: bool) {
        heading(ui, page.steps, ready);
        let Some(new) = page.new else {
            ui.weak("Waits for the new key (step 1).");
            return;
        };
        if !self.resigning.is_empty() {
            self.progress(ui);
            return;
        }
        let Some(Ok(entries)) = page.history else {
            return;
        };
        if ui
            .add_enabled(!self.looking, egui::Button::new("Look for the apps"))
            .disabled_because("Looking for them now.")
            .on_hover_text("Reads each app at the path the history recorded and compares its SHA-256.")
            .clicked()
        {
            self.look(cx, entries, &page.old.record, new);
        }
        if let Some(reports) = &self.reports {
            show_reports(ui, reports);
            return;
        }
        let Some(candidates) = &self.candidates else {
            return;
        };
        self.show_candidates(ui, candidates, &new.record.name);
        let ready_count = candidates.iter().filter(|c| c.found == Found::Unchanged).count();
        let clicked = sign_button(ui, &new.record.name, ready, ready_count);
        // Nothing (more) to sign again: all moved, changed, or signed by an earlier run. That
        // still finishes the step, with the list above.
        if ready
            && ready_count == 0
            && !(candidates.is_empty() && self.already.is_empty())
            && page.steps.resigned.is_none()
            && ui.button("Nothing to sign again: mark as done").clicked()
        {
            self.mark_done(cx, &page.old.record, candidates);
        }
        if clicked {
            self.start_resign(cx, &page.old.record, &new.record.name, candidates.clone());
        }
    }

    /// The progress of signing again, with Cancel.
    fn progress(&self, ui: &mut egui::Ui) {
        let (done, total) = self.resigning.iter().fold((0, 0), |(d, t), p| (d + p.done(), t + p.total()));
        let fraction = if total == 0 { 0.0 } else { done as f32 / total as f32 };
        ui.horizontal(|ui| {
            ui.label("Signing again…");
            ui.add(egui::ProgressBar::new(fraction).desired_width(240.0).show_percentage());
            if ui.button("Cancel").clicked() {
                self.resigning.iter().for_each(Progress::cancel);
            }
        });
    }

    /// Looks, off the UI thread, for what `old` signed, and for what `new` signed again already.
    fn look(&mut self, cx: &mut ViewContext, entries: &[Entry], old: &KeyRecord, new: &KeyRow) {
        self.looking = true;
        let signed: Vec<Entry> = signed_with_old(entries, old).into_iter().cloned().collect();
        let key = Some(old.name.clone());
        let all = entries.to_vec();
        let new_fingerprint = new.record.fingerprint.clone();
        cx.jobs.spawn("looking for the apps", move || {
            let refs: Vec<&Entry> = signed.iter().collect();
            let (to_sign, already) =
                resign::split_already_resigned(resign::candidates(&refs), &all, &new_fingerprint);
            Message::about(key, Event::Looked { to_sign, already })
        });
    }

    /// One line per app found: signed again already by an earlier run, or what is at its path.
    fn show_candidates(&self, ui: &mut egui::Ui, candidates: &[Candidate], new: &str) {
        for c in &self.already {
            candidate_line(ui, &c.entry, Tone::Good, &format!("already signed again with \"{new}\""));
        }
        if candidates.is_empty() && self.already.is_empty() {
            ui.label("The history records no app signed with the old key: nothing to sign again.");
        }
        for c in candidates {
            let (tone, text) = match &c.found {
                Found::Unchanged => (Tone::Good, "there, unchanged: will be signed again".to_owned()),
                Found::Missing => (Tone::Warn, "missing: nothing is at this path any more".to_owned()),
                Found::Changed { sha256 } => (
                    Tone::Warn,
                    format!(
                        "changed: another file is there now (SHA-256 {})",
                        countersign::hex::short(sha256)
                    ),
                ),
                Found::Unreadable(why) => (Tone::Warn, format!("cannot be read: {why}")),
            };
            candidate_line(ui, &c.entry, tone, &text);
        }
    }

    /// Records the step as done though nothing was signed again: each app moved, changed,
    /// or was signed again by an earlier run.
    fn mark_done(&self, cx: &mut ViewContext, old: &KeyRecord, candidates: &[Candidate]) {
        let reports = resign::report(candidates, &[]);
        let mut tally = tally(&reports);
        tally.signed += self.already.len();
        record_step(cx, old, move |s| s.resigned = Some(tally));
    }

    fn start_resign(&mut self, cx: &mut ViewContext, old: &KeyRecord, new: &str, candidates: Vec<Candidate>) {
        self.resigning = candidates.iter().map(|_| Progress::new()).collect();
        let progress = self.resigning.clone();
        let store = cx.store();
        let history = cx.config.history.clone();
        let new = new.to_owned();
        let key_id = old.id.clone();
        let key = Some(old.name.clone());
        cx.jobs.spawn("signing apps again", move || {
            let run = || -> Result<Vec<Report>, Failure> {
                let store = store?;
                let home = store.home().to_path_buf();
                let signer = countersign::signer::Signer::stored(store, &new)?;
                let done = resign::resign(&signer, &candidates, &Ok(history), widgets::now(), &progress);
                let reports = resign::report(&candidates, &done);
                // Done only when nothing was cancelled or failed: otherwise the step stays to
                // do, and looking again lists what is left (what was signed shows as such).
                let tally = tally(&reports);
                if !progress.iter().any(Progress::is_cancelled) && tally.failed == 0 {
                    Replacements::in_home(&home).update(&key_id, move |s| s.resigned = Some(tally))?;
                }
                Ok(reports)
            };
            Message::about(key, Event::Resigned(run()))
        });
    }
}

/// The step's heading and explanation, and what it recorded once done.
fn heading(ui: &mut egui::Ui, steps: &Steps, ready: bool) {
    let state = if steps.resigned.is_some() { State::Done } else { State::waits(ready, 3) };
    step_heading(ui, 4, "Sign again what they have", state);
    ui.label("Every app the old key signed that is still where it was, unchanged, is signed with the new key into a new bundle beside its old one, for the same customer. What moved or changed is listed, never guessed.");
    if let Some(r) = &steps.resigned {
        ui.label(
            RichText::new(format!(
                "Done on {}: {} signed again, {} missing, {} changed, {} failed.",
                countersign::certs::day(r.at),
                r.signed,
                r.missing,
                r.changed,
                r.failed
            ))
            .color(widgets::colour(ui, Tone::Good)),
        );
    }
}

/// "Sign … app(s) again with …", saying why it is disabled; true when pressed.
fn sign_button(ui: &mut egui::Ui, new: &str, ready: bool, ready_count: usize) -> bool {
    let blocked = if !ready {
        Some("Do step 3 first: customers need the new certificate before apps signed with it install.")
    } else if ready_count == 0 {
        Some("No app is where it was and unchanged.")
    } else {
        None
    };
    let label = format!("Sign {ready_count} app(s) again with \"{new}\"");
    widgets::primary(ui, blocked.is_none(), &label, || blocked.unwrap_or_default()).clicked()
}

/// What became of each app signed again, with a warning when some were not.
fn show_reports(ui: &mut egui::Ui, reports: &[Report]) {
    let failed = reports.iter().filter(|r| matches!(r.outcome, Outcome::Failed(_))).count();
    if failed > 0 {
        widgets::banner(
            ui,
            Tone::Warn,
            &format!(
                "{failed} app(s) were not signed again (cancelled, or failed as said below). The step stays to do: press Look for the apps to sign what is left."
            ),
        );
    }
    for r in reports {
        let (tone, text) = match &r.outcome {
            Outcome::Signed { bundle } => (Tone::Good, format!("signed again into {}", bundle.display())),
            other => (Tone::Warn, format!("not signed ({}): {}", other.state(), other.detail())),
        };
        candidate_line(ui, &r.entry, tone, &text);
    }
}

/// The counts step 4 keeps, from what became of each candidate.
fn tally(reports: &[Report]) -> Resigned {
    let count = |f: fn(&Outcome) -> bool| reports.iter().filter(|r| f(&r.outcome)).count();
    Resigned {
        at: rotation::now(),
        signed: count(|o| matches!(o, Outcome::Signed { .. })),
        missing: count(|o| matches!(o, Outcome::Missing)),
        changed: count(|o| matches!(o, Outcome::Changed { .. } | Outcome::Unreadable(_))),
        failed: count(|o| matches!(o, Outcome::Failed(_))),
    }
}

/// One app: its file and note, and what was found or done, in `tone`; its path and SHA-256
/// on hover.
fn candidate_line(ui: &mut egui::Ui, e: &Entry, tone: Tone, text: &str) {
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new(&e.file).strong());
        if let Some(note) = &e.note {
            ui.label(format!("({note})"));
        }
        ui.label(RichText::new(text).color(widgets::colour(ui, tone)));
    })
    .response
    .on_hover_text(format!("{}\nSHA-256 {}", e.artifact_path, e.sha256));
}
