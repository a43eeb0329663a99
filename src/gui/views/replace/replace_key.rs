//! Step 1 of the "Replace a key" page, "Replace the key": a new key named here, with a
//! certificate of the old key's subject, and the old key retired or marked compromised, once
//! the person confirmed it.

use eframe::egui;

use super::Message;
use super::shared::{State, step_heading};
use crate::gui::KeyRow;
use crate::gui::actions::{Action, Actions};
use crate::gui::context::ViewContext;
use crate::gui::failure::Failure;
use crate::gui::widgets::{self, Tone};
use countersign::keystore::{KeyRecord, ReplaceReason, Replaced};

/// Results of step 1's jobs.
#[derive(Debug)]
pub(super) enum Event {
    Replaced(Result<Box<Replaced>, Failure>),
}

/// What the person chose for the replacement, until it is made.
#[derive(Default)]
pub(super) struct ReplaceKeyStep {
    new_name: String,
    reason: Option<ReplaceReason>,
    /// Replace was pressed: the question to confirm it is shown.
    confirm: bool,
}

impl ReplaceKeyStep {
    pub(super) fn apply(&mut self, event: Event, actions: &mut Actions) {
        let Event::Replaced(result) = event;
        actions.push(Action::ReloadKeys);
        match result {
            Ok(r) => {
                self.confirm = false;
                actions.success(format!(
                    "Made key \"{}\" with a certificate for {}; key \"{}\" is {}. Next: step 2 below, who must hear about it.",
                    r.new.name,
                    r.certificate.subject(),
                    r.old.name,
                    match r.old.status.replaced() {
                        Some((ReplaceReason::Compromised, ..)) => "marked compromised and signs nothing more",
                        _ => "retired: signing with it warns",
                    }
                ));
            }
            Err(e) => actions.failed(&e),
        }
    }

    pub(super) fn ui(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext, old: &KeyRow) {
        let record = &old.record;
        if let Some((reason, since, by)) = record.status.replaced() {
            step_heading(ui, 1, "Replace the key", State::Done);
            ui.label(format!(
                "\"{}\" was {} on {}; \"{by}\" replaces it, with a certificate of the same subject.",
                record.name,
                reason.marked(),
                countersign::certs::day(since)
            ));
            return;
        }
        step_heading(ui, 1, "Replace the key", State::ToDo);
        ui.label("A new Ed25519 key, in the keychain, with a self-signed certificate of this key's subject.");
        self.choices(ui, record);
        let new = self.new_name.trim().to_owned();
        let why = self.blocker(cx, &new);
        let label = format!("Replace \"{}\"…", record.name);
        if widgets::primary(ui, why.is_none() && !self.confirm, &label, || {
            why.clone().unwrap_or_else(|| "Confirm below.".to_owned())
        })
        .clicked()
        {
            self.confirm = true;
        }
        let Some(reason) = self.reason.filter(|_| self.confirm && why.is_none()) else {
            return;
        };
        self.confirmation(ui, cx, &record.name, new, reason);
    }

    /// The new key's name (the old one's with "-2" until changed) and why the old one goes.
    fn choices(&mut self, ui: &mut egui::Ui, record: &KeyRecord) {
        if self.new_name.is_empty() {
            self.new_name = format!("{}-2", record.name);
        }
        widgets::field(ui, "Name for the new key", &mut self.new_name, "acme-2");
        let mut reason = self.reason;
        ui.radio_value(
            &mut reason,
            Some(ReplaceReason::Planned),
            "Planned: this key is retired, and signing with it warns",
        );
        ui.radio_value(
            &mut reason,
            Some(ReplaceReason::Compromised),
            "Compromised: this key may have leaked, and Countersign signs nothing more with it",
        );
        if reason != self.reason {
            // A confirmation was for the other reason.
            self.reason = reason;
            self.confirm = false;
        }
    }

    /// What keeps Replace from being pressed, if anything (`new`: the new key's name).
    fn blocker(&self, cx: &ViewContext, new: &str) -> Option<String> {
        if new.is_empty() {
            Some("Name the new key first.".to_owned())
        } else if let Some(taken) = cx.name_taken(new) {
            Some(taken)
        } else if self.reason.is_none() {
            Some("Say why the key is replaced first: planned, or compromised.".to_owned())
        } else {
            None
        }
    }

    /// Asks to confirm replacing key `name` with a new key `new`, and replaces it once it is.
    fn confirmation(
        &mut self,
        ui: &mut egui::Ui,
        cx: &mut ViewContext,
        name: &str,
        new: String,
        reason: ReplaceReason,
    ) {
        widgets::banner(
            ui,
            Tone::Warn,
            &format!(
                "Replace \"{name}\" with a new key \"{new}\", and {}? Customers must add the new certificate to UPM's trust store before apps signed with \"{new}\" install; UPM has no revocation, so a leaked key stays trusted until each customer removes its certificate (step 3).",
                match reason {
                    ReplaceReason::Planned => format!("retire \"{name}\" (signing with it will warn)"),
                    ReplaceReason::Compromised =>
                        format!("mark \"{name}\" compromised (it will sign nothing more)"),
                }
            ),
        );
        ui.horizontal(|ui| {
            if ui.button("Replace now").clicked() {
                self.confirm = false;
                let store = cx.store();
                let old = name.to_owned();
                cx.jobs.spawn("replacing a key", move || {
                    let replaced =
                        store.and_then(|s| Ok(Box::new(s.replace(&old, &new, reason, widgets::now())?)));
                    Message::about(None, Event::Replaced(replaced))
                });
            }
            if ui.button("Cancel").clicked() {
                self.confirm = false;
            }
        });
    }
}
