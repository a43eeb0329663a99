//! The Certificates view: for one key, its certificates with their expiry, and making,
//! requesting, importing, renewing and saving them.

use std::path::PathBuf;

use eframe::egui::{self, RichText};

use super::actions::Action;
use super::widgets::{self, Tone};
use super::{App, KeyRow};
use countersign::bundle::CertificateInput;
use countersign::certs::{self, Certificate, Subject};

pub struct CertificatesView {
    /// The key the fields below were filled for.
    filled_for: Option<String>,
    common_name: String,
    organisation: String,
    days: String,
}

impl Default for CertificatesView {
    fn default() -> Self {
        CertificatesView {
            filled_for: None,
            common_name: String::new(),
            organisation: String::new(),
            days: "730".into(),
        }
    }
}

pub fn draw(app: &mut App, ui: &mut egui::Ui) {
    let ctx = ui.ctx().clone();
    super::heading(ui, "Certificates");
    let rows: Vec<KeyRow> = app.key_rows().to_vec();
    if rows.is_empty() {
        ui.label("There is no key yet. Make one in the Keys view first.");
        return;
    }
    ui.horizontal(|ui| {
        let l = ui.label("Key");
        egui::ComboBox::from_id_salt("cert-key")
            .selected_text(app.selected_key.clone().unwrap_or_default())
            .width(280.0)
            .show_ui(ui, |ui| {
                for r in &rows {
                    ui.selectable_value(&mut app.selected_key, Some(r.record.name.clone()), &r.record.name);
                }
            })
            .response
            .labelled_by(l.id);
    });
    let Some(row) = app.selected_key.clone().and_then(|n| rows.iter().find(|r| r.record.name == n).cloned())
    else {
        return;
    };
    let name = row.record.name.clone();
    ui.add_space(6.0);

    let now = widgets::now();
    if row.chains.is_empty() {
        widgets::banner(
            ui,
            Tone::Warn,
            &format!(
                "Key \"{name}\" has no certificate yet. Make a self-signed one below, or request one from your CA."
            ),
        );
    }
    for (i, chain) in row.chains.iter().enumerate().rev() {
        let Some(cert) = chain.first() else { continue };
        let current = i + 1 == row.chains.len();
        egui::Frame::group(ui.style()).inner_margin(8.0).show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.horizontal(|ui| {
                ui.label(RichText::new(cert.subject()).strong());
                if current {
                    widgets::badge(ui, Tone::Info, "current");
                }
                let (tone, text) = widgets::validity(Some(cert.validity_at(now)));
                widgets::badge(ui, tone, &text);
            });
            egui::Grid::new(("cert", i)).num_columns(2).show(ui, |ui| {
                widgets::row(
                    ui,
                    "Issuer",
                    &if cert.is_self_issued() { "itself (self-signed)".to_owned() } else { cert.issuer() },
                );
                widgets::row(ui, "Valid from", &certs::day(cert.not_before()));
                widgets::row(ui, "Valid until", &certs::day(cert.not_after()));
                widgets::row(ui, "SHA-256", &cert.fingerprint());
                widgets::row(ui, "Serial", &cert.serial_hex());
                if chain.len() > 1 {
                    widgets::row(
                        ui,
                        "Chain",
                        &format!("{} issuer certificate(s) kept with it", chain.len() - 1),
                    );
                }
            });
        });
    }
    ui.add_space(8.0);

    let cv = &mut app.certs_view;
    if cv.filled_for.as_ref() != Some(&name) {
        // Another key: start from its current certificate's subject.
        let fields = row.current_certificate().map(|c| c.subject_fields());
        cv.common_name = fields.as_ref().map(|f| f.common_name.clone()).unwrap_or_else(|| name.clone());
        cv.organisation = fields.and_then(|f| f.organization).unwrap_or_default();
        cv.filled_for = Some(name.clone());
    }
    ui.label(RichText::new("Make or renew").strong());
    widgets::field(ui, "Common name", &mut cv.common_name, "Acme Support");
    widgets::field(ui, "Organisation", &mut cv.organisation, "Acme Software Ltd");
    widgets::field(ui, "Valid for (days)", &mut cv.days, "730");
    let days: Option<u32> = cv.days.trim().parse().ok().filter(|d| (1..=3650).contains(d));
    if days.is_none() {
        ui.label(
            RichText::new("Give the validity as a number of days from 1 to 3650.")
                .color(widgets::colour(ui, Tone::Bad)),
        );
    }
    let subject = Subject {
        common_name: cv.common_name.trim().to_owned(),
        organization: Some(cv.organisation.trim().to_owned()).filter(|o| !o.is_empty()),
        ..Subject::default()
    };
    let current = row.current_certificate().cloned();
    ui.horizontal(|ui| {
        let ok = days.is_some() && !subject.common_name.is_empty();
        if ui.add_enabled(ok, egui::Button::new("Make self-signed certificate")).clicked() {
            self_sign(app, &ctx, &name, subject.clone(), days.unwrap_or(730), false);
        }
        if ui
            .add_enabled(days.is_some() && current.is_some(), egui::Button::new("Renew"))
            .on_hover_text(
                "A new certificate for the same key and subject; signatures made before stay valid",
            )
            .clicked()
            && let Some(c) = &current
        {
            self_sign(app, &ctx, &name, c.subject_fields(), days.unwrap_or(730), true);
        }
    });
    ui.add_space(8.0);
    ui.label(RichText::new("With a certificate authority").strong());
    ui.horizontal(|ui| {
        if ui
            .add_enabled(
                !subject.common_name.is_empty(),
                egui::Button::new("Save certificate request (CSR)…"),
            )
            .clicked()
        {
            save_request(app, &ctx, &row, subject.clone());
        }
        if ui.button("Import issued certificate…").clicked() {
            import(app, &ctx, &name);
        }
    });
    ui.add_space(8.0);
    if let Some(chain) = row.chains.last().cloned()
        && ui
            .button("Save certificate for customers…")
            .on_hover_text("The .crt your customers put in UPM's trust store")
            .clicked()
    {
        save_certificate(app, &ctx, &row, chain);
    }
}

fn self_sign(app: &mut App, ctx: &egui::Context, name: &str, subject: Subject, days: u32, renew: bool) {
    let store = app.store();
    let key = name.to_owned();
    app.worker.spawn(
        ctx,
        "making a certificate",
        move || store.and_then(|s| s.self_sign(&key, &subject, days, widgets::now()).map_err(|e| e.to_string())),
        move |app, result| {
            app.actions.push(Action::ReloadKeys);
            app.actions.report(result.map(|c| {
                format!(
                    "{} certificate: {}, valid until {}. It goes into every bundle signed with this key; customers who trust the old one need the new one before it expires.",
                    if renew { "Renewed the" } else { "Made a self-signed" },
                    c.subject(),
                    certs::day(c.not_after())
                )
            }));
        },
    );
}

fn save_request(app: &mut App, ctx: &egui::Context, row: &KeyRow, subject: Subject) {
    let store = app.store();
    let desktop = app.config.desktop.clone();
    let name = row.record.name.clone();
    let suggested = format!("{}.csr", row.record.file_stem());
    app.worker.spawn(
        ctx,
        "writing a certificate request",
        move || -> Result<Option<PathBuf>, String> {
            let Some(path) = desktop.save_file("Save the certificate request", &suggested) else { return Ok(None) };
            let (_, key) = store?.load(&name).map_err(|e| e.to_string())?;
            let csr = certs::signing_request(&key, &subject).map_err(|e| e.to_string())?;
            countersign::atomic::write_file(&path, csr.as_bytes(), true).map_err(|e| e.to_string())?;
            Ok(Some(path))
        },
        |app, result| match result {
            Ok(Some(p)) => app.actions.success(format!("Wrote the certificate request to {}. Send it to your CA; when the certificate comes back, import it here.", p.display())),
            Ok(None) => {}
            Err(e) => app.actions.failure(e),
        },
    );
}

fn import(app: &mut App, ctx: &egui::Context, name: &str) {
    let store = app.store();
    let desktop = app.config.desktop.clone();
    let key = name.to_owned();
    app.worker.spawn(
        ctx,
        "importing a certificate",
        move || -> Result<Option<String>, String> {
            let Some(path) =
                desktop.pick_file("Choose the certificate your CA issued", &["crt", "pem", "cer", "der"])
            else {
                return Ok(None);
            };
            let input = CertificateInput::from_file(&path).map_err(|e| e.to_string())?;
            store?.add_certificate(&key, &input.chain).map_err(|e| e.to_string())?;
            let signer = &input.chain[0];
            Ok(Some(format!(
                "Kept {} (valid until {}) with key \"{key}\"{}.",
                signer.subject(),
                certs::day(signer.not_after()),
                if input.chain.len() > 1 {
                    format!(", with {} issuer certificate(s)", input.chain.len() - 1)
                } else {
                    String::new()
                }
            )))
        },
        |app, result| {
            app.actions.push(Action::ReloadKeys);
            match result {
                Ok(Some(text)) => app.actions.success(text),
                Ok(None) => {}
                Err(e) => app.actions.failure(e),
            }
        },
    );
}

fn save_certificate(app: &mut App, ctx: &egui::Context, row: &KeyRow, chain: Vec<Certificate>) {
    let desktop = app.config.desktop.clone();
    let suggested = format!("{}.crt", row.record.file_stem());
    app.worker.spawn(
        ctx,
        "saving a certificate",
        move || -> Result<Option<PathBuf>, String> {
            let Some(path) = desktop.save_file("Save the certificate for customers", &suggested) else { return Ok(None) };
            let pem: String = chain.iter().map(Certificate::to_pem).collect();
            countersign::atomic::write_file(&path, pem.as_bytes(), true).map_err(|e| e.to_string())?;
            Ok(Some(path))
        },
        |app, result| match result {
            Ok(Some(p)) => app.actions.success(format!("Saved the certificate to {}. Customers put it in UPM's trust store (the Trust store view makes a ready package).", p.display())),
            Ok(None) => {}
            Err(e) => app.actions.failure(e),
        },
    );
}
