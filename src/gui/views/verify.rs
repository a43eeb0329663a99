//! The Verify view: a bundle, or an app with its `.sig`, checked the way UPM will, one line
//! per check with the reason and the fix.

use std::path::PathBuf;

use eframe::egui::{self, RichText};

use crate::gui::Dialogs;
use crate::gui::context::ViewContext;
use crate::gui::desktop::DialogAnswer;
use crate::gui::failure::Failure;
use crate::gui::widgets::{self, PathEvents, PathField, Tone};
use countersign::bundle::{self, Outcome, Report, Verdict, VerifyTarget};
use countersign::progress::Progress;
use countersign::truststore::TrustStore;

/// Results of the Verify view's jobs.
#[derive(Debug)]
pub enum Message {
    /// A path field's dialog answered.
    PathChosen(PathFor, DialogAnswer),
    Checked(Result<Box<Report>, Failure>),
}

/// The path fields of the view: the thing to check, and the fields beside it.
#[derive(Debug, Clone, Copy)]
pub enum PathFor {
    /// The bundle (folder or zip) or the app to check.
    Target,
    Signature,
    Certificate,
    TrustStore,
}

impl PathFor {
    /// Shows the field's dialog (on a job's thread). The target's is for a file; the button
    /// beside it asks for a bundle folder instead.
    fn ask(self, dialogs: &Dialogs) -> DialogAnswer {
        match self {
            PathFor::Target => dialogs.open_file("Choose a bundle .zip or an app", &["zip", "jar", "obr"]),
            PathFor::Signature => dialogs.open_file("Choose the app's signature", &["sig"]),
            PathFor::Certificate => {
                dialogs.open_file("Choose the signer's certificate", &["crt", "pem", "cer"])
            }
            PathFor::TrustStore => dialogs.folder("Choose the customer's trust-store folder"),
        }
    }
}

#[derive(Default)]
pub struct VerifyView {
    target: PathField,
    signature: PathField,
    certificate: PathField,
    truststore: PathField,
    running: Option<Progress>,
    /// The verdict, with the path it was made for.
    result: Option<(PathBuf, Result<Report, Failure>)>,
}

impl VerifyView {
    /// Takes dropped paths: a `.sig` is the signature, a certificate file the certificate,
    /// anything else (a bundle folder or zip, or the app) what to check.
    pub(in crate::gui) fn take_paths(&mut self, paths: Vec<PathBuf>) {
        let ext = |p: &PathBuf| p.extension().map(|e| e.to_string_lossy().to_lowercase()).unwrap_or_default();
        let mut target_set = false;
        for p in &paths {
            match ext(p).as_str() {
                "sig" => self.signature.set(p),
                "crt" | "pem" | "cer" if paths.len() > 1 => self.certificate.set(p),
                _ => {
                    self.target.set(p);
                    target_set = true;
                }
            }
        }
        if target_set && paths.len() == 1 {
            // A new thing to check: the old companions do not belong to it.
            self.signature.clear();
            self.certificate.clear();
        }
        self.result = None;
    }

    /// Applies a finished job of this view.
    pub(in crate::gui) fn apply(&mut self, message: Message) {
        match message {
            // Chosen, the thing to check is taken as if dropped: its old companions go.
            Message::PathChosen(PathFor::Target, Ok(Some(p))) => self.take_paths(vec![p]),
            Message::PathChosen(PathFor::Target, answer) => self.target.chosen(answer),
            Message::PathChosen(which, answer) => {
                self.result = None;
                self.field(which).chosen(answer);
            }
            Message::Checked(result) => {
                self.running = None;
                let checked = self.target.path().unwrap_or_default();
                self.result = Some((checked, result.map(|report| *report)));
            }
        }
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext) {
        crate::gui::heading(ui, "Verify");
        ui.label("Drop a bundle (its folder or .zip), or an app together with its .sig, to check it the way the customer's UPM will.");
        ui.add_space(6.0);
        let target = self.target_rows(ui, cx);
        let companions = self.companion_rows(ui, cx);
        if target.changed || companions.changed {
            // A verdict belongs to the inputs it was made from: once they change, it is gone.
            self.result = None;
        }
        let ready = self.running.is_none() && self.target.path().is_some();
        if (target.submitted || companions.submitted) && ready {
            self.start(cx);
        }
        ui.add_space(6.0);
        self.check_row(ui, cx, ready);
        ui.add_space(8.0);
        self.verdict(ui);
    }

    /// Draws the field for the thing to check, with its file dialog and the folder dialog
    /// (a bundle may be either).
    fn target_rows(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext) -> PathEvents {
        let target = self.target.ui_first(
            ui,
            "Bundle or app",
            "bundle folder, bundle .zip, or app .jar/.obr",
            "Choose bundle or app file…",
        );
        self.target.warn_if_missing(ui);
        if target.browse {
            let dialogs = cx.dialogs();
            cx.jobs.spawn("choosing a file", move || {
                Message::PathChosen(PathFor::Target, PathFor::Target.ask(&dialogs))
            });
        }
        let folder = ui
            .horizontal(|ui| {
                ui.weak("A bundle that is a folder:");
                ui.button("Choose bundle folder…").clicked()
            })
            .inner;
        if folder {
            let dialogs = cx.dialogs();
            cx.jobs.spawn("choosing a folder", move || {
                Message::PathChosen(PathFor::Target, dialogs.folder("Choose a bundle folder"))
            });
        }
        target
    }

    /// Draws the signature, certificate and trust-store fields; returns what happened to any
    /// of them (changed, submitted).
    fn companion_rows(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext) -> PathEvents {
        let mut any = PathEvents::default();
        let companions = [
            (
                PathFor::Signature,
                "Signature (.sig)",
                "for an app: beside it, named app.jar.sig",
                "Choose signature…",
            ),
            (PathFor::Certificate, "Certificate", "for an app: the signer's .crt", "Choose certificate…"),
            (
                PathFor::TrustStore,
                "Trust store folder",
                "optional: the customer's upmconfig/truststore",
                "Choose trust-store folder…",
            ),
        ];
        for (which, label, hint, button) in companions {
            let events = self.field(which).ui(ui, label, hint, button);
            self.field(which).warn_if_missing(ui);
            any.changed |= events.changed;
            any.submitted |= events.submitted;
            if events.browse {
                let dialogs = cx.dialogs();
                cx.jobs.spawn("choosing a file", move || Message::PathChosen(which, which.ask(&dialogs)));
            }
        }
        any
    }

    /// Draws the Check button, and while a check runs its progress and Cancel.
    fn check_row(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext, ready: bool) {
        let running = self.running.clone();
        ui.horizontal(|ui| {
            let check = widgets::primary(ui, ready, "Check signature", || {
                if self.running.is_some() {
                    "A check is running."
                } else {
                    "Type or choose a bundle or an app first."
                }
            });
            if check.clicked() {
                self.start(cx);
            }
            if let Some(p) = &running {
                ui.add(egui::ProgressBar::new(p.fraction()).desired_width(240.0).show_percentage());
                if ui.button("Cancel").clicked() {
                    p.cancel();
                }
            }
        });
    }

    /// Draws the last verdict, titled with what was checked.
    fn verdict(&self, ui: &mut egui::Ui) {
        let Some((checked, result)) = &self.result else { return };
        let title = match result {
            Ok(report) => report.checked_with(),
            Err(_) => format!("Checked {}", checked.display()),
        };
        ui.label(RichText::new(title).strong());
        match result {
            Err(e) => widgets::banner(ui, Tone::Bad, &crate::gui::failure::explain(e)),
            Ok(report) => show_report(ui, report),
        }
    }

    fn field(&mut self, which: PathFor) -> &mut PathField {
        match which {
            PathFor::Target => &mut self.target,
            PathFor::Signature => &mut self.signature,
            PathFor::Certificate => &mut self.certificate,
            PathFor::TrustStore => &mut self.truststore,
        }
    }

    /// Runs the check in the background with what the fields say.
    pub(in crate::gui) fn start(&mut self, cx: &mut ViewContext) {
        let target = VerifyTarget {
            path: self.target.path().unwrap_or_default(),
            signature: self.signature.path(),
            certificate: self.certificate.path(),
        };
        let truststore = self.truststore.path();
        let progress = Progress::new();
        self.running = Some(progress.clone());
        self.result = None;
        cx.jobs.spawn("verifying", move || {
            let check = || -> Result<Report, Failure> {
                let store = truststore.as_deref().map(TrustStore::load).transpose()?;
                bundle::verify_target(&target, store.as_ref(), widgets::now(), &progress).map_err(|e| {
                    if progress.is_cancelled() { Failure::VerificationCancelled } else { Failure::from(e) }
                })
            };
            Message::Checked(check().map(Box::new))
        });
    }
}

fn show_report(ui: &mut egui::Ui, report: &Report) {
    let tone = match report.verdict {
        Verdict::Accepted => Tone::Good,
        Verdict::SignatureGood => Tone::Warn,
        Verdict::Rejected => Tone::Bad,
    };
    widgets::banner(ui, tone, &report.headline);
    if let Some(s) = &report.signer {
        ui.label(format!(
            "Signed by {} ({}), certificate valid until {}.",
            s.subject, s.algorithm, s.not_after
        ));
    }
    if let Some(t) = &report.trusted_by {
        ui.label(format!("Trusted through {t}."));
    }
    ui.add_space(4.0);
    for c in &report.checks {
        let (mark, tone) = match c.outcome {
            Outcome::Pass => ("PASS", Tone::Good),
            Outcome::Warn => ("WARN", Tone::Warn),
            Outcome::Fail => ("FAIL", Tone::Bad),
            Outcome::Skipped => ("SKIP", Tone::Info),
        };
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new(mark).color(widgets::colour(ui, tone)).strong());
            ui.label(RichText::new(c.title).strong());
            ui.label(&c.detail);
        });
        if let (Some(fix), Outcome::Fail | Outcome::Warn) = (&c.fix, c.outcome) {
            ui.label(RichText::new(format!("    Fix: {fix}")).italics());
        }
    }
}
