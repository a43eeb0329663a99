//! The Trust store view: a ready `upmconfig/truststore` package for a customer, and the
//! same checks of a trust-store folder as `countersign truststore check`.

use std::path::{Path, PathBuf};

use eframe::egui::{self, RichText};

use super::widgets::{self, Tone};
use super::{App, KeyRow};
use countersign::truststore::{self, Lint, Severity};

#[derive(Default)]
pub struct TrustStoreView {
    key: Option<String>,
    include_atlassian: bool,
    zip: bool,
    made: Option<PathBuf>,
    check_dir: String,
    lint: Option<Result<Lint, String>>,
}

/// `dir/name`, or `dir/name-2` and so on: a package never replaces anything.
fn free_path(dir: &Path, stem: &str, ext: &str) -> PathBuf {
    let path = |suffix: String| dir.join(format!("{stem}{suffix}{ext}"));
    std::iter::once(String::new())
        .chain((2..1000).map(|n| format!("-{n}")))
        .map(path)
        .find(|p| !p.exists())
        .unwrap_or_else(|| dir.join(format!("{stem}{ext}")))
}

pub fn draw(app: &mut App, ui: &mut egui::Ui) {
    let ctx = ui.ctx().clone();
    super::heading(ui, "Trust store");
    ui.label(
        "UPM trusts the certificates in the upmconfig/truststore folder of the product's (shared) home.",
    );
    ui.add_space(6.0);

    ui.label(RichText::new("Make a package for a customer").strong());
    let rows: Vec<KeyRow> =
        app.key_rows().iter().filter(|r| r.current_certificate().is_some()).cloned().collect();
    if rows.is_empty() {
        ui.weak("No key has a certificate yet (see the Certificates view).");
    } else {
        let tv = &mut app.trust;
        if tv.key.as_ref().is_none_or(|k| !rows.iter().any(|r| &r.record.name == k)) {
            tv.key = app
                .selected_key
                .clone()
                .filter(|k| rows.iter().any(|r| &r.record.name == k))
                .or_else(|| rows.first().map(|r| r.record.name.clone()));
        }
        ui.horizontal(|ui| {
            let l = ui.label("Certificate of key");
            egui::ComboBox::from_id_salt("trust-key")
                .selected_text(tv.key.clone().unwrap_or_default())
                .width(280.0)
                .show_ui(ui, |ui| {
                    for r in &rows {
                        ui.selectable_value(&mut tv.key, Some(r.record.name.clone()), &r.record.name);
                    }
                })
                .response
                .labelled_by(l.id);
        });
        ui.checkbox(&mut tv.include_atlassian, "Also include Atlassian's Marketplace CA certificates");
        ui.checkbox(&mut tv.zip, "As one .zip file");
        if ui.button("Make trust-store package…").clicked()
            && let Some(row) =
                tv.key.as_ref().and_then(|k| rows.iter().find(|r| &r.record.name == k)).cloned()
        {
            let desktop = app.config.desktop.clone();
            let (include, zip) = (tv.include_atlassian, tv.zip);
            app.worker.spawn(
                &ctx,
                "making a trust-store package",
                move || -> Result<Option<PathBuf>, String> {
                    let Some(dir) = desktop.pick_folder("Where should the package go?") else { return Ok(None) };
                    let stem = row.record.file_stem();
                    let out = free_path(&dir, &format!("{stem}-truststore"), if zip { ".zip" } else { "" });
                    let chain = row.chains.last().cloned().unwrap_or_default();
                    truststore::package(&chain, &stem, &out, include).map_err(|e| e.to_string())?;
                    Ok(Some(out))
                },
                |app, r| match r {
                    Ok(Some(p)) => {
                        app.actions.success(format!("Wrote the trust-store package {}. Send it to the customer; its instructions say where it goes.", p.display()));
                        app.trust.made = Some(p);
                    }
                    Ok(None) => {}
                    Err(e) => app.actions.failure(e),
                },
            );
        }
        if let Some(p) = &app.trust.made {
            ui.label(RichText::new(format!("Last package: {}", p.display())).small());
        }
    }
    ui.add_space(10.0);
    ui.separator();
    ui.label(RichText::new("Check a trust-store folder").strong());
    ui.horizontal(|ui| {
        let l = ui.label("Trust-store folder");
        ui.add(
            egui::TextEdit::singleline(&mut app.trust.check_dir)
                .hint_text("…/upmconfig/truststore")
                .desired_width(360.0),
        )
        .labelled_by(l.id);
        if ui.button("Choose trust-store folder…").clicked() {
            let desktop = app.config.desktop.clone();
            app.worker.spawn(
                &ctx,
                "choosing a folder",
                move || desktop.pick_folder("Choose a trust-store folder"),
                |app, p| {
                    if let Some(p) = p {
                        app.trust.check_dir = p.display().to_string();
                    }
                },
            );
        }
    });
    let dir = app.trust.check_dir.trim().to_owned();
    if ui.add_enabled(!dir.is_empty(), egui::Button::new("Check")).clicked() {
        app.worker.spawn(
            &ctx,
            "checking a trust store",
            move || truststore::check(Path::new(&dir), widgets::now(), None).map_err(|e| e.to_string()),
            |app, r| app.trust.lint = Some(r),
        );
    }
    match &app.trust.lint {
        None => {}
        Some(Err(e)) => widgets::banner(ui, Tone::Bad, e),
        Some(Ok(lint)) => {
            if lint.passed() {
                widgets::banner(
                    ui,
                    Tone::Good,
                    &format!(
                        "{}: {} certificate(s); UPM can use this trust store.",
                        lint.dir.display(),
                        lint.certificates
                    ),
                );
            } else {
                widgets::banner(
                    ui,
                    Tone::Bad,
                    &format!(
                        "{}: UPM will not work with this trust store as it is. See below.",
                        lint.dir.display()
                    ),
                );
            }
            for (name, present) in &lint.atlassian_cas {
                ui.label(format!(
                    "Atlassian CA {name}: {}",
                    if *present { "present" } else { "not present" }
                ));
            }
            for f in &lint.findings {
                let (mark, tone) = match f.severity {
                    Severity::Error => ("ERROR", Tone::Bad),
                    Severity::Warning => ("WARN", Tone::Warn),
                    _ => ("NOTE", Tone::Info),
                };
                let file = f.file.as_ref().map(|p| format!("{}: ", p.display())).unwrap_or_default();
                ui.label(
                    RichText::new(format!("{mark} {file}{}", f.message)).color(widgets::colour(ui, tone)),
                );
                if let Some(fix) = &f.fix {
                    ui.label(RichText::new(format!("    Fix: {fix}")).italics());
                }
            }
        }
    }
}
