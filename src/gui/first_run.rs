//! First run: no key yet. Two names, one button: an Ed25519 key in the keychain, a
//! self-signed certificate, and the customer's copy of it in a folder the user can find.

use std::path::{Path, PathBuf};

use eframe::egui::{self, RichText};

use super::actions::Action;
use super::widgets::{self, Tone};
use super::{App, View};
use countersign::certs::Subject;
use countersign::keys::Algorithm;

/// How long the first certificate lasts: two years, a usual renewal rhythm.
const FIRST_CERT_DAYS: u32 = 730;

#[derive(Default)]
pub struct FirstRun {
    organisation: String,
    signer: String,
    working: bool,
    error: Option<String>,
    pub(super) created: Option<Created>,
}

pub(super) struct Created {
    key_name: String,
    certificate_file: PathBuf,
    fingerprint: String,
}

impl FirstRun {
    pub(super) fn in_progress(&self) -> bool {
        self.working || self.created.is_some()
    }
}

/// The key's name: the organisation's, made plain, so that bundles are named after it.
fn key_name_for(organisation: &str) -> String {
    let base: String = organisation.trim().chars().take(48).collect();
    format!("{} signing", base.trim())
}

/// `dir/stem.crt`, or `dir/stem-2.crt` and so on when that file exists: never overwrite.
fn free_name(dir: &Path, stem: &str) -> PathBuf {
    let first = dir.join(format!("{stem}.crt"));
    if !first.exists() {
        return first;
    }
    (2..).map(|n| dir.join(format!("{stem}-{n}.crt"))).find(|p| !p.exists()).unwrap_or(first)
}

pub fn draw(app: &mut App, ui: &mut egui::Ui) {
    let ctx = ui.ctx().clone();
    ui.add_space(12.0);
    super::heading(ui, "Welcome to Countersign");
    if let Some(done) = &app.first_run.created {
        ui.add_space(8.0);
        widgets::banner(
            ui,
            Tone::Good,
            &format!(
                "Your signing key \"{}\" is in the system keychain, with a certificate valid for two years.",
                done.key_name
            ),
        );
        ui.add_space(8.0);
        ui.label("Your customers add this certificate to UPM's trust store once; after that, every app you sign installs without complaint:");
        let path_text = done.certificate_file.display().to_string();
        ui.label(RichText::new(&path_text).monospace());
        ui.label(RichText::new(format!("Certificate SHA-256 fingerprint: {}", done.fingerprint)).small());
        ui.label("Every bundle you sign carries a copy too, with instructions for the customer.");
        ui.add_space(8.0);
        let folder = done.certificate_file.parent().map(Path::to_path_buf);
        ui.horizontal(|ui| {
            if ui.button("Open folder").clicked()
                && let Some(folder) = folder
            {
                let desktop = app.config.desktop.clone();
                app.worker.spawn(
                    &ctx,
                    "opening a folder",
                    move || desktop.open_folder(&folder),
                    |app, r| {
                        if let Err(e) = r {
                            app.actions.failure(e);
                        }
                    },
                );
            }
            if ui.button("Copy path").clicked() {
                ctx.copy_text(path_text.clone());
            }
            if ui.button("Start signing").clicked() {
                app.first_run.created = None;
                app.actions.push(Action::FinishSetup(View::Sign));
            }
        });
        return;
    }

    ui.label("Countersign signs your Atlassian apps so that your customers' UPM accepts them.");
    ui.label("First, a signing key. It is kept in this computer's keychain, never in a plain file.");
    ui.add_space(10.0);
    let fr = &mut app.first_run;
    widgets::field(ui, "Organisation", &mut fr.organisation, "e.g. Acme Software Ltd");
    widgets::field(ui, "Your name or team", &mut fr.signer, "e.g. Acme Support");
    ui.label(RichText::new("Both appear in the certificate your customers see.").small().weak());
    ui.add_space(8.0);
    if let Some(e) = &fr.error {
        widgets::banner(ui, Tone::Bad, e);
    }
    let ready = !fr.organisation.trim().is_empty() && !fr.signer.trim().is_empty() && !fr.working;
    let working = fr.working;
    let create = ui
        .horizontal(|ui| {
            let create =
                ui.add_enabled(ready, egui::Button::new("Create signing key and certificate")).clicked();
            if working {
                ui.spinner();
                ui.label("Making the key and certificate…");
            } else if !ready {
                ui.weak("Fill in both names first.");
            }
            create
        })
        .inner;
    if create {
        start(app, &ctx);
    }
    ui.add_space(16.0);
    ui.separator();
    if ui.button("I already have a key: import it").clicked() {
        app.actions.push(Action::FinishSetup(View::Keys));
    }
}

fn start(app: &mut App, ctx: &egui::Context) {
    let fr = &mut app.first_run;
    fr.working = true;
    fr.error = None;
    let organisation = fr.organisation.trim().to_owned();
    let signer = fr.signer.trim().to_owned();
    let store = app.store();
    let folder = app.config.documents.clone();
    app.worker.spawn(
        ctx,
        "making your first key",
        move || -> Result<Created, String> {
            let store = store?;
            let key_name = key_name_for(&organisation);
            let record = store.generate(&key_name, Algorithm::Ed25519).map_err(|e| e.to_string())?;
            let subject = Subject { common_name: signer, organization: Some(organisation), ..Subject::default() };
            let cert = store.self_sign(&record.name, &subject, FIRST_CERT_DAYS, widgets::now()).map_err(|e| e.to_string())?;
            std::fs::create_dir_all(&folder)
                .map_err(|e| format!("The key and certificate are made, but the folder {} could not be created ({e}). Save the certificate from the Certificates view.", folder.display()))?;
            let certificate_file = free_name(&folder, &record.file_stem());
            countersign::atomic::write_file(&certificate_file, cert.to_pem().as_bytes(), false)
                .map_err(|e| format!("The key and certificate are made, but the customer's copy could not be written: {e} Save it from the Certificates view."))?;
            Ok(Created { key_name: record.name, certificate_file, fingerprint: cert.fingerprint() })
        },
        |app, result| {
            app.first_run.working = false;
            match result {
                Ok(created) => app.first_run.created = Some(created),
                Err(e) => app.first_run.error = Some(e),
            }
            app.actions.push(Action::ReloadKeys);
        },
    );
}
