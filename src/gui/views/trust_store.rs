//! The Trust store view: a ready `upmconfig/truststore` package for a customer, and the
//! same checks of a trust-store folder as `countersign truststore check`.

use std::path::PathBuf;

use eframe::egui::{self, RichText};

use crate::gui::KeyRow;
use crate::gui::context::ViewContext;
use crate::gui::desktop::DialogAnswer;
use crate::gui::failure::Failure;
use crate::gui::widgets::{self, PathField, Tone};
use countersign::truststore::{self, Lint, Presence, Severity, TrustStore};

/// Results of the Trust store view's jobs.
#[derive(Debug)]
pub enum Message {
    /// A package was written there (`None`: the folder dialog was cancelled).
    Packaged(Result<Option<PathBuf>, Failure>),
    /// A path field's dialog answered.
    PathChosen(PathFor, DialogAnswer),
    Checked(Result<Checked, Failure>),
}

/// The path fields of the view.
#[derive(Debug, Clone, Copy)]
pub enum PathFor {
    /// Where the package goes.
    Package,
    /// The trust-store folder to check.
    Check,
}

/// A checked trust-store folder, and whether the chosen key's current certificate is in it.
#[derive(Debug)]
pub struct Checked {
    lint: Lint,
    /// The key asked about and what the folder holds of its current certificate.
    mine: Option<(String, Presence)>,
}

#[derive(Default)]
pub struct TrustStoreView {
    key: Option<String>,
    include_atlassian: bool,
    zip: bool,
    made: Option<PathBuf>,
    package_dir: PathField,
    check_dir: PathField,
    lint: Option<Result<Checked, Failure>>,
}

impl TrustStoreView {
    /// Applies a finished job of this view.
    pub(in crate::gui) fn apply(&mut self, message: Message, cx: &mut ViewContext) {
        match message {
            Message::Packaged(result) => match result {
                Ok(Some(p)) => {
                    cx.actions.success(format!("Wrote the trust-store package {}. Send it to the customer; its instructions say where it goes.", p.display()));
                    self.made = Some(p);
                }
                Ok(None) => {}
                Err(Failure::NoDialog(e)) => self.package_dir.no_dialog(&e),
                Err(e) => cx.actions.failed(&e),
            },
            Message::PathChosen(which, answer) => {
                if let PathFor::Check = which {
                    // The result was for the folder checked before.
                    self.lint = None;
                }
                self.path_field(which).chosen(answer);
            }
            Message::Checked(result) => self.lint = Some(result),
        }
    }

    fn path_field(&mut self, which: PathFor) -> &mut PathField {
        match which {
            PathFor::Package => &mut self.package_dir,
            PathFor::Check => &mut self.check_dir,
        }
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext) {
        crate::gui::heading(ui, "Trust store");
        ui.label(
            "UPM trusts the certificates in the upmconfig/truststore folder of the product's (shared) home.",
        );
        ui.add_space(6.0);
        self.package_section(ui, cx);
        self.check_section(ui, cx);
    }

    /// Draws the "Make a package for a customer" section: the key picker, options and button.
    fn package_section(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext) {
        widgets::section(ui, "Make a package for a customer");
        ui.label("The package holds your certificate and the steps for the customer's administrator: where it goes in UPM's trust store on Linux, Docker, Kubernetes or Windows. Send it once; after that every app you sign installs.");
        let rows: Vec<KeyRow> =
            cx.keys.iter().filter(|r| r.current_certificate().is_some()).cloned().collect();
        if rows.is_empty() {
            if cx.keys_loading {
                ui.add(egui::Spinner::new());
            } else {
                ui.weak("No key has a certificate yet (see the Certificates view).");
            }
            return;
        }
        if self.key.as_ref().is_none_or(|k| !rows.iter().any(|r| &r.record.name == k)) {
            self.key = cx
                .selected_key
                .map(str::to_owned)
                .filter(|k| rows.iter().any(|r| &r.record.name == k))
                .or_else(|| rows.first().map(|r| r.record.name.clone()));
        }
        ui.horizontal(|ui| {
            let l = ui.label("Certificate of key");
            let picker = egui::ComboBox::from_id_salt("trust-key")
                .selected_text(self.key.clone().unwrap_or_default())
                .width(280.0)
                .show_ui(ui, |ui| {
                    for r in &rows {
                        ui.selectable_value(&mut self.key, Some(r.record.name.clone()), &r.record.name);
                    }
                })
                .response
                .labelled_by(l.id);
            widgets::first_control(ui, &picker);
        });
        ui.checkbox(&mut self.include_atlassian, "Also include Atlassian's Marketplace CA certificates");
        ui.checkbox(&mut self.zip, "As one .zip file");
        if self
            .package_dir
            .ui(ui, "Package folder", "empty: choose in a dialog", "Choose package folder…")
            .browse
        {
            let dialogs = cx.dialogs();
            cx.jobs.spawn("choosing a folder", move || {
                Message::PathChosen(PathFor::Package, dialogs.folder("Where should the package go?"))
            });
        }
        if ui.button("Make trust-store package…").clicked()
            && let Some(row) =
                self.key.as_ref().and_then(|k| rows.iter().find(|r| &r.record.name == k)).cloned()
        {
            Self::make_package(cx, row, self.package_dir.path(), self.include_atlassian, self.zip);
        }
        if let Some(p) = &self.made {
            ui.label(RichText::new(format!("Last package: {}", p.display())).small());
        }
    }

    /// Starts the job that asks for a folder and writes the trust-store package for `row` there.
    fn make_package(cx: &mut ViewContext, row: KeyRow, typed: Option<PathBuf>, include: bool, zip: bool) {
        let dialogs = cx.dialogs();
        cx.jobs.spawn("making a trust-store package", move || {
            let make = || -> Result<Option<PathBuf>, Failure> {
                let Some(dir) = dialogs.folder_target(typed, "Where should the package go?")? else {
                    return Ok(None);
                };
                let stem = row.record.file_stem();
                let out = countersign::atomic::free_name(
                    &dir,
                    &format!("{stem}-truststore"),
                    if zip { ".zip" } else { "" },
                );
                let chain = row.chains.last().cloned().unwrap_or_default();
                truststore::package(&chain, &stem, &out, include)?;
                Ok(Some(out))
            };
            Message::Packaged(make())
        });
    }

    /// Draws the "Check a trust-store folder" section: the folder, the button and the result.
    fn check_section(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext) {
        widgets::section(ui, "Check a trust-store folder");
        ui.label("Is a customer's trust store ready for your apps? Give its folder (upmconfig/truststore in the product's home), or a copy of it.");
        let events = self.check_dir.ui(
            ui,
            "Trust-store folder",
            "…/upmconfig/truststore",
            "Choose trust-store folder…",
        );
        self.check_dir.warn_if_missing(ui);
        if events.browse {
            let dialogs = cx.dialogs();
            cx.jobs.spawn("choosing a folder", move || {
                Message::PathChosen(
                    PathFor::Check,
                    dialogs.folder("Choose the customer's trust-store folder"),
                )
            });
        }
        if events.changed {
            self.lint = None;
        }
        let dir = self.check_dir.path().unwrap_or_default();
        let ready = !dir.as_os_str().is_empty();
        let check = widgets::primary(ui, ready, "Check", || "Type or choose a trust-store folder first.");
        if check.clicked() || (events.submitted && ready) {
            // The key chosen above: is its current certificate what the customer has?
            let current = self
                .key
                .as_deref()
                .and_then(|k| cx.key(k))
                .and_then(|row| row.current_certificate().cloned().map(|c| (row.record.name.clone(), c)));
            cx.jobs.spawn("checking a trust store", move || {
                let check = || -> Result<Checked, Failure> {
                    let store = TrustStore::load(&dir)?;
                    let lint = truststore::check_store(&store, widgets::now(), None);
                    let mine = current.map(|(key, cert)| (key, truststore::presence(&store, &cert)));
                    Ok(Checked { lint, mine })
                };
                Message::Checked(check())
            });
        }
        match &self.lint {
            None => {}
            Some(Err(e)) => widgets::banner(ui, Tone::Bad, &e.to_string()),
            Some(Ok(checked)) => Self::lint_report(ui, &checked.lint, checked.mine.as_ref()),
        }
    }

    /// The line that says whether the user's own current certificate is in the folder.
    fn mine_line(ui: &mut egui::Ui, key: &str, presence: &Presence) {
        let (tone, text) = match presence {
            Presence::Present { file } => (Tone::Good, format!("present ({})", file.display())),
            Presence::Missing => (
                Tone::Bad,
                "missing: apps you sign now will not install there until it is added (make a package above)"
                    .to_owned(),
            ),
            Presence::Older(r) => (
                Tone::Warn,
                format!(
                    "an older one ({}, valid until {}): add the current one beside it, or bundles signed now are refused",
                    r.file.display(),
                    r.not_after.get(..10).unwrap_or(&r.not_after)
                ),
            ),
            Presence::Newer(r) => (
                Tone::Warn,
                format!("a newer one than this key's current certificate ({})", r.file.display()),
            ),
        };
        ui.label(
            RichText::new(format!("Your current certificate (key \"{key}\"): {text}"))
                .color(widgets::colour(ui, tone)),
        );
    }

    /// Draws the result of a trust-store check: the Atlassian CAs and the findings, then the
    /// verdict they add up to (after them, so that it is read with them).
    fn lint_report(ui: &mut egui::Ui, lint: &Lint, mine: Option<&(String, Presence)>) {
        for (name, present) in &lint.atlassian_cas {
            ui.label(format!("Atlassian CA {name}: {}", if *present { "present" } else { "not present" }));
        }
        for f in &lint.findings {
            let (mark, tone) = match f.severity {
                Severity::Error => ("ERROR", Tone::Bad),
                Severity::Warning => ("WARN", Tone::Warn),
            };
            let file = f.file.as_ref().map(|p| format!("{}: ", p.display())).unwrap_or_default();
            ui.label(RichText::new(format!("{mark} {file}{}", f.message)).color(widgets::colour(ui, tone)));
            if let Some(fix) = &f.fix {
                let how = f
                    .remedy
                    .and_then(crate::gui::failure::for_remedy)
                    .map(|h| format!(" {h}"))
                    .unwrap_or_default();
                ui.label(RichText::new(format!("    Fix: {fix}{how}")).italics());
            }
        }
        if let Some((key, presence)) = mine {
            Self::mine_line(ui, key, presence);
        }
        ui.add_space(4.0);
        let warnings = lint.findings.iter().filter(|f| f.severity == Severity::Warning).count();
        let (tone, verdict) = match (lint.passed(), warnings) {
            (false, _) => (
                Tone::Bad,
                "UPM will not work with this trust store as it is: fix the errors above.".to_owned(),
            ),
            (true, 0) => {
                (Tone::Good, format!("UPM can use this trust store ({} certificate(s)).", lint.certificates))
            }
            (true, n) => (
                Tone::Warn,
                format!(
                    "UPM can use this trust store ({} certificate(s)), but read the {n} warning(s) above.",
                    lint.certificates
                ),
            ),
        };
        widgets::banner(ui, tone, &format!("{}: {verdict}", lint.dir.display()));
    }
}
