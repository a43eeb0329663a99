//! The Sign view's settings for the whole queue: the signing key, the note, the output folder
//! (checked as it is typed, with Create folder) and the zip; and what keeps the chosen key or
//! folder from signing, or is worth a warning.

use eframe::egui::{self, RichText};

use super::Message;
use crate::gui::KeyRow;
use crate::gui::context::ViewContext;
use crate::gui::desktop::DialogAnswer;
use crate::gui::widgets::{self, PathField, Tone};
use countersign::certs::ValidityState;
use countersign::keys::Algorithm;
use countersign::signer;

/// What every file of the queue is signed with and where its bundle goes.
#[derive(Default)]
pub(super) struct Settings {
    /// The key to sign with (a stored key's name).
    pub(super) key: Option<String>,
    pub(super) note: String,
    pub(super) out_dir: PathField,
    /// What the output folder field names, looked up when it changes.
    pub(super) out_state: OutFolder,
    pub(super) zip: bool,
}

/// The output folder as typed: checked as it is typed, so that a missing one is said before
/// anything is signed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) enum OutFolder {
    /// Nothing typed: each bundle goes next to its file.
    #[default]
    Beside,
    Exists,
    Missing,
    NotAFolder,
}

impl OutFolder {
    pub(super) fn of(path: Option<&std::path::Path>) -> Self {
        match path {
            None => OutFolder::Beside,
            Some(p) if p.is_dir() => OutFolder::Exists,
            Some(p) if p.exists() => OutFolder::NotAFolder,
            Some(_) => OutFolder::Missing,
        }
    }
}

/// The view's path fields, as `Message::PathChosen` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathFor {
    /// Where bundles go.
    OutputFolder,
}

impl Settings {
    fn path_field(&mut self, which: PathFor) -> &mut PathField {
        match which {
            PathFor::OutputFolder => &mut self.out_dir,
        }
    }

    /// After the key list changed: keep the chosen key if it still exists, else take the
    /// one used most recently (or the newest).
    pub(super) fn keys_changed(&mut self, rows: &[KeyRow]) {
        if self.key.as_ref().is_some_and(|k| rows.iter().any(|r| &r.record.name == k)) {
            return;
        }
        // Never a key marked compromised of its own accord: it would only be refused.
        let signable = || rows.iter().filter(|r| signer::standing(&r.record).is_ok());
        let last_used = signable()
            .filter(|r| r.record.last_used.is_some())
            .max_by(|a, b| a.record.last_used.cmp(&b.record.last_used));
        let newest = signable().max_by(|a, b| a.record.created.cmp(&b.record.created));
        self.key = last_used.or(newest).map(|r| r.record.name.clone());
    }

    /// The output folder chosen in a dialog (or why none could be shown).
    pub(super) fn path_chosen(&mut self, which: PathFor, answer: DialogAnswer) {
        self.path_field(which).chosen(answer);
        self.out_state = OutFolder::of(self.out_dir.path().as_deref());
    }

    /// What the output folder keeps from signing, if anything.
    pub(super) fn folder_blocker(&self) -> Option<String> {
        match self.out_state {
            OutFolder::Missing => {
                Some("The output folder does not exist yet: press Create folder, or choose another.".into())
            }
            OutFolder::NotAFolder => {
                Some("The output folder is a file, not a folder: choose a folder.".into())
            }
            OutFolder::Beside | OutFolder::Exists => None,
        }
    }

    /// Draws the settings for the whole queue: the signing key, note, output folder and zip.
    pub(super) fn ui(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext) {
        egui::Grid::new("sign-settings").num_columns(2).spacing([12.0, 6.0]).show(ui, |ui| {
            let l = ui.label("Signing key");
            self.key_picker(ui, cx.keys).labelled_by(l.id);
            ui.end_row();
            let l = ui.label("Note");
            ui.add(
                egui::TextEdit::singleline(&mut self.note)
                    .hint_text("for customer / ticket")
                    .desired_width(360.0),
            )
            .labelled_by(l.id);
            ui.end_row();
            let l = ui.label("Output folder");
            ui.vertical(|ui| {
                let events =
                    self.out_dir.ui_labelled_by(ui, l.id, "next to each file", "Choose output folder…");
                if events.changed {
                    self.out_state = OutFolder::of(self.out_dir.path().as_deref());
                }
                if events.browse {
                    let dialogs = cx.dialogs();
                    cx.jobs.spawn("choosing a folder", move || {
                        Message::PathChosen(PathFor::OutputFolder, dialogs.folder("Where should bundles go?"))
                    });
                }
                self.out_folder_state(ui, cx);
            });
            ui.end_row();
            ui.label("");
            ui.checkbox(&mut self.zip, "Also pack each bundle as one .zip");
            ui.end_row();
        });
    }

    /// The list of keys, each with its algorithm, its certificate's state and whether it was
    /// replaced.
    fn key_picker(&mut self, ui: &mut egui::Ui, rows: &[KeyRow]) -> egui::Response {
        let chosen = self.key.clone();
        egui::ComboBox::from_id_salt("signing-key")
            .selected_text(chosen.unwrap_or_else(|| "no key yet".into()))
            .width(320.0)
            .show_ui(ui, |ui| {
                for r in rows {
                    let (_, state) = widgets::validity(r.certificate_state(widgets::now()));
                    ui.selectable_value(
                        &mut self.key,
                        Some(r.record.name.clone()),
                        match r.record.status.replaced() {
                            None => format!("{} ({}, {state})", r.record.name, r.record.algorithm),
                            Some((reason, ..)) => format!(
                                "{} ({}, {state}, {})",
                                r.record.name,
                                r.record.algorithm,
                                reason.marked()
                            ),
                        },
                    );
                }
            })
            .response
    }

    /// Says what is wrong with the typed output folder, with Create folder where it is missing.
    fn out_folder_state(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext) {
        let Some(dir) = self.out_dir.path() else { return };
        match self.out_state {
            OutFolder::Missing => {
                ui.horizontal(|ui| {
                    ui.label(
                        RichText::new("This folder does not exist yet.")
                            .color(widgets::colour(ui, Tone::Warn)),
                    );
                    if ui.button("Create folder").clicked() {
                        cx.jobs.spawn("creating a folder", move || {
                            Message::OutputFolderMade(std::fs::create_dir_all(&dir).map_err(|e| {
                                format!(
                                    "The folder {} could not be made: {e}. Choose another.",
                                    dir.display()
                                )
                            }))
                        });
                    }
                });
            }
            OutFolder::NotAFolder => {
                ui.label(
                    RichText::new("This is a file, not a folder.").color(widgets::colour(ui, Tone::Bad)),
                );
            }
            OutFolder::Beside | OutFolder::Exists => {}
        }
    }
}

/// Draws the warnings about the signing key, then what keeps it from signing (returned too).
pub(super) fn key_banners(ui: &mut egui::Ui, row: Option<&KeyRow>, keys_failed: bool) -> Option<String> {
    let (blocker, warnings) = key_notes(row, keys_failed);
    for w in &warnings {
        widgets::banner(ui, Tone::Warn, w);
    }
    // Without a keychain the window's banner above every view says it already.
    if let Some(b) = &blocker
        && !keys_failed
    {
        widgets::banner(ui, Tone::Bad, b);
    }
    blocker
}

/// What stands in the way of signing with the chosen key, and what to warn about.
fn key_notes(row: Option<&KeyRow>, keys_failed: bool) -> (Option<String>, Vec<String>) {
    let Some(row) = row else {
        let why = if keys_failed {
            "Signing needs a key from the system keychain, which cannot be reached now."
        } else {
            "Choose a key to sign with, or make one in the Keys view."
        };
        return (Some(why.into()), vec![]);
    };
    let name = &row.record.name;
    if let Some(problem) = row.keychain.problem() {
        return (
            Some(format!(
                "Key \"{name}\" cannot sign: {problem}. Restore it from a backup in the Keys view."
            )),
            vec![],
        );
    }
    // Refused by the core too (`Signer::stored`); said here before Sign is pressed.
    let mut warnings = match signer::standing(&row.record) {
        Err(refusal) => return (Some(refusal.to_string()), vec![]),
        Ok(retired) => retired.into_iter().collect::<Vec<_>>(),
    };
    if !row.record.algorithm.upm_accepts() {
        warnings.push(Algorithm::UPM_WARNING.to_owned());
    }
    match row.certificate_state(widgets::now()) {
        None => warnings.push(format!(
            "Key \"{name}\" has no certificate, so the bundle will have none and the customer cannot add you to UPM's trust store. Make one in the Certificates view."
        )),
        Some(ValidityState::ExpiringSoon { days_left }) => warnings.push(format!(
            "The certificate of \"{name}\" expires in {days_left} days. After that UPM refuses apps signed under it: renew it in the Certificates view and send customers the new one."
        )),
        Some(s @ (ValidityState::Expired { .. } | ValidityState::NotYetValid { .. })) => {
            return (
                Some(format!("The certificate of \"{name}\" is {s}; UPM refuses installs under it, so Countersign does not sign with it. Renew it in the Certificates view (same key), then sign.")),
                warnings,
            );
        }
        Some(ValidityState::Valid { .. }) => {}
    }
    (None, warnings)
}
