//! The Keys view's forms: a new key, and a key file imported or a backup restored.

use super::*;

impl KeysView {
    /// A new key was made, or why not.
    pub(super) fn generated(&mut self, result: Result<KeyRecord, Failure>, actions: &mut Actions) {
        actions.push(Action::ReloadKeys);
        match result {
            Ok(r) => {
                actions.success(format!(
                    "Made {} key \"{}\" in the keychain. Next: give it a certificate (Certificates view).",
                    r.algorithm, r.name
                ));
                actions.push(Action::SelectKey(r.name));
                self.new_name.clear();
                // The form is done: the new key's details take its place.
                if self.pane == Pane::NewKey {
                    self.show(Pane::Details);
                }
            }
            Err(e) => actions.failed(&e),
        }
    }

    /// The name a chosen key file suggests: its file's stem.
    pub(super) fn name_from_key_file(&self, path: &Path) -> String {
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        // A backup is saved as `<key>-backup.pem`: restored, it is that key again.
        match self.pane {
            Pane::Import { restore: true } => stem.strip_suffix("-backup").unwrap_or(&stem).to_owned(),
            _ => stem,
        }
    }

    /// A key file was imported (or a backup restored), or why not.
    pub(super) fn imported(&mut self, result: Result<KeyRecord, ImportFailure>, actions: &mut Actions) {
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
                if matches!(self.pane, Pane::Import { .. }) {
                    self.show(Pane::Details);
                }
            }
            Err(e) => {
                if e.is_about_the_passphrase() {
                    // A wrong passphrase is typed again, not corrected.
                    self.import_passphrase.clear();
                }
                actions.failure(match &e {
                    ImportFailure::Other(failure) => crate::gui::failure::explain(failure),
                    e => e.to_string(),
                });
            }
        }
    }

    pub(super) fn generate(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext) {
        pane_heading(ui, "New key");
        ui.label("A new private key, made inside the system keychain.");
        ui.add_space(4.0);
        let field = widgets::field(ui, "Key name", &mut self.new_name, "acme-signing");
        if std::mem::take(&mut self.focus_form) {
            // Opened from the toolbar: typing goes straight into the name.
            field.request_focus();
        }
        let entered = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        ui.add_space(4.0);
        ui.label(RichText::new("Algorithm").strong());
        ui.radio_value(&mut self.new_algorithm, Algorithm::Ed25519, "Ed25519 (what UPM requires)");
        ui.radio_value(
            &mut self.new_algorithm,
            Algorithm::EcdsaP384,
            "ECDSA P-384 (for policies that require NIST curves)",
        );
        if self.new_algorithm == Algorithm::EcdsaP384 {
            widgets::banner(ui, Tone::Warn, Algorithm::UPM_WARNING);
        }
        let name = self.new_name.trim().to_owned();
        let why = if name.is_empty() {
            Some("Type a name for the key first.".to_owned())
        } else {
            cx.name_taken(&name)
        };
        ui.add_space(8.0);
        let (generate, cancel) = ui
            .horizontal(|ui| {
                let cancel = ui.button("Cancel").clicked();
                let generate =
                    widgets::primary(ui, why.is_none(), "Generate key", || why.clone().unwrap_or_default());
                (generate.clicked(), cancel)
            })
            .inner;
        if cancel {
            self.cancel();
        } else if why.is_none() && (generate || entered) {
            let algorithm = self.new_algorithm;
            let store = cx.store();
            cx.jobs.spawn("making a key", move || {
                Message::Generated(store.and_then(|s| Ok(s.generate(&name, algorithm)?)))
            });
        }
    }

    /// The form for a key file; `restore` words it for a Countersign backup (an encrypted
    /// PKCS#8 PEM, which is a key file like any other to the import).
    pub(super) fn import(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext, restore: bool) {
        if restore {
            pane_heading(ui, "Restore a backup");
            ui.label("A Countersign backup is the key in an encrypted PKCS#8 PEM file, as Back up saves it. Choose the file, name the key, and type the passphrase the backup was saved with.");
        } else {
            pane_heading(ui, "Import a key");
            ui.label("A private key file (PKCS#8 PEM or DER, as `openssl genpkey` writes). It goes into the keychain; delete the file afterwards if it was not encrypted.");
        }
        ui.add_space(4.0);
        let hint = if restore { "/path/to/acme-backup.pem" } else { "/path/to/key.pem" };
        if self.import_path.ui(ui, "Key file", hint, "Choose key file…").browse {
            let dialogs = cx.dialogs();
            let title =
                if restore { "Choose a Countersign backup" } else { "Choose a private key or backup" };
            cx.jobs.spawn("choosing a key file", move || {
                Message::PathChosen(PathFor::KeyFile, dialogs.open_file(title, &["pem", "der", "key"]))
            });
        }
        widgets::field(ui, "Name for the key", &mut self.import_name, "acme-signing");
        let typed = secret_field(ui, "Passphrase (if encrypted)", &mut self.import_passphrase);
        if typed.overflowed {
            ui.weak(format!("A passphrase can hold at most {} bytes.", SecretText::CAPACITY));
        }
        let path = self.import_path.path().unwrap_or_default();
        let name = self.import_name.trim().to_owned();
        let why = if path.as_os_str().is_empty() {
            Some(
                if restore {
                    "Type or choose the backup file first."
                } else {
                    "Type or choose the key file first."
                }
                .to_owned(),
            )
        } else if name.is_empty() {
            Some("Type a name for the key first.".to_owned())
        } else {
            cx.name_taken(&name)
        };
        ui.add_space(8.0);
        let text = if restore { "Restore key" } else { "Import key" };
        let (import, cancel) = ui
            .horizontal(|ui| {
                let cancel = ui.button("Cancel").clicked();
                let import = widgets::primary(ui, why.is_none(), text, || why.clone().unwrap_or_default());
                (import.clicked(), cancel)
            })
            .inner;
        if cancel {
            self.cancel();
        } else if why.is_none() && (import || typed.submitted) {
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
    pub(super) fn is_about_the_passphrase(&self) -> bool {
        matches!(self, ImportFailure::NeedsPassphrase { .. } | ImportFailure::WrongPassphrase { .. })
    }
}

/// Imports a key file under `name`, decrypting it with the typed `passphrase` if it is
/// encrypted; a missing or wrong passphrase is the Passphrase field's to fix.
pub(super) fn import_key_file(
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
