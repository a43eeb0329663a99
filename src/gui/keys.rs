//! The Keys view: the stored keys, and everything done to one (generate, import or restore,
//! back up, rename, delete, copy the public key).

use std::path::{Path, PathBuf};

use eframe::egui::{self, RichText};
use zeroize::Zeroizing;

use super::actions::Action;
use super::context::ViewContext;
use super::desktop::NoDialog;
use super::messages::Failure;
use super::secret::{SecretText, secret_field};
use super::widgets::{self, PathField, Tone};
use super::{KeyRow, View};
use countersign::keys::{Algorithm, KeyError, MIN_PASSPHRASE_CHARS};
use countersign::keystore::{KeyRecord, KeyStore, KeyStoreError};

/// Results of the Keys view's jobs.
#[derive(Debug)]
pub enum Message {
    /// Keychain entries of ours that no key lists (`None`: the keychain cannot be searched).
    UnlistedFound(Result<Option<Vec<String>>, Failure>),
    /// The unlisted keychain entry `entry` was listed again.
    Listed {
        entry: String,
        result: Result<KeyRecord, Failure>,
    },
    Renamed(Result<KeyRecord, Failure>),
    /// A backup was written there (`None`: the save dialog was cancelled).
    BackedUp(Result<Option<PathBuf>, Failure>),
    Generated(Result<KeyRecord, Failure>),
    KeyFileChosen(Result<Option<PathBuf>, NoDialog>),
    /// Where to save the backup was chosen in a dialog.
    BackupFileChosen(Result<Option<PathBuf>, NoDialog>),
    Imported(Result<KeyRecord, ImportFailure>),
    Deleted(Result<KeyRecord, Failure>),
}

pub struct KeysView {
    new_name: String,
    new_algorithm: Algorithm,
    import_path: PathField,
    /// Where the backup goes, typed or chosen.
    backup_path: PathField,
    import_name: String,
    import_passphrase: SecretText,
    rename_to: String,
    backup_passphrase: SecretText,
    backup_repeat: SecretText,
    /// The key whose deletion waits for confirmation.
    confirm_delete: Option<String>,
    /// Keychain entries of ours that no key lists, once looked for (`None`: not yet, or
    /// the keychain cannot be searched).
    unlisted: Option<Vec<String>>,
    /// The name typed for each unlisted entry, by id.
    adopt_names: std::collections::BTreeMap<String, String>,
}

impl KeysView {
    /// Wipes every passphrase typed into the view (when it is left, or its action is done).
    pub(super) fn wipe_passphrases(&mut self) {
        self.import_passphrase.clear();
        self.backup_passphrase.clear();
        self.backup_repeat.clear();
    }

    #[cfg(test)]
    /// True when no passphrase field holds anything, down to the last byte (for tests).
    pub fn passphrases_wiped(&self) -> bool {
        self.import_passphrase.is_wiped()
            && self.backup_passphrase.is_wiped()
            && self.backup_repeat.is_wiped()
    }

    /// Applies a finished job of this view.
    pub(super) fn apply(&mut self, message: Message, cx: &mut ViewContext) {
        let actions = &mut *cx.actions;
        match message {
            Message::UnlistedFound(result) => match result {
                Ok(Some(ids)) => {
                    if ids.is_empty() {
                        actions.success("Every Countersign key in the keychain is listed.");
                    }
                    self.unlisted = Some(ids);
                }
                Ok(None) => actions
                    .failure("This keychain cannot be searched, so unlisted keys cannot be found here."),
                Err(e) => actions.failure(super::hints::explain(&e)),
            },
            Message::Listed { entry, result } => {
                actions.push(Action::ReloadKeys);
                match result {
                    Ok(r) => {
                        actions.success(format!(
                            "Listed the keychain entry as {} key \"{}\" (public key SHA-256 {}).",
                            r.algorithm, r.name, r.fingerprint
                        ));
                        actions.push(Action::SelectKey(r.name));
                        if let Some(list) = self.unlisted.as_mut() {
                            list.retain(|i| *i != entry);
                        }
                    }
                    Err(e) => actions.failure(super::hints::explain(&e)),
                }
            }
            Message::Renamed(result) => {
                actions.push(Action::ReloadKeys);
                match result {
                    Ok(r) => {
                        actions.success(format!("Renamed the key to \"{}\".", r.name));
                        actions.push(Action::SelectKey(r.name));
                        self.rename_to.clear();
                    }
                    Err(e) => actions.failure(super::hints::explain(&e)),
                }
            }
            Message::BackedUp(result) => match result {
                Ok(Some(path)) => {
                    self.backup_passphrase.clear();
                    self.backup_repeat.clear();
                    self.backup_path.clear();
                    actions.success(format!(
                        "Backup written to {}. Keep the passphrase somewhere else.",
                        path.display()
                    ));
                }
                Ok(None) => {}
                // The passphrases stay: only the path has to be typed.
                Err(Failure::NoDialog(e)) => self.backup_path.no_dialog(&e),
                Err(e) => actions.failure(super::hints::explain(&e)),
            },
            Message::BackupFileChosen(answer) => self.backup_path.chosen(answer),
            Message::Generated(result) => {
                actions.push(Action::ReloadKeys);
                match result {
                    Ok(r) => {
                        actions.success(format!(
                            "Made {} key \"{}\" in the keychain. Next: give it a certificate (Certificates view).",
                            r.algorithm, r.name
                        ));
                        actions.push(Action::SelectKey(r.name));
                        self.new_name.clear();
                    }
                    Err(e) => actions.failure(super::hints::explain(&e)),
                }
            }
            Message::KeyFileChosen(answer) => {
                if let Ok(Some(p)) = &answer
                    && self.import_name.is_empty()
                {
                    self.import_name =
                        p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                }
                self.import_path.chosen(answer);
            }
            Message::Imported(result) => {
                actions.push(Action::ReloadKeys);
                match result {
                    Ok(r) => {
                        self.import_passphrase.clear();
                        actions.success(format!(
                            "Imported {} key \"{}\" into the keychain (public key SHA-256 {}).",
                            r.algorithm, r.name, r.fingerprint
                        ));
                        actions.push(Action::SelectKey(r.name));
                        self.import_path.clear();
                        self.import_name.clear();
                    }
                    Err(e) => {
                        if e.is_about_the_passphrase() {
                            // A wrong passphrase is typed again, not corrected.
                            self.import_passphrase.clear();
                        }
                        actions.failure(match &e {
                            ImportFailure::Other(failure) => super::hints::explain(failure),
                            e => e.to_string(),
                        });
                    }
                }
            }
            Message::Deleted(result) => {
                actions.push(Action::ReloadKeys);
                match result {
                    Ok(r) => actions.success(format!(
                        "Deleted key \"{}\" (public key SHA-256 {}) from the keychain and the list.",
                        r.name, r.fingerprint
                    )),
                    Err(e) => actions.failure(super::hints::explain(&e)),
                }
            }
        }
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext) {
        super::heading(ui, "Keys");
        ui.label(
            "Private keys live in the system keychain. Countersign's list holds only their public halves.",
        );
        ui.add_space(6.0);
        if cx.keys.is_empty() {
            ui.weak("No keys yet: make one below, or import one.");
        } else {
            egui::Grid::new("keys-table").num_columns(5).striped(true).spacing([14.0, 6.0]).show(ui, |ui| {
                for h in ["Name", "Algorithm", "Public key SHA-256", "Certificate", "Keychain"] {
                    ui.label(RichText::new(h).strong());
                }
                ui.end_row();
                let now = widgets::now();
                for r in cx.keys {
                    let name = &r.record.name;
                    let selected = cx.selected_key == Some(name.as_str());
                    if ui.selectable_label(selected, name).clicked() {
                        cx.actions.push(Action::SelectKey(name.clone()));
                        self.rename_to.clear();
                    }
                    ui.label(r.record.algorithm.to_string());
                    ui.label(RichText::new(countersign::hex::short(&r.record.fingerprint)).monospace())
                        .on_hover_text(&r.record.fingerprint);
                    let (tone, text) = widgets::validity(r.certificate_state(now));
                    widgets::badge(ui, tone, &text);
                    match &r.keychain_problem {
                        None => widgets::badge(ui, Tone::Good, "ok"),
                        Some(p) => widgets::badge(ui, Tone::Bad, "problem").on_hover_text(p),
                    };
                    ui.end_row();
                }
            });
        }
        ui.add_space(10.0);

        let selected = cx.selected_key.and_then(|n| cx.key(n)).cloned();
        if let Some(row) = selected {
            self.selected_key(ui, cx, &row);
            ui.add_space(10.0);
        }
        ui.separator();
        self.generate(ui, cx);
        ui.separator();
        self.import(ui, cx);
        ui.separator();
        self.unlisted(ui, cx);
        self.confirm_delete(ui.ctx(), cx);
    }

    /// Keychain entries that no key lists (an index restored from an older copy, a
    /// Countersign stopped mid-change): looked for on request, each can be listed again
    /// under a name.
    fn unlisted(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext) {
        ui.label(RichText::new("Keys in the keychain that the list has lost").strong());
        ui.label("An index restored from an older copy, or a Countersign stopped while it added or deleted a key, can leave a key in the keychain that no list entry names. It is still whole: give it a name to use it again.");
        if ui.button("Look for unlisted keys").clicked() {
            let store = cx.store();
            cx.jobs.spawn("searching the keychain", move || {
                Message::UnlistedFound(store.and_then(|s| Ok(s.orphans()?)))
            });
        }
        let Some(ids) = self.unlisted.clone() else { return };
        for id in ids {
            ui.horizontal(|ui| {
                ui.monospace(&id);
                let name = self.adopt_names.entry(id.clone()).or_default();
                let l = ui.label(format!("Name for {id}"));
                ui.add(egui::TextEdit::singleline(name).hint_text("recovered-key").desired_width(180.0))
                    .labelled_by(l.id);
                let name = name.trim().to_owned();
                if ui.add_enabled(!name.is_empty(), egui::Button::new(format!("List {id}"))).clicked() {
                    let store = cx.store();
                    let entry = id.clone();
                    cx.jobs.spawn("listing a key again", move || {
                        let result = store.and_then(|s| Ok(s.adopt(&entry, &name)?));
                        Message::Listed { entry, result }
                    });
                }
            });
        }
    }

    fn selected_key(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext, row: &KeyRow) {
        let name = row.record.name.clone();
        egui::Frame::group(ui.style()).inner_margin(10.0).show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.label(RichText::new(format!("Key \"{name}\"")).strong().size(16.0));
            egui::Grid::new("key-details").num_columns(2).show(ui, |ui| {
                widgets::row(ui, "Algorithm", &row.record.algorithm.to_string());
                widgets::row(ui, "Public key SHA-256", &row.record.fingerprint);
                widgets::row(ui, "Created", &row.record.created);
                widgets::row(ui, "Last used", row.record.last_used.as_deref().unwrap_or("never"));
            });
            if let Some(p) = &row.keychain_problem {
                widgets::banner(ui, Tone::Bad, &format!("Key \"{name}\": {p}. Restore it from a backup (delete it here, then import the backup under the same name)."));
            }
            if !row.record.algorithm.upm_accepts() {
                widgets::banner(ui, Tone::Warn, Algorithm::UPM_WARNING);
            }
            ui.horizontal(|ui| {
                if ui.button("Copy public key").clicked() {
                    ui.ctx().copy_text(row.record.public_key.clone());
                    cx.actions.success(format!("The public key of \"{name}\" is on the clipboard."));
                }
                if ui.button("Certificates…").clicked() {
                    cx.actions.push(Action::ShowView(View::Certificates));
                }
                if ui.button("Delete…").clicked() {
                    self.confirm_delete = Some(name.clone());
                }
            });
            ui.add_space(6.0);
            ui.horizontal(|ui| {
                let l = ui.label("New name");
                ui.add(egui::TextEdit::singleline(&mut self.rename_to).desired_width(240.0)).labelled_by(l.id);
                let new = self.rename_to.trim().to_owned();
                if ui.add_enabled(!new.is_empty() && new != name, egui::Button::new("Rename")).clicked() {
                    let store = cx.store();
                    let old = name.clone();
                    cx.jobs.spawn("renaming a key", move || {
                        Message::Renamed(store.and_then(|s| Ok(s.rename(&old, &new)?)))
                    });
                }
            });
            ui.add_space(6.0);
            ui.label(RichText::new("Back up").strong());
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
                    Message::BackupFileChosen(dialogs.save("Save the encrypted backup", &suggested))
                });
            }
            let save = ui
                .horizontal(|ui| {
                    let save = ui.add_enabled(problem.is_none(), egui::Button::new("Save backup…")).clicked();
                    if let Some(p) = &problem {
                        ui.weak(p);
                    }
                    save
                })
                .inner;
            if save || submitted {
                // The job gets its own copy (wiped when it ends); the fields keep theirs until
                // the backup is written, so that a cancelled dialog does not cost the typing.
                let passphrase = self.backup_passphrase.to_zeroizing();
                let store = cx.store();
                let dialogs = cx.dialogs();
                let key_name = name.clone();
                let typed = self.backup_path.path();
                cx.jobs.spawn("backing up a key", move || {
                    let back_up = || -> Result<Option<PathBuf>, Failure> {
                        let Some((path, replace)) =
                            dialogs.save_target(typed, "Save the encrypted backup", &suggested)?
                        else {
                            return Ok(None);
                        };
                        store?.backup(&key_name, &passphrase, &path, replace)?;
                        Ok(Some(path))
                    };
                    Message::BackedUp(back_up())
                });
            }
        });
    }

    fn generate(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext) {
        ui.label(RichText::new("Make a new key").strong());
        widgets::field(ui, "Key name", &mut self.new_name, "acme-signing");
        ui.horizontal(|ui| {
            ui.radio_value(&mut self.new_algorithm, Algorithm::Ed25519, "Ed25519 (what UPM requires)");
            ui.radio_value(
                &mut self.new_algorithm,
                Algorithm::EcdsaP384,
                "ECDSA P-384 (for policies that require NIST curves)",
            );
        });
        if self.new_algorithm == Algorithm::EcdsaP384 {
            widgets::banner(ui, Tone::Warn, Algorithm::UPM_WARNING);
        }
        let name = self.new_name.trim().to_owned();
        let algorithm = self.new_algorithm;
        if ui.add_enabled(!name.is_empty(), egui::Button::new("Generate key")).clicked() {
            let store = cx.store();
            cx.jobs.spawn("making a key", move || {
                Message::Generated(store.and_then(|s| Ok(s.generate(&name, algorithm)?)))
            });
        }
    }

    fn import(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext) {
        ui.label(RichText::new("Import or restore a key").strong());
        ui.label("A private key file (PKCS#8 PEM or DER, as `openssl genpkey` writes), or a Countersign backup. It goes into the keychain; delete the file afterwards if it was not encrypted.");
        if self.import_path.ui(ui, "Key file", "/path/to/key.pem", "Choose key file…").browse {
            let dialogs = cx.dialogs();
            cx.jobs.spawn("choosing a key file", move || {
                Message::KeyFileChosen(
                    dialogs.open_file("Choose a private key or backup", &["pem", "der", "key"]),
                )
            });
        }
        widgets::field(ui, "Name for the key", &mut self.import_name, "acme-signing");
        let typed = secret_field(ui, "Passphrase (if encrypted)", &mut self.import_passphrase);
        if typed.overflowed {
            ui.weak(format!("A passphrase can hold at most {} bytes.", SecretText::CAPACITY));
        }
        let path = self.import_path.path().unwrap_or_default();
        let name = self.import_name.trim().to_owned();
        let ready = !path.as_os_str().is_empty() && !name.is_empty();
        if ui.add_enabled(ready, egui::Button::new("Import key")).clicked() || (typed.submitted && ready) {
            let passphrase = self.import_passphrase.to_zeroizing();
            let store = cx.store();
            cx.jobs.spawn("importing a key", move || {
                let import = || -> Result<KeyRecord, ImportFailure> {
                    import_key_file(&store?, &name, &path, passphrase)
                };
                Message::Imported(import())
            });
        }
    }

    fn confirm_delete(&mut self, ctx: &egui::Context, cx: &mut ViewContext) {
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

impl Default for KeysView {
    fn default() -> Self {
        KeysView {
            new_name: String::new(),
            new_algorithm: Algorithm::Ed25519,
            import_path: PathField::default(),
            backup_path: PathField::default(),
            import_name: String::new(),
            import_passphrase: SecretText::new(),
            rename_to: String::new(),
            backup_passphrase: SecretText::new(),
            backup_repeat: SecretText::new(),
            confirm_delete: None,
            unlisted: None,
            adopt_names: Default::default(),
        }
    }
}

/// Why an import failed: the key file or its passphrase (the passphrase is then typed again
/// from scratch), or the key store.
#[derive(Debug, thiserror::Error)]
pub enum ImportFailure {
    #[error("{name} is encrypted. Type its passphrase in the Passphrase field and import again.")]
    NeedsPassphrase { name: String },
    #[error("The passphrase for {name} is wrong. Type it again.")]
    WrongPassphrase { name: String },
    #[error(transparent)]
    Other(#[from] Failure),
}

impl ImportFailure {
    fn is_about_the_passphrase(&self) -> bool {
        matches!(self, ImportFailure::NeedsPassphrase { .. } | ImportFailure::WrongPassphrase { .. })
    }
}

/// Imports a key file under `name`, decrypting it with the typed `passphrase` if it is
/// encrypted; a missing or wrong passphrase is the Passphrase field's to fix.
fn import_key_file(
    store: &KeyStore,
    name: &str,
    path: &Path,
    passphrase: Zeroizing<String>,
) -> Result<KeyRecord, ImportFailure> {
    let file = path.display().to_string();
    store
        .import_file(name, path, || {
            if passphrase.is_empty() {
                Err(KeyError::NoPassphrase { source_name: file.clone() })
            } else {
                Ok(passphrase.clone())
            }
        })
        .map_err(|e| match e {
            KeyStoreError::Key(KeyError::NoPassphrase { .. }) => {
                ImportFailure::NeedsPassphrase { name: file.clone() }
            }
            KeyStoreError::Key(KeyError::WrongPassphrase { .. }) => {
                ImportFailure::WrongPassphrase { name: file.clone() }
            }
            e => ImportFailure::Other(Failure::KeyStore(e)),
        })
}
