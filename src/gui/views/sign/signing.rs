//! Signing in the Sign view: the Sign and Clear finished buttons, the question about earlier
//! bundles the files would land on, and the batch that signs every waiting file at once.

use eframe::egui;

use super::queue::State;
use super::{Done, Message, SignView};
use crate::gui::context::ViewContext;
use crate::gui::failure::Failure;
use crate::gui::widgets::{self, DisabledBecause as _, Tone};
use countersign::batch::{Existing, Layout};
use countersign::progress::Progress;
use countersign::signer::{self, SignOptions, Signer};

impl SignView {
    /// Draws the Sign and Clear finished buttons (`blocker`: what keeps the key or the
    /// output folder from signing; `said_above`: the view shows it already).
    pub(super) fn sign_buttons(
        &mut self,
        ui: &mut egui::Ui,
        cx: &mut ViewContext,
        blocker: Option<&str>,
        said_above: bool,
    ) {
        let waiting = self.waiting();
        ui.horizontal(|ui| {
            let can_sign = blocker.is_none() && waiting > 0 && !self.running && self.earlier.is_empty();
            let label = match waiting {
                0 => "Sign files".to_owned(),
                1 => "Sign 1 file".to_owned(),
                n => format!("Sign {n} files"),
            };
            let why = || match blocker {
                Some(b) => b.to_owned(),
                None if self.running => "Signing is under way.".to_owned(),
                None if !self.earlier.is_empty() => {
                    "Answer the question about the earlier bundle first.".to_owned()
                }
                None => "Add a .jar or .obr to sign first.".to_owned(),
            };
            // A blocker on screen already, in a banner above (or, without a keychain, in the
            // window's own banner), would be said twice beside the button.
            let sign =
                widgets::primary_saying(ui, can_sign, &label, why, !said_above).on_hover_text("Ctrl+Enter");
            if sign.clicked() {
                self.sign_waiting(cx);
            }
            let finished = self.items.iter().any(|i| matches!(i.state, State::Done(_) | State::Failed(_)));
            if ui
                .add_enabled(finished, egui::Button::new("Clear finished"))
                .disabled_because("No signing has finished yet.")
                .clicked()
            {
                self.items.retain(|i| !matches!(i.state, State::Done(_) | State::Failed(_)));
            }
        });
    }

    /// Signs what waits, unless earlier bundles of the same names need an answer first.
    pub(super) fn sign_waiting(&mut self, cx: &mut ViewContext) {
        for item in self.items.iter_mut().filter(|i| matches!(i.state, State::Cancelled)) {
            item.state = State::Waiting;
        }
        self.ask_or_start(cx);
    }

    /// Signs the files waiting, unless some would land on an earlier bundle and the person
    /// has not said yet whether to replace it or keep both.
    pub(super) fn ask_or_start(&mut self, cx: &mut ViewContext) {
        if self.existing.is_none() {
            let base = self.settings.out_dir.path();
            self.earlier = self
                .items
                .iter()
                .filter(|i| matches!(i.state, State::Waiting))
                .filter_map(|i| countersign::batch::earlier_bundle(&i.path, base.as_deref()))
                .collect();
            if !self.earlier.is_empty() {
                return;
            }
        }
        self.queue_active = true;
        self.start_batch(cx);
    }

    /// Asks whether to replace earlier bundles or keep both, once Sign found some.
    pub(super) fn earlier_question(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext) {
        if self.earlier.is_empty() {
            return;
        }
        let names: Vec<String> = self.earlier.iter().map(|d| d.display().to_string()).collect();
        widgets::banner(
            ui,
            Tone::Warn,
            &format!(
                "Signed before: {}. Replace the earlier bundle, or keep both (the new one gets a numbered folder beside it)?",
                names.join(", ")
            ),
        );
        ui.horizontal(|ui| {
            let mut answer = None;
            if ui.button("Replace earlier bundle").clicked() {
                answer = Some(Existing::Replace);
            }
            if ui.button("Keep both").clicked() {
                answer = Some(Existing::NextFree);
            }
            if ui.button("Don't sign").clicked() {
                self.earlier.clear();
            }
            if let Some(existing) = answer {
                self.earlier.clear();
                self.existing = Some(existing);
                self.sign_waiting(cx);
            }
        });
    }

    /// Signs every waiting file at once, if the queue is on and no batch is running.
    fn start_batch(&mut self, cx: &mut ViewContext) {
        if self.running || !self.queue_active {
            return;
        }
        let Some(key_name) = self.settings.key.clone() else { return };
        let mut ids = Vec::new();
        let mut paths = Vec::new();
        let mut progress = Vec::new();
        for item in self.items.iter_mut().filter(|i| matches!(i.state, State::Waiting)) {
            let p = Progress::new();
            item.state = State::Signing(p.clone());
            ids.push(item.id);
            paths.push(item.path.clone());
            progress.push(p);
        }
        if ids.is_empty() {
            self.queue_active = false;
            return;
        }
        self.running = true;
        let base = self.settings.out_dir.path();
        let existing = self.existing.unwrap_or(Existing::NextFree);
        let note = Some(self.settings.note.trim().to_owned()).filter(|n| !n.is_empty());
        let zip = self.settings.zip;
        let store = cx.store();
        let history = cx.config.history.clone();
        cx.jobs.spawn_with_updates("signing", move |updates| {
            let signer = match store.and_then(|s| Ok(Signer::stored(s, &key_name)?)) {
                Ok(signer) => signer,
                Err(error) => {
                    updates.send(Message::KeyUnusable { ids, error });
                    return Message::BatchFinished;
                }
            };
            // Each file gets a folder of its own holding the app and its bundle: the folder is
            // what the customer receives, and files of one name never collide.
            let options =
                SignOptions { layout: Layout::FolderEach(base), note, zip, existing, now: widgets::now() };
            signer::sign(&signer, &paths, options, &Ok(history), &progress, |i, result| {
                let done = result.map_err(|e| Failure::BatchItem(crate::gui::failure::batch_item(e))).map(
                    |(signed, warnings)| Done {
                        bundle_dir: signed.dir.clone(),
                        files: signed.files.clone(),
                        signature: signed.signature_base64.clone(),
                        warnings: warnings.to_vec(),
                    },
                );
                updates.send(Message::Signed {
                    id: ids[i],
                    result: done,
                    cancelled: progress[i].is_cancelled(),
                });
            });
            Message::BatchFinished
        });
    }
}
