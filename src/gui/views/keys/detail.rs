//! The Keys view's detail panel: the chosen key's facts, its certificate and keychain state,
//! copy, rename, backup, delete, and where its replacement stands.

use super::*;

impl KeysView {
    /// A rename came back: what was typed for the key stays with it under its new name.
    pub(super) fn renamed(&mut self, result: Result<KeyRecord, Failure>, actions: &mut Actions) {
        actions.push(Action::ReloadKeys);
        match result {
            Ok(r) => {
                actions.success(format!("Renamed the key to \"{}\".", r.name));
                // The same key under its new name: what was typed for it stays.
                self.details_for = Some(r.name.clone());
                actions.push(Action::SelectKey(r.name));
                self.rename_to.clear();
            }
            Err(e) => actions.failed(&e),
        }
    }

    /// A backup was written (`None`: the save dialog was cancelled), or why not.
    pub(super) fn backed_up(
        &mut self,
        result: Result<Option<(PathBuf, BackupWritten)>, Failure>,
        actions: &mut Actions,
    ) {
        match result {
            Ok(Some((path, written))) => {
                self.backup_passphrase.clear();
                self.backup_repeat.clear();
                self.backup_path.clear();
                actions.push(Action::ReloadKeys);
                let chain = match written.certificates {
                    0 => " It holds the key only: the key has no certificate yet.".to_owned(),
                    n => format!(" It holds the key and its certificate chain ({n} certificate(s))."),
                };
                match written.not_recorded {
                    None => actions.success(format!(
                        "Backup written to {}.{chain} Keep the passphrase somewhere else.",
                        path.display()
                    )),
                    Some(e) => actions.failure(format!(
                        "Backup written to {}.{chain} Its date could not be noted with the key: {e}",
                        path.display()
                    )),
                }
            }
            Ok(None) => {}
            // The passphrases stay: only the path has to be typed.
            Err(Failure::NoDialog(e)) => self.backup_path.no_dialog(&e),
            Err(e) => actions.failed(&e),
        }
    }

    pub(super) fn deleted(&mut self, result: Result<KeyRecord, Failure>, actions: &mut Actions) {
        actions.push(Action::ReloadKeys);
        match result {
            Ok(r) => actions.success(format!(
                "Deleted key \"{}\" (public key SHA-256 {}) from the keychain and the list.",
                r.name, r.fingerprint
            )),
            Err(e) => actions.failed(&e),
        }
    }

    /// The detail panel of the key `row`: its facts, then what can be done to it.
    pub(super) fn selected_key(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext, row: &KeyRow) {
        let name = row.record.name.clone();
        if self.details_for.as_deref() != Some(name.as_str()) {
            // Another key is shown: what was typed for the last one is not for this one.
            self.rename_to.clear();
            self.backup_passphrase.clear();
            self.backup_repeat.clear();
            self.backup_path.clear();
            self.details_for = Some(name.clone());
        }
        pane_heading(ui, &format!("Key \"{name}\""));
        facts(ui, cx, row);
        ui.add_space(6.0);
        public_key(ui, cx, row);
        self.rename_section(ui, cx, &name);
        self.backup_section(ui, cx, row);
        self.replace_section(ui, cx, row);
        section(ui, "Delete the key");
        ui.horizontal_wrapped(|ui| {
            let delete = egui::Button::new(RichText::new("Delete…").color(widgets::colour(ui, Tone::Bad)));
            if ui.add(delete).clicked() {
                self.confirm_delete = Some(name.clone());
            }
            ui.weak("Removes the key from the keychain; asks first.");
        });
    }

    /// Draws "Rename the key": the new name and its button (Enter in the field too).
    fn rename_section(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext, name: &str) {
        section(ui, "Rename the key");
        let (rename, new) = ui
            .horizontal(|ui| {
                let l = ui.label("New name");
                let width = (ui.available_width() - 90.0).clamp(120.0, 240.0);
                let field = ui
                    .add(egui::TextEdit::singleline(&mut self.rename_to).desired_width(width))
                    .labelled_by(l.id);
                let new = self.rename_to.trim().to_owned();
                let why = if new.is_empty() || new == name {
                    Some("Type the new name first.".to_owned())
                } else {
                    cx.name_taken(&new)
                };
                let entered = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                let button = ui.add_enabled(why.is_none(), egui::Button::new("Rename"));
                let button = match &why {
                    Some(why) => button.disabled_because(why),
                    None => button,
                };
                (why.is_none() && (button.clicked() || entered), new)
            })
            .inner;
        if rename {
            let store = cx.store();
            let old = name.to_owned();
            cx.jobs.spawn("renaming a key", move || {
                Message::Renamed(store.and_then(|s| Ok(s.rename(&old, &new)?)))
            });
        }
    }

    /// Draws "Back up": the passphrase twice, where the file goes, and Save backup.
    fn backup_section(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext, row: &KeyRow) {
        section(ui, "Back up");
        ui.label("A backup is the key encrypted with a passphrase (PKCS#8, AES-256); OpenSSL and Countersign can open it. Keep it and the passphrase apart.");
        let first = secret_field(ui, "Backup passphrase", &mut self.backup_passphrase);
        let repeat = secret_field(ui, "Repeat passphrase", &mut self.backup_repeat);
        let problem = if first.overflowed || repeat.overflowed {
            Some(format!("A passphrase can hold at most {} bytes.", SecretText::CAPACITY))
        } else if self.backup_passphrase.char_count() < MIN_PASSPHRASE_CHARS {
            Some(format!("Use a passphrase of at least {MIN_PASSPHRASE_CHARS} characters."))
        } else if self.backup_passphrase != self.backup_repeat {
            Some("The two passphrases differ.".to_owned())
        } else {
            None
        };
        let submitted = (first.submitted || repeat.submitted) && problem.is_none();
        let suggested = format!("{}-backup.pem", row.record.file_stem());
        let events = self.backup_path.ui(
            ui,
            "Backup file",
            "empty: choose in a dialog when saving",
            "Choose where to save…",
        );
        if events.browse {
            let dialogs = cx.dialogs();
            let suggested = suggested.clone();
            cx.jobs.spawn("choosing a file", move || {
                Message::PathChosen(PathFor::Backup, dialogs.save("Save the encrypted backup", &suggested))
            });
        }
        let save = ui
            .horizontal(|ui| {
                widgets::primary(ui, problem.is_none(), "Save backup…", || {
                    problem.clone().unwrap_or_default()
                })
                .clicked()
            })
            .inner;
        if save || submitted {
            self.back_up(cx, &row.record.name, suggested);
        }
    }

    /// Starts the job that asks where the backup goes (unless typed) and writes it.
    fn back_up(&self, cx: &mut ViewContext, name: &str, suggested: String) {
        // The job gets its own copy (wiped when it ends); the fields keep theirs until
        // the backup is written, so that a cancelled dialog does not cost the typing.
        let passphrase = self.backup_passphrase.to_zeroizing();
        let store = cx.store();
        let dialogs = cx.dialogs();
        let key_name = name.to_owned();
        let typed = self.backup_path.path();
        cx.jobs.spawn("backing up a key", move || {
            let back_up = || -> Result<Option<(PathBuf, BackupWritten)>, Failure> {
                let Some((path, replace)) =
                    dialogs.save_target(typed, "Save the encrypted backup", &suggested)?
                else {
                    return Ok(None);
                };
                let written = store?.backup(&key_name, &passphrase, &path, replace)?;
                Ok(Some((path, written)))
            };
            Message::BackedUp(back_up())
        });
    }

    /// Draws "Replace the key": the way into the "Replace a key" page, or how far the
    /// replacement of this key got.
    pub(super) fn replace_section(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext, row: &KeyRow) {
        let record = &row.record;
        section(ui, "Replace the key");
        let button = match record.status.replaced() {
            None => {
                ui.label("When a key leaves with a person, nears its end, or may have leaked: a new key takes its place, customers are told and sent a kit, and their apps are signed again. Four steps, on one page.");
                "Replace this key…"
            }
            Some((reason, since, by)) => {
                let done = row.steps.as_ref().map(|s| s.done_count(record)).unwrap_or(1);
                ui.label(format!(
                    "{} on {}, replaced by \"{by}\": {done} of 4 steps done.",
                    match reason {
                        ReplaceReason::Planned => "Retired",
                        ReplaceReason::Compromised => "Marked compromised",
                    },
                    countersign::certs::day(since)
                ));
                if done < 4 { "Continue the replacement…" } else { "Review the replacement…" }
            }
        };
        let has_certificate = !record.certificates.is_empty() || record.status.replaced().is_some();
        if ui
            .add_enabled(has_certificate, egui::Button::new(button))
            .disabled_because("This key has no certificate to take the subject from: give it one first.")
            .clicked()
        {
            cx.actions.push(Action::ReplaceKey(record.name.clone()));
        }
    }

    pub(super) fn confirm_delete(&mut self, ctx: &egui::Context, cx: &mut ViewContext) {
        let Some(name) = self.confirm_delete.clone() else { return };
        let Some(row) = cx.key(&name).cloned() else {
            self.confirm_delete = None;
            return;
        };
        let modal = egui::Modal::new(egui::Id::unique("countersign-confirm-delete")).show(ctx, |ui| {
            ui.set_max_width(460.0);
            ui.label(RichText::new(format!("Delete key \"{name}\"?")).strong().size(16.0));
            ui.label(format!("{}, public key SHA-256 {}", row.record.algorithm, row.record.fingerprint));
            ui.label(
                "Signatures made with it stay valid, but nobody can sign with it again unless you have a backup.",
            );
            ui.add_space(8.0);
            ui.horizontal(|ui| {
                let keep = ui.button("Keep it").clicked();
                let delete = ui
                    .button(RichText::new(format!("Delete \"{name}\"")).color(widgets::colour(ui, Tone::Bad)))
                    .clicked();
                (keep, delete)
            })
            .inner
        });
        let (keep, delete) = modal.inner;
        if keep || modal.should_close() {
            self.confirm_delete = None;
        }
        if delete {
            self.confirm_delete = None;
            let store = cx.store();
            cx.jobs
                .spawn("deleting a key", move || Message::Deleted(store.and_then(|s| Ok(s.delete(&name)?))));
        }
    }
}

/// The key's facts in a grid (algorithm, dates, certificate and keychain state), and a banner
/// for each problem they show.
fn facts(ui: &mut egui::Ui, cx: &mut ViewContext, row: &KeyRow) {
    let name = &row.record.name;
    let (cert_tone, cert_text) = widgets::validity(row.certificate_state(widgets::now()));
    egui::Grid::new("key-details").num_columns(2).spacing([14.0, 6.0]).show(ui, |ui| {
        widgets::row(ui, "Algorithm", &row.record.algorithm.to_string());
        widgets::row(ui, "Created", &widgets::when(&row.record.created));
        widgets::row(
            ui,
            "Last used",
            &row.record.last_used.as_deref().map(widgets::when).unwrap_or_else(|| "never".into()),
        );
        let backed_up = row.record.last_backed_up.map(countersign::certs::day);
        widgets::row(ui, "Last backed up", backed_up.as_deref().unwrap_or("never (back it up below)"));
        ui.label(RichText::new("Certificate").strong());
        ui.horizontal(|ui| {
            widgets::badge(ui, cert_tone, &cert_text);
            if ui.link("Manage certificates…").clicked() {
                cx.actions.push(Action::ShowView(View::Certificates));
            }
        });
        ui.end_row();
        ui.label(RichText::new("Keychain").strong());
        match row.keychain.problem() {
            None => widgets::badge(ui, Tone::Good, "ok"),
            Some(_) => widgets::badge(ui, Tone::Bad, "problem"),
        };
        ui.end_row();
    });
    if let Some(p) = row.keychain.problem() {
        widgets::banner(
            ui,
            Tone::Bad,
            &format!(
                "Key \"{name}\": {p}. Restore it from a backup (delete it here, then restore the backup under the same name)."
            ),
        );
    }
    if !row.record.algorithm.upm_accepts() {
        widgets::banner(ui, Tone::Warn, Algorithm::UPM_WARNING);
    }
}

/// The public key's fingerprint, whole, and the button that copies the public key.
fn public_key(ui: &mut egui::Ui, cx: &mut ViewContext, row: &KeyRow) {
    ui.label(RichText::new("Public key SHA-256").strong());
    // Wrapped rather than cut: the whole fingerprint is what people compare.
    ui.add(egui::Label::new(RichText::new(&row.record.fingerprint).monospace()).wrap());
    if ui.button("Copy public key").clicked() {
        ui.ctx().copy_text(row.record.public_key.clone());
        cx.actions.success(format!("Copied the public key of \"{}\".", row.record.name));
    }
}
