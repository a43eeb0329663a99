//! The Verify view: a bundle, or an app with its `.sig`, checked the way UPM will, one line
//! per check with the reason and the fix.

use std::path::PathBuf;

use eframe::egui::{self, RichText};

use super::context::ViewContext;
use super::messages::Failure;
use super::widgets::{self, Tone};
use countersign::bundle::{self, Outcome, Report, Verdict, VerifyTarget};
use countersign::progress::Progress;
use countersign::truststore::TrustStore;

/// Results of the Verify view's jobs.
#[derive(Debug)]
pub enum Message {
    /// A bundle or app to check was chosen in a dialog (`None`: cancelled).
    TargetChosen(Option<PathBuf>),
    Checked(Result<Box<Report>, Failure>),
}

#[derive(Default)]
pub struct VerifyView {
    target: String,
    signature: String,
    certificate: String,
    truststore: String,
    running: Option<Progress>,
    result: Option<Result<Report, Failure>>,
}

impl VerifyView {
    /// Takes dropped paths: a `.sig` is the signature, a certificate file the certificate,
    /// anything else (a bundle folder or zip, or the app) what to check.
    pub(super) fn take_paths(&mut self, paths: Vec<PathBuf>) {
        let ext = |p: &PathBuf| p.extension().map(|e| e.to_string_lossy().to_lowercase()).unwrap_or_default();
        let mut target_set = false;
        for p in &paths {
            match ext(p).as_str() {
                "sig" => self.signature = p.display().to_string(),
                "crt" | "pem" | "cer" if paths.len() > 1 => self.certificate = p.display().to_string(),
                _ => {
                    self.target = p.display().to_string();
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
    pub(super) fn apply(&mut self, message: Message) {
        match message {
            Message::TargetChosen(picked) => {
                if let Some(p) = picked {
                    self.take_paths(vec![p]);
                }
            }
            Message::Checked(result) => {
                self.running = None;
                self.result = Some(result.map(|report| *report));
            }
        }
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext) {
        super::heading(ui, "Verify");
        ui.label("Drop a bundle (its folder or .zip), or an app together with its .sig, to check it the way the customer's UPM will.");
        ui.add_space(6.0);
        let mut changed = false;
        let mut submitted = false;
        egui::Grid::new("verify-inputs").num_columns(2).spacing([12.0, 6.0]).show(ui, |ui| {
            let fields = [
                ("Bundle or app", &mut self.target, "bundle folder, bundle .zip, or app .jar/.obr"),
                ("Signature (.sig)", &mut self.signature, "for an app: beside it, named app.jar.sig"),
                ("Certificate", &mut self.certificate, "for an app: the signer's .crt"),
                ("Trust store folder", &mut self.truststore, "optional: the customer's upmconfig/truststore"),
            ];
            for (label, text, hint) in fields {
                let l = ui.label(label);
                let field = ui
                    .add(egui::TextEdit::singleline(text).hint_text(hint).desired_width(420.0))
                    .labelled_by(l.id);
                changed |= field.changed();
                submitted |= field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                ui.end_row();
            }
        });
        if changed {
            // A verdict belongs to the inputs it was made from: once they change, it is gone.
            self.result = None;
        }
        if submitted && self.running.is_none() && !self.target.trim().is_empty() {
            self.start(cx);
        }
        ui.horizontal(|ui| {
            if ui.button("Choose bundle folder…").clicked() {
                let desktop = cx.desktop();
                cx.jobs.spawn("choosing a folder", move || {
                    Message::TargetChosen(desktop.pick_folder("Choose a bundle folder"))
                });
            }
            if ui.button("Choose file…").clicked() {
                let desktop = cx.desktop();
                cx.jobs.spawn("choosing a file", move || {
                    Message::TargetChosen(
                        desktop.pick_file("Choose a bundle .zip or an app", &["zip", "jar", "obr"]),
                    )
                });
            }
        });
        ui.add_space(6.0);
        let running = self.running.clone();
        ui.horizontal(|ui| {
            if ui
                .add_enabled(
                    running.is_none() && !self.target.trim().is_empty(),
                    egui::Button::new(RichText::new("Check signature").strong()),
                )
                .clicked()
            {
                self.start(cx);
            }
            if let Some(p) = &running {
                ui.add(egui::ProgressBar::new(p.fraction()).desired_width(240.0).show_percentage());
                if ui.button("Cancel").clicked() {
                    p.cancel();
                }
            }
        });
        ui.add_space(8.0);
        match &self.result {
            None => {}
            Some(Err(e)) => widgets::banner(ui, Tone::Bad, &super::hints::explain(e)),
            Some(Ok(report)) => show_report(ui, report),
        }
    }

    /// Runs the check in the background with what the fields say.
    pub(super) fn start(&mut self, cx: &mut ViewContext) {
        let opt = |s: &str| Some(s.trim()).filter(|s| !s.is_empty()).map(PathBuf::from);
        let target = VerifyTarget {
            path: PathBuf::from(self.target.trim()),
            signature: opt(&self.signature),
            certificate: opt(&self.certificate),
        };
        let truststore = opt(&self.truststore);
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
