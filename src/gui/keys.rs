//! The Keys view: the stored keys, and everything done to one (generate, import or restore,
//! back up, rename, delete, copy the public key).

use std::io::Read;
use std::path::PathBuf;

use eframe::egui::{self, RichText};
use zeroize::Zeroizing;

use super::actions::Action;
use super::secret::{SecretText, secret_field};
use super::widgets::{self, Tone};
use super::{App, KeyRow, View};
use countersign::keys::{Algorithm, KeyError, MIN_PASSPHRASE_CHARS, PrivateKey};

pub struct KeysView {
    new_name: String,
    new_algorithm: Algorithm,
    import_path: String,
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
}

impl Default for KeysView {
    fn default() -> Self {
        KeysView {
            new_name: String::new(),
            new_algorithm: Algorithm::Ed25519,
            import_path: String::new(),
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

pub fn draw(app: &mut App, ui: &mut egui::Ui) {
    let ctx = ui.ctx().clone();
    let rows: Vec<KeyRow> = app.key_rows().to_vec();
    super::heading(ui, "Keys");
    ui.label("Private keys live in the system keychain. Countersign's list holds only their public halves.");
    ui.add_space(6.0);
    if rows.is_empty() {
        ui.weak("No keys yet: make one below, or import one.");
    } else {
        egui::Grid::new("keys-table").num_columns(5).striped(true).spacing([14.0, 6.0]).show(ui, |ui| {
            for h in ["Name", "Algorithm", "Public key SHA-256", "Certificate", "Keychain"] {
                ui.label(RichText::new(h).strong());
            }
            ui.end_row();
            let now = widgets::now();
            for r in &rows {
                let name = &r.record.name;
                let selected = app.selected_key.as_ref() == Some(name);
                if ui.selectable_label(selected, name).clicked() {
                    app.selected_key = Some(name.clone());
                    app.keys_view.rename_to.clear();
                }
                ui.label(r.record.algorithm.to_string());
                ui.label(RichText::new(super::short_hex(&r.record.fingerprint)).monospace())
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

    let selected = app.selected_key.clone().and_then(|n| rows.iter().find(|r| r.record.name == n).cloned());
    if let Some(row) = selected {
        selected_key(app, ui, &ctx, &row);
        ui.add_space(10.0);
    }
    ui.separator();
    generate(app, ui, &ctx);
    ui.separator();
    import(app, ui, &ctx);
    ui.separator();
    unlisted(app, ui, &ctx);
    confirm_delete(app, &ctx);
}

/// Keychain entries that no key lists (an index restored from an older copy, a Countersign
/// stopped mid-change): looked for on request, each can be listed again under a name.
fn unlisted(app: &mut App, ui: &mut egui::Ui, ctx: &egui::Context) {
    ui.label(RichText::new("Keys in the keychain that the list has lost").strong());
    ui.label("An index restored from an older copy, or a Countersign stopped while it added or deleted a key, can leave a key in the keychain that no list entry names. It is still whole: give it a name to use it again.");
    if ui.button("Look for unlisted keys").clicked() {
        let store = app.store();
        app.worker.spawn(
            ctx,
            "searching the keychain",
            move || store.and_then(|s| s.orphans().map_err(|e| e.to_string())),
            |app, result| match result {
                Ok(Some(ids)) => {
                    if ids.is_empty() {
                        app.actions.success("Every Countersign key in the keychain is listed.");
                    }
                    app.keys_view.unlisted = Some(ids);
                }
                Ok(None) => app
                    .actions
                    .failure("This keychain cannot be searched, so unlisted keys cannot be found here."),
                Err(e) => app.actions.failure(e),
            },
        );
    }
    let Some(ids) = app.keys_view.unlisted.clone() else { return };
    for id in ids {
        ui.horizontal(|ui| {
            ui.monospace(&id);
            let name = app.keys_view.adopt_names.entry(id.clone()).or_default();
            let l = ui.label(format!("Name for {id}"));
            ui.add(egui::TextEdit::singleline(name).hint_text("recovered-key").desired_width(180.0))
                .labelled_by(l.id);
            let name = name.trim().to_owned();
            if ui.add_enabled(!name.is_empty(), egui::Button::new(format!("List {id}"))).clicked() {
                let store = app.store();
                let entry = id.clone();
                app.worker.spawn(
                    ctx,
                    "listing a key again",
                    move || store.and_then(|s| s.adopt(&entry, &name).map_err(|e| e.to_string())),
                    move |app, result| {
                        app.actions.push(Action::ReloadKeys);
                        match result {
                            Ok(r) => {
                                app.actions.success(format!(
                                    "Listed the keychain entry as {} key \"{}\" (public key SHA-256 {}).",
                                    r.algorithm, r.name, r.fingerprint
                                ));
                                app.actions.push(Action::SelectKey(r.name));
                                if let Some(list) = app.keys_view.unlisted.as_mut() {
                                    list.retain(|i| *i != id);
                                }
                            }
                            Err(e) => app.actions.failure(e),
                        }
                    },
                );
            }
        });
    }
}

fn selected_key(app: &mut App, ui: &mut egui::Ui, ctx: &egui::Context, row: &KeyRow) {
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
                ctx.copy_text(row.record.public_key.clone());
                app.actions.success(format!("The public key of \"{name}\" is on the clipboard."));
            }
            if ui.button("Certificates…").clicked() {
                app.actions.push(Action::ShowView(View::Certificates));
            }
            if ui.button("Delete…").clicked() {
                app.keys_view.confirm_delete = Some(name.clone());
            }
        });
        ui.add_space(6.0);
        ui.horizontal(|ui| {
            let l = ui.label("New name");
            ui.add(egui::TextEdit::singleline(&mut app.keys_view.rename_to).desired_width(240.0)).labelled_by(l.id);
            let new = app.keys_view.rename_to.trim().to_owned();
            if ui.add_enabled(!new.is_empty() && new != name, egui::Button::new("Rename")).clicked() {
                let store = app.store();
                let old = name.clone();
                app.worker.spawn(
                    ctx,
                    "renaming a key",
                    move || store.and_then(|s| s.rename(&old, &new).map_err(|e| e.to_string())).map(|r| r.name),
                    |app, result| {
                        app.actions.push(Action::ReloadKeys);
                        match result {
                            Ok(new) => {
                                app.actions.success(format!("Renamed the key to \"{new}\"."));
                                app.actions.push(Action::SelectKey(new));
                                app.keys_view.rename_to.clear();
                            }
                            Err(e) => app.actions.failure(e),
                        }
                    },
                );
            }
        });
        ui.add_space(6.0);
        ui.label(RichText::new("Back up").strong());
        ui.label("A backup is the key encrypted with a passphrase (PKCS#8, AES-256); OpenSSL and Countersign can open it. Keep it and the passphrase apart.");
        let kv = &mut app.keys_view;
        let first = secret_field(ui, "Backup passphrase", &mut kv.backup_passphrase);
        let repeat = secret_field(ui, "Repeat passphrase", &mut kv.backup_repeat);
        let problem = if first.overflowed || repeat.overflowed {
            Some(format!("A passphrase can hold at most {} bytes.", SecretText::CAPACITY))
        } else if kv.backup_passphrase.char_count() < MIN_PASSPHRASE_CHARS {
            Some(format!("Use a passphrase of at least {MIN_PASSPHRASE_CHARS} characters."))
        } else if kv.backup_passphrase != kv.backup_repeat {
            Some("The two passphrases differ.".to_owned())
        } else {
            None
        };
        let submitted = (first.submitted || repeat.submitted) && problem.is_none();
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
            // The job gets its own copy (wiped when it ends); the fields keep theirs until the
            // backup is written, so that a cancelled dialog does not cost the typing.
            let passphrase = kv.backup_passphrase.to_zeroizing();
            let store = app.store();
            let desktop = app.config.desktop.clone();
            let key_name = name.clone();
            let suggested = format!("{}-backup.pem", row.record.file_stem());
            app.worker.spawn(
                ctx,
                "backing up a key",
                move || -> Result<Option<PathBuf>, String> {
                    let Some(path) = desktop.save_file("Save the encrypted backup", &suggested) else { return Ok(None) };
                    let (_, key) = store?.load(&key_name).map_err(|e| e.to_string())?;
                    let pem = key.to_encrypted_pem(&passphrase).map_err(|e| e.to_string())?;
                    // The save dialog asked before replacing a file.
                    countersign::atomic::write_file(&path, pem.as_bytes(), true).map_err(|e| e.to_string())?;
                    Ok(Some(path))
                },
                |app, result| match result {
                    Ok(Some(path)) => {
                        app.keys_view.backup_passphrase.clear();
                        app.keys_view.backup_repeat.clear();
                        app.actions.success(format!("Backup written to {}. Keep the passphrase somewhere else.", path.display()));
                    }
                    Ok(None) => {}
                    Err(e) => app.actions.failure(e),
                },
            );
        }
    });
}

fn generate(app: &mut App, ui: &mut egui::Ui, ctx: &egui::Context) {
    ui.label(RichText::new("Make a new key").strong());
    let kv = &mut app.keys_view;
    widgets::field(ui, "Key name", &mut kv.new_name, "acme-signing");
    ui.horizontal(|ui| {
        ui.radio_value(&mut kv.new_algorithm, Algorithm::Ed25519, "Ed25519 (what UPM requires)");
        ui.radio_value(
            &mut kv.new_algorithm,
            Algorithm::EcdsaP384,
            "ECDSA P-384 (for policies that require NIST curves)",
        );
    });
    if kv.new_algorithm == Algorithm::EcdsaP384 {
        widgets::banner(ui, Tone::Warn, Algorithm::UPM_WARNING);
    }
    let name = kv.new_name.trim().to_owned();
    let algorithm = kv.new_algorithm;
    if ui.add_enabled(!name.is_empty(), egui::Button::new("Generate key")).clicked() {
        let store = app.store();
        app.worker.spawn(
            ctx,
            "making a key",
            move || store.and_then(|s| s.generate(&name, algorithm).map_err(|e| e.to_string())),
            |app, result| {
                app.actions.push(Action::ReloadKeys);
                match result {
                    Ok(r) => {
                        app.actions.success(format!("Made {} key \"{}\" in the keychain. Next: give it a certificate (Certificates view).", r.algorithm, r.name));
                        app.actions.push(Action::SelectKey(r.name));
                        app.keys_view.new_name.clear();
                    }
                    Err(e) => app.actions.failure(e),
                }
            },
        );
    }
}

fn import(app: &mut App, ui: &mut egui::Ui, ctx: &egui::Context) {
    ui.label(RichText::new("Import or restore a key").strong());
    ui.label("A private key file (PKCS#8 PEM or DER, as `openssl genpkey` writes), or a Countersign backup. It goes into the keychain; delete the file afterwards if it was not encrypted.");
    ui.horizontal(|ui| {
        let l = ui.label("Key file");
        ui.add(
            egui::TextEdit::singleline(&mut app.keys_view.import_path)
                .hint_text("/path/to/key.pem")
                .desired_width(320.0),
        )
        .labelled_by(l.id);
        if ui.button("Choose key file…").clicked() {
            let desktop = app.config.desktop.clone();
            app.worker.spawn(
                ctx,
                "choosing a key file",
                move || desktop.pick_file("Choose a private key or backup", &["pem", "der", "key"]),
                |app, picked| {
                    if let Some(p) = picked {
                        if app.keys_view.import_name.is_empty() {
                            app.keys_view.import_name =
                                p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                        }
                        app.keys_view.import_path = p.display().to_string();
                    }
                },
            );
        }
    });
    let kv = &mut app.keys_view;
    widgets::field(ui, "Name for the key", &mut kv.import_name, "acme-signing");
    let typed = secret_field(ui, "Passphrase (if encrypted)", &mut kv.import_passphrase);
    if typed.overflowed {
        ui.weak(format!("A passphrase can hold at most {} bytes.", SecretText::CAPACITY));
    }
    let path = kv.import_path.trim().to_owned();
    let name = kv.import_name.trim().to_owned();
    let ready = !path.is_empty() && !name.is_empty();
    if ui.add_enabled(ready, egui::Button::new("Import key")).clicked() || (typed.submitted && ready) {
        let passphrase = kv.import_passphrase.to_zeroizing();
        let store = app.store();
        app.worker.spawn(
            ctx,
            "importing a key",
            move || -> Result<countersign::keystore::KeyRecord, ImportFailure> {
                let key = read_key_file(&PathBuf::from(&path), passphrase)?;
                store
                    .and_then(|s| s.add(&name, &key).map_err(|e| e.to_string()))
                    .map_err(ImportFailure::Other)
            },
            |app, result| {
                app.actions.push(Action::ReloadKeys);
                match result {
                    Ok(r) => {
                        app.keys_view.import_passphrase.clear();
                        app.actions.success(format!(
                            "Imported {} key \"{}\" into the keychain (public key SHA-256 {}).",
                            r.algorithm, r.name, r.fingerprint
                        ));
                        app.actions.push(Action::SelectKey(r.name));
                        app.keys_view.import_path.clear();
                        app.keys_view.import_name.clear();
                    }
                    Err(ImportFailure::Passphrase(e)) => {
                        // A wrong passphrase is typed again, not corrected.
                        app.keys_view.import_passphrase.clear();
                        app.actions.failure(e);
                    }
                    Err(ImportFailure::Other(e)) => app.actions.failure(e),
                }
            },
        );
    }
}

/// Why an import failed: the passphrase (typed again from scratch), or anything else.
enum ImportFailure {
    Passphrase(String),
    Other(String),
}

/// Reads a key file (bounded, zeroized), decrypting it with `passphrase` if it is encrypted.
fn read_key_file(path: &std::path::Path, passphrase: Zeroizing<String>) -> Result<PrivateKey, ImportFailure> {
    const MAX_KEY_FILE: u64 = 1 << 20;
    let name = path.display().to_string();
    let unreadable = |e: std::io::Error| {
        ImportFailure::Other(format!("Could not read the key file {name}: {e}. Check the path."))
    };
    let file = std::fs::File::open(path).map_err(unreadable)?;
    // Sized up front, so that the key's bytes are never left behind by a growing buffer.
    let size = file.metadata().map(|m| m.len().min(MAX_KEY_FILE)).unwrap_or(0);
    let mut bytes = Zeroizing::new(Vec::with_capacity(usize::try_from(size).unwrap_or(0) + 1));
    file.take(MAX_KEY_FILE).read_to_end(&mut bytes).map_err(unreadable)?;
    PrivateKey::from_file_bytes(&bytes, &name, || {
        if passphrase.is_empty() {
            Err(KeyError::NoPassphrase { source_name: name.clone() })
        } else {
            Ok(passphrase.clone())
        }
    })
    .map_err(|e| match e {
        KeyError::NoPassphrase { .. } => ImportFailure::Passphrase(format!(
            "{name} is encrypted. Type its passphrase in the Passphrase field and import again."
        )),
        KeyError::WrongPassphrase { .. } => {
            ImportFailure::Passphrase(format!("The passphrase for {name} is wrong. Type it again."))
        }
        e => ImportFailure::Other(e.to_string()),
    })
}

fn confirm_delete(app: &mut App, ctx: &egui::Context) {
    let Some(name) = app.keys_view.confirm_delete.clone() else { return };
    let Some(row) = app.key_rows().iter().find(|r| r.record.name == name).cloned() else {
        app.keys_view.confirm_delete = None;
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
        app.keys_view.confirm_delete = None;
    }
    if delete {
        app.keys_view.confirm_delete = None;
        let store = app.store();
        app.worker.spawn(
            ctx,
            "deleting a key",
            move || store.and_then(|s| s.delete(&name).map_err(|e| e.to_string())),
            |app, result| {
                app.actions.push(Action::ReloadKeys);
                match result {
                    Ok(r) => app.actions.success(format!(
                        "Deleted key \"{}\" (public key SHA-256 {}) from the keychain and the list.",
                        r.name, r.fingerprint
                    )),
                    Err(e) => app.actions.failure(e),
                }
            },
        );
    }
}
