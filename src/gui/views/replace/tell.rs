//! Step 2 of the "Replace a key" page, "Who must hear about this": the customers who got
//! apps signed with the old key (by the note given when signing), exportable as CSV, and
//! the person's word that they were told.

use std::path::PathBuf;

use eframe::egui::{self, RichText};

use super::Message;
use super::shared::{Page, State, record_step, signed_with_old, step_heading};
use crate::gui::actions::Actions;
use crate::gui::context::ViewContext;
use crate::gui::desktop::DialogAnswer;
use crate::gui::failure::Failure;
use crate::gui::widgets::{self, PathField, Tone};
use countersign::history::{self, Entry, NoteGroup};
use countersign::keystore::KeyRecord;
use countersign::rotation::{self, Told};

/// The step's path fields, as `Event::PathChosen` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PathFor {
    /// Where the list of customers is exported.
    Csv,
}

/// Results of step 2's jobs.
#[derive(Debug)]
pub(super) enum Event {
    /// The customer list was exported there (`None`: the dialog was cancelled).
    Exported(Result<Option<PathBuf>, Failure>),
    /// A file dialog's answer for the step's path field.
    PathChosen(PathFor, DialogAnswer),
}

/// Where the customer list goes, and where it went.
#[derive(Default)]
pub(super) struct TellStep {
    csv: PathField,
    /// Where the list was exported last, recorded with the step once it is done.
    exported: Option<PathBuf>,
}

impl TellStep {
    pub(super) fn apply(&mut self, event: Event, actions: &mut Actions) {
        match event {
            Event::Exported(result) => match result {
                Ok(Some(path)) => {
                    actions.success(format!("Exported the list to {}.", path.display()));
                    self.exported = Some(path);
                }
                Ok(None) => {}
                Err(Failure::NoDialog(e)) => self.csv.no_dialog(&e),
                Err(e) => actions.failed(&e),
            },
            Event::PathChosen(PathFor::Csv, answer) => self.csv.chosen(answer),
        }
    }

    pub(super) fn ui(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext, page: &Page, ready: bool) {
        let state = if page.steps.told.is_some() { State::Done } else { State::waits(ready, 1) };
        step_heading(ui, 2, "Who must hear about this", state);
        let entries = match page.history {
            None => {
                ui.add(egui::Spinner::new());
                return;
            }
            Some(Err(e)) => {
                widgets::banner(ui, Tone::Bad, e);
                return;
            }
            Some(Ok(entries)) => entries,
        };
        let old = &page.old.record;
        let signed = signed_with_old(entries, old);
        let groups = history::by_note(&signed);
        if signed.is_empty() {
            ui.label(format!(
                "The history records no signing with \"{}\": no customer got an app signed with it here.",
                old.name
            ));
        } else {
            signings_by_customer(ui, old, &signed, &groups);
            self.export(ui, cx, old, &signed);
        }
        if let Some(told) = &page.steps.told {
            told_note(ui, told);
            return;
        }
        let label = if signed.is_empty() { "Nobody to tell: mark as done" } else { "I have told them" };
        // The page's primary action is the next step's: at most one of them is enabled.
        if widgets::primary(ui, ready, label, || "Replace the key first (step 1).").clicked() {
            let told = Told {
                at: rotation::now(),
                customers: groups.len(),
                signings: signed.len(),
                exported: self.exported.clone(),
            };
            record_step(cx, old, move |s| s.told = Some(told));
        }
    }

    /// The CSV file field, and Export CSV… writing the old key's signings there.
    fn export(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext, old: &KeyRecord, signed: &[&Entry]) {
        let events = self.csv.ui(ui, "Customer list (CSV)", "empty: choose in a dialog", "Choose CSV file…");
        self.csv.warn_if_taken(ui);
        let suggested = format!("{}-signings.csv", old.file_stem());
        let key = Some(old.name.clone());
        if events.browse {
            let dialogs = cx.dialogs();
            let suggested = suggested.clone();
            let key = key.clone();
            cx.jobs.spawn("choosing a file", move || {
                Message::about(
                    key,
                    Event::PathChosen(
                        PathFor::Csv,
                        dialogs.save("Export who got apps signed with the key", &suggested),
                    ),
                )
            });
        }
        if ui.button("Export CSV…").clicked() {
            let dialogs = cx.dialogs();
            let typed = self.csv.path();
            let rows: Vec<Entry> = signed.iter().map(|e| (*e).clone()).collect();
            cx.jobs.spawn("exporting the history", move || {
                let export = || -> Result<Option<PathBuf>, Failure> {
                    let Some((path, replace)) =
                        dialogs.save_target(typed, "Export who got apps signed with the key", &suggested)?
                    else {
                        return Ok(None);
                    };
                    history::export_csv(&rows, &path, replace)?;
                    Ok(Some(path))
                };
                Message::about(key, Event::Exported(export()))
            });
        }
    }
}

/// The old key's signings, under the customer (the note) each was for.
fn signings_by_customer(ui: &mut egui::Ui, old: &KeyRecord, signed: &[&Entry], groups: &[NoteGroup]) {
    ui.label(format!(
        "{} signing(s) with \"{}\", for {} customer(s) (by the note given when signing):",
        signed.len(),
        old.name,
        groups.len()
    ));
    for g in groups {
        ui.label(RichText::new(g.note.as_deref().unwrap_or("(no note)")).strong());
        for e in &g.entries {
            ui.label(
                RichText::new(format!(
                    "{} {} · {} · SHA-256 {} · {}",
                    e.file,
                    e.version.as_deref().unwrap_or(""),
                    widgets::when(&e.time),
                    countersign::hex::short(&e.sha256),
                    e.bundle_dir
                ))
                .small(),
            );
        }
    }
}

/// When the step was done, and what it recorded.
fn told_note(ui: &mut egui::Ui, told: &Told) {
    ui.label(
        RichText::new(format!(
            "Done on {}: {} customer(s), {} signing(s){}.",
            countersign::certs::day(told.at),
            told.customers,
            told.signings,
            told.exported.as_ref().map(|p| format!(", exported to {}", p.display())).unwrap_or_default()
        ))
        .color(widgets::colour(ui, Tone::Good)),
    );
}
