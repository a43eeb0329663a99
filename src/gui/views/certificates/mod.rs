//! The Certificates view: for one key, its certificates with their expiry, and making,
//! requesting, importing, renewing and saving them.

mod jobs;
mod list;

use std::path::PathBuf;

use eframe::egui::{self, RichText};

use crate::gui::KeyRow;
use crate::gui::actions::Action;
use crate::gui::context::ViewContext;
use crate::gui::desktop::DialogAnswer;
use crate::gui::failure::Failure;
use crate::gui::widgets::{self, DisabledBecause as _, PathField, Tone};
use countersign::certs::{self, Certificate, DEFAULT_VALIDITY_DAYS, MAX_VALIDITY_DAYS, Subject};

/// Results of the Certificates view's jobs.
#[derive(Debug)]
pub enum Message {
    /// A self-signed certificate was made (`renew`: for the subject of the current one).
    /// `stale_copy`: after a renewal, the customer's copy (for that key) that held the
    /// certificate renewed.
    Made { renew: bool, result: Result<Box<Certificate>, Failure>, stale_copy: Option<(String, PathBuf)> },
    /// A certificate request was written there (`None`: the save dialog was cancelled).
    RequestSaved(Result<Option<PathBuf>, Failure>),
    /// An issued certificate was kept with key `key` (`None`: the file dialog was cancelled).
    Imported(Result<Option<Imported>, Failure>),
    /// The certificate for customers was saved there (`None`: the save dialog was cancelled).
    CertificateSaved(Result<Option<PathBuf>, Failure>),
    /// A path field's dialog answered.
    PathChosen(PathFor, DialogAnswer),
    /// The customer's copy of the certificate was brought up to date after a renewal.
    CustomerCopyUpdated(Result<PathBuf, Failure>),
}

/// The path fields of the view.
#[derive(Debug, Clone, Copy)]
pub enum PathFor {
    Request,
    Issued,
    ForCustomers,
}

/// A certificate chain kept with a key, signer first.
#[derive(Debug)]
pub struct Imported {
    key: String,
    chain: Vec<Certificate>,
}

pub struct CertificatesView {
    /// The key the fields below were filled for.
    filled_for: Option<String>,
    common_name: String,
    organisation: String,
    days: String,
    request_path: PathField,
    issued_path: PathField,
    customer_path: PathField,
    /// The key whose renewal waits for the person to confirm it.
    confirm_renew: Option<String>,
    /// After a renewal: the customer's copy the first run wrote, which still holds the old
    /// certificate, and the key it belongs to.
    stale_copy: Option<(String, PathBuf)>,
}

impl Default for CertificatesView {
    fn default() -> Self {
        CertificatesView {
            filled_for: None,
            common_name: String::new(),
            organisation: String::new(),
            days: DEFAULT_VALIDITY_DAYS.to_string(),
            request_path: PathField::default(),
            issued_path: PathField::default(),
            customer_path: PathField::default(),
            confirm_renew: None,
            stale_copy: None,
        }
    }
}

impl CertificatesView {
    /// Applies a finished job of this view.
    pub(in crate::gui) fn apply(&mut self, message: Message, cx: &mut ViewContext) {
        let actions = &mut *cx.actions;
        match message {
            Message::Made { renew, result, stale_copy } => {
                actions.push(Action::ReloadKeys);
                match result {
                    Ok(c) if renew => {
                        if stale_copy.is_some() {
                            self.stale_copy = stale_copy;
                        }
                        actions.success(format!(
                            "Renewed: {}, valid until {}. Bundles signed from now on carry it; customers need it in UPM's trust store before the old one expires.",
                            c.subject(),
                            certs::day(c.not_after())
                        ));
                    }
                    Ok(c) => actions.success(format!(
                        "Made a self-signed certificate: {}, valid until {}. It goes into every bundle signed with this key; customers who trust the old one need the new one before it expires.",
                        c.subject(),
                        certs::day(c.not_after())
                    )),
                    Err(e) => actions.failed(&e),
                }
            }
            Message::RequestSaved(result) => match result {
                Ok(Some(p)) => {
                    self.request_path.clear();
                    actions.success(format!("Wrote the certificate request to {}. Send it to your CA; when the certificate comes back, import it here.", p.display()));
                }
                Ok(None) => {}
                Err(Failure::NoDialog(e)) => self.request_path.no_dialog(&e),
                Err(e) => actions.failed(&e),
            },
            Message::PathChosen(which, answer) => self.path_field(which).chosen(answer),
            Message::CustomerCopyUpdated(result) => match result {
                Ok(p) => {
                    self.stale_copy = None;
                    actions.success(format!("{} now holds the renewed certificate: send it to your customers.", p.display()));
                }
                Err(e) => actions.failed(&e),
            },
            Message::Imported(result) => {
                actions.push(Action::ReloadKeys);
                match result {
                    Ok(Some(Imported { key, chain })) => {
                        self.issued_path.clear();
                        let Some(signer) = chain.first() else { return };
                        actions.success(format!(
                            "Kept {} (valid until {}) with key \"{key}\"{}.",
                            signer.subject(),
                            certs::day(signer.not_after()),
                            if chain.len() > 1 {
                                format!(", with {} issuer certificate(s)", chain.len() - 1)
                            } else {
                                String::new()
                            }
                        ));
                    }
                    Ok(None) => {}
                    Err(Failure::NoDialog(e)) => self.issued_path.no_dialog(&e),
                    Err(e) => actions.failed(&e),
                }
            }
            Message::CertificateSaved(result) => match result {
                Err(Failure::NoDialog(e)) => self.customer_path.no_dialog(&e),
                Ok(Some(p)) => actions.success(format!("Saved the certificate to {}. Customers put it in UPM's trust store (the Trust store view makes a ready package).", p.display())),
                Ok(None) => {}
                Err(e) => actions.failed(&e),
            },
        }
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext) {
        crate::gui::heading(ui, "Certificates");
        let Some(row) = Self::key_picker(ui, cx) else {
            return;
        };
        ui.add_space(6.0);
        if let Some(fingerprint) = Self::certificate_list(ui, &row) {
            ui.ctx().copy_text(fingerprint);
            cx.actions.success("Copied the certificate's SHA-256 fingerprint.");
        }
        ui.add_space(8.0);
        self.make_or_renew_section(ui, cx, &row);
        ui.add_space(8.0);
        self.authority_section(ui, cx, &row);
        ui.add_space(8.0);
        self.save_for_customers_section(ui, cx, &row);
    }

    fn path_field(&mut self, which: PathFor) -> &mut PathField {
        match which {
            PathFor::Request => &mut self.request_path,
            PathFor::Issued => &mut self.issued_path,
            PathFor::ForCustomers => &mut self.customer_path,
        }
    }

    /// Draws one path field of the view; its dialog button asks `dialog`.
    fn path_row(
        &mut self,
        ui: &mut egui::Ui,
        cx: &mut ViewContext,
        which: PathFor,
        (label, hint, button): (&str, &str, &str),
        dialog: impl FnOnce(&crate::gui::Dialogs) -> DialogAnswer + Send + 'static,
    ) {
        let events = self.path_field(which).ui(ui, label, hint, button);
        match which {
            PathFor::Issued => self.path_field(which).warn_if_missing(ui),
            PathFor::Request | PathFor::ForCustomers => self.path_field(which).warn_if_taken(ui),
        }
        if events.browse {
            let dialogs = cx.dialogs();
            cx.jobs.spawn("choosing a file", move || Message::PathChosen(which, dialog(&dialogs)));
        }
    }

    /// The subject the fields describe.
    fn subject(&self) -> Subject {
        Subject {
            common_name: self.common_name.trim().to_owned(),
            organization: Some(self.organisation.trim().to_owned()).filter(|o| !o.is_empty()),
            ..Subject::default()
        }
    }

    /// Draws the "Make or renew" section: the subject and validity fields and their buttons.
    fn make_or_renew_section(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext, row: &KeyRow) {
        let name = row.record.name.clone();
        if self.filled_for.as_ref() != Some(&name) {
            // Another key: start from its current certificate's subject.
            let fields = row.current_certificate().map(|c| c.subject_fields());
            self.common_name = fields.as_ref().map(|f| f.common_name.clone()).unwrap_or_else(|| name.clone());
            self.organisation = fields.and_then(|f| f.organization).unwrap_or_default();
            self.filled_for = Some(name.clone());
        }
        widgets::section(ui, "Make or renew");
        widgets::field(ui, "Common name", &mut self.common_name, "Acme Support");
        widgets::field(ui, "Organisation", &mut self.organisation, "Acme Software Ltd");
        widgets::field(ui, "Valid for (days)", &mut self.days, &DEFAULT_VALIDITY_DAYS.to_string());
        let days: Option<u32> = self.days.trim().parse().ok().filter(|d| (1..=MAX_VALIDITY_DAYS).contains(d));
        if days.is_none() {
            ui.label(
                RichText::new(format!(
                    "Give the validity as a number of days from 1 to {MAX_VALIDITY_DAYS}."
                ))
                .color(widgets::colour(ui, Tone::Bad)),
            );
        }
        let subject = self.subject();
        let current = row.current_certificate().cloned();
        if current.is_some() {
            ui.weak("Renew keeps the key and the subject: use it when the certificate nears its end. A new self-signed certificate changes what customers pin: each of them must add it to UPM's trust store before bundles signed under it install.");
        }
        ui.horizontal(|ui| {
            let ok = days.is_some() && !subject.common_name.is_empty();
            let why_not = if days.is_none() {
                "Give the validity in days first."
            } else {
                "Give the common name first."
            };
            if ui
                .add_enabled(ok, egui::Button::new("Make self-signed certificate"))
                .disabled_because(why_not)
                .clicked()
            {
                Self::self_sign(
                    cx,
                    &name,
                    Some(subject.clone()),
                    days.unwrap_or(DEFAULT_VALIDITY_DAYS),
                    None,
                );
            }
            if ui
                .add_enabled(days.is_some() && current.is_some(), egui::Button::new("Renew…"))
                .on_hover_text(
                    "A new certificate for the same key and subject; signatures made before stay valid",
                )
                .disabled_because(if current.is_none() {
                    "There is no certificate to renew yet: make one first."
                } else {
                    "Give the validity in days first."
                })
                .clicked()
            {
                self.confirm_renew = Some(name.clone());
            }
        });
        if let Some(cert) = current.filter(|_| self.confirm_renew.as_ref() == Some(&name)) {
            self.renew_confirmation(ui, cx, row, &cert, days.unwrap_or(DEFAULT_VALIDITY_DAYS));
        }
        self.stale_copy_offer(ui, cx, row);
    }

    /// Asks before renewing, saying what it means for customers.
    fn renew_confirmation(
        &mut self,
        ui: &mut egui::Ui,
        cx: &mut ViewContext,
        row: &KeyRow,
        current: &Certificate,
        days: u32,
    ) {
        let (_, left) = widgets::validity(Some(current.validity_at(widgets::now())));
        widgets::banner(
            ui,
            Tone::Warn,
            &format!(
                "Renew the certificate of \"{}\"? The current one is {left}. The new one is valid for {days} days, for the same key and subject. Apps signed before stay valid, but bundles signed from now on carry the new certificate: every customer must add it to UPM's trust store, or UPM refuses those bundles.",
                row.record.name
            ),
        );
        ui.horizontal(|ui| {
            if widgets::primary(ui, true, "Renew now", || "").clicked() {
                self.confirm_renew = None;
                // Same key and subject as the current certificate: the core's renewal. The job
                // also looks whether the customer's copy the first run wrote holds the old one.
                let copy = cx.config.documents.join(format!("{}.crt", row.record.file_stem()));
                Self::self_sign(cx, &row.record.name, None, days, Some((copy, current.clone())));
            }
            if ui.button("Cancel").clicked() {
                self.confirm_renew = None;
            }
        });
    }

    /// After a renewal, offers to rewrite the customer's copy that still holds the old one.
    fn stale_copy_offer(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext, row: &KeyRow) {
        let Some((key, copy)) = self.stale_copy.clone() else { return };
        if key != row.record.name {
            return;
        }
        let Some(chain) = row.chains.last().cloned() else { return };
        widgets::banner(
            ui,
            Tone::Warn,
            &format!("The customer's copy {} still holds the old certificate.", copy.display()),
        );
        ui.horizontal(|ui| {
            if ui.button("Update the customer's copy").clicked() {
                cx.jobs.spawn("updating the customer's copy", move || {
                    let pem: String = chain.iter().map(Certificate::to_pem).collect();
                    // Countersign wrote this file, and the person asked to replace it.
                    let written = countersign::atomic::write_file(&copy, pem.as_bytes(), true);
                    Message::CustomerCopyUpdated(written.map(|()| copy).map_err(Failure::from))
                });
            }
            if ui.button("Keep it").clicked() {
                self.stale_copy = None;
            }
        });
    }

    /// Draws the "With a certificate authority" section: saving a request, importing the answer.
    fn authority_section(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext, row: &KeyRow) {
        let subject = self.subject();
        widgets::section(ui, "With a certificate authority");
        let suggested = format!("{}.csr", row.record.file_stem());
        self.path_row(
            ui,
            cx,
            PathFor::Request,
            ("Request file", "empty: choose in a dialog when saving", "Choose where to save the request…"),
            move |d| d.save("Save the certificate request", &suggested),
        );
        if ui
            .add_enabled(
                !subject.common_name.is_empty(),
                egui::Button::new("Save certificate request (CSR)…"),
            )
            .disabled_because("Give the common name above first.")
            .clicked()
        {
            self.save_request(cx, row, subject.clone());
        }
        ui.add_space(4.0);
        self.path_row(
            ui,
            cx,
            PathFor::Issued,
            ("Issued certificate", "the .crt or .pem your CA sent", "Choose issued certificate…"),
            |d| d.open_file("Choose the certificate your CA issued", &["crt", "pem", "cer", "der"]),
        );
        if ui.button("Import issued certificate…").clicked() {
            self.import(cx, &row.record.name);
        }
    }

    /// Draws the field and button that save the current certificate for customers, if there
    /// is one.
    fn save_for_customers_section(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext, row: &KeyRow) {
        let Some(chain) = row.chains.last().cloned() else { return };
        widgets::section(ui, "For customers");
        let suggested = format!("{}.crt", row.record.file_stem());
        self.path_row(
            ui,
            cx,
            PathFor::ForCustomers,
            (
                "Certificate file",
                "empty: choose in a dialog when saving",
                "Choose where to save the certificate…",
            ),
            move |d| d.save("Save the certificate for customers", &suggested),
        );
        if ui
            .button("Save certificate for customers…")
            .on_hover_text("The .crt your customers put in UPM's trust store")
            .clicked()
        {
            self.save_certificate(cx, row, chain);
        }
    }
}
