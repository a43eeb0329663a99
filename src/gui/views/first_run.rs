//! First run: no key yet. Two names, one button: an Ed25519 key in the keychain, a
//! self-signed certificate, and the customer's copy of it in a folder the user can find.

use std::path::{Path, PathBuf};

use eframe::egui::{self, RichText};

use crate::gui::View;
use crate::gui::actions::Action;
use crate::gui::context::ViewContext;
use crate::gui::failure::Failure;
use crate::gui::widgets::{self, Tone};
use countersign::atomic::WriteError;
use countersign::certs::Subject;
use countersign::keys::Algorithm;

/// Results of the first run's job.
#[derive(Debug)]
pub enum Message {
    Made(Result<Created, SetupFailure>),
}

/// Why the first key and certificate could not be made, or their customer's copy not kept.
#[derive(Debug, thiserror::Error)]
pub enum SetupFailure {
    #[error(transparent)]
    Core(#[from] Failure),
    #[error("The key and certificate are made, but the folder {} could not be created ({source}). Save the certificate from the Certificates view.", .folder.display())]
    NoFolder { folder: PathBuf, source: std::io::Error },
    #[error(
        "The key and certificate are made, but the customer's copy could not be written: {0} Save it from the Certificates view."
    )]
    CustomerCopy(WriteError),
}

#[derive(Default)]
pub struct FirstRun {
    organisation: String,
    signer: String,
    working: bool,
    error: Option<SetupFailure>,
    created: Option<Created>,
}

#[derive(Debug)]
pub struct Created {
    key_name: String,
    certificate_file: PathBuf,
    fingerprint: String,
}

/// The key's name: the organisation's, made plain, so that bundles are named after it.
fn key_name_for(organisation: &str) -> String {
    let base: String = organisation.trim().chars().take(48).collect();
    format!("{} signing", base.trim())
}

impl FirstRun {
    pub(in crate::gui) fn in_progress(&self) -> bool {
        self.working || self.created.is_some()
    }

    /// Applies the finished job of the first run.
    pub(in crate::gui) fn apply(&mut self, message: Message, cx: &mut ViewContext) {
        match message {
            Message::Made(result) => {
                self.working = false;
                match result {
                    Ok(created) => self.created = Some(created),
                    Err(e) => self.error = Some(e),
                }
                cx.actions.push(Action::ReloadKeys);
            }
        }
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext) {
        ui.add_space(12.0);
        crate::gui::heading(ui, "Welcome to Countersign");
        if let Some(done) = &self.created {
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
            ui.label(
                RichText::new(format!("Certificate SHA-256 fingerprint: {}", done.fingerprint)).monospace(),
            );
            ui.label("Every bundle you sign carries a copy too, with instructions for the customer.");
            ui.add_space(8.0);
            let folder = done.certificate_file.parent().map(Path::to_path_buf);
            let start_signing = ui
                .horizontal(|ui| {
                    if ui.button("Open folder").clicked()
                        && let Some(folder) = folder
                    {
                        cx.actions.push(Action::OpenFolder(folder));
                    }
                    if ui.button("Copy path").clicked() {
                        ui.ctx().copy_text(path_text.clone());
                    }
                    ui.button("Start signing").clicked()
                })
                .inner;
            if start_signing {
                self.created = None;
                cx.actions.push(Action::FinishSetup(View::Sign));
            }
            return;
        }

        ui.label("Countersign signs your Atlassian apps so that your customers' UPM accepts them.");
        ui.label("First, a signing key. It is kept in this computer's keychain, never in a plain file.");
        ui.add_space(10.0);
        let first = widgets::field(ui, "Organisation", &mut self.organisation, "e.g. Acme Software Ltd");
        let second = widgets::field(ui, "Your name or team", &mut self.signer, "e.g. Acme Support");
        let entered =
            (first.lost_focus() || second.lost_focus()) && ui.input(|i| i.key_pressed(egui::Key::Enter));
        ui.weak("Both appear in the certificate your customers see.");
        ui.add_space(8.0);
        if let Some(e) = &self.error {
            widgets::banner(ui, Tone::Bad, &e.to_string());
        }
        let ready = !self.organisation.trim().is_empty() && !self.signer.trim().is_empty() && !self.working;
        let working = self.working;
        let create = ui
            .horizontal(|ui| {
                let create = widgets::primary(ui, ready, "Create signing key and certificate", || {
                    if working { "" } else { "Fill in both names first." }
                })
                .clicked();
                if working {
                    ui.spinner();
                    ui.label("Making the key and certificate…");
                }
                create
            })
            .inner;
        if create || (entered && ready) {
            self.start(cx);
        }
        ui.add_space(16.0);
        ui.separator();
        if ui.button("I already have a key: import it").clicked() {
            cx.actions.push(Action::FinishSetup(View::Keys));
        }
    }

    fn start(&mut self, cx: &mut ViewContext) {
        self.working = true;
        self.error = None;
        let organisation = self.organisation.trim().to_owned();
        let signer = self.signer.trim().to_owned();
        let store = cx.store();
        let folder = cx.config.documents.clone();
        cx.jobs.spawn("making your first key", move || {
            let make = || -> Result<Created, SetupFailure> {
                let store = store?;
                let key_name = key_name_for(&organisation);
                let record = store.generate(&key_name, Algorithm::Ed25519).map_err(Failure::from)?;
                let subject =
                    Subject { common_name: signer, organization: Some(organisation), ..Subject::default() };
                let cert = store
                    .self_sign(
                        &record.name,
                        &subject,
                        countersign::certs::DEFAULT_VALIDITY_DAYS,
                        widgets::now(),
                    )
                    .map_err(Failure::from)?;
                std::fs::create_dir_all(&folder)
                    .map_err(|source| SetupFailure::NoFolder { folder: folder.clone(), source })?;
                let certificate_file = countersign::atomic::free_name(&folder, &record.file_stem(), ".crt");
                countersign::atomic::write_file(&certificate_file, cert.to_pem().as_bytes(), false)
                    .map_err(SetupFailure::CustomerCopy)?;
                Ok(Created { key_name: record.name, certificate_file, fingerprint: cert.fingerprint() })
            };
            Message::Made(make())
        });
    }
}
