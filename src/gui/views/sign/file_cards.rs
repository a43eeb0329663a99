//! Each file's card in the Sign view: its name, what it is, its SHA-256, and where it stands
//! in signing, with what can be done from there: Remove, Cancel, Retry after a failure, and,
//! once signed, Copy signature, Open folder and Verify bundle.

use std::path::PathBuf;

use eframe::egui::{self, RichText};

use super::queue::{Item, Stage, State};
use super::{Done, SignView};
use crate::gui::actions::Action;
use crate::gui::context::ViewContext;
use crate::gui::widgets::{self, Tone};
use countersign::archive::{AppInfo, ArtifactKind};

impl SignView {
    /// Draws a card per file and carries out what was pressed on them (`key_ok`: a retry
    /// may sign at once).
    pub(super) fn item_list(
        &mut self,
        ui: &mut egui::Ui,
        cx: &mut ViewContext,
        ctx: &egui::Context,
        key_ok: bool,
    ) {
        if self.items.is_empty() {
            ui.add_space(12.0);
            ui.vertical_centered(|ui| {
                ui.label(RichText::new("Add a .jar or .obr to start").size(16.0));
                ui.weak("Drop it on the window, press Choose files… (Ctrl+O), or type its path above.");
            });
            return;
        }
        let mut remove = None;
        let mut retry = None;
        let mut verify_dir = None;
        let mut open_dir = None;
        for item in &self.items {
            match item_card(ui, item) {
                CardAction::None => {}
                CardAction::Remove => remove = Some(item.id),
                CardAction::Retry => retry = Some((item.id, item.path.clone())),
                CardAction::Cancel => {
                    if let State::Signing(p) = &item.state {
                        p.cancel();
                    }
                }
                CardAction::Copy(sig) => copy_signature(ctx, cx, &item.file_name(), sig),
                CardAction::CopySha256(hex) => {
                    ctx.copy_text(hex);
                    cx.actions.success("Copied the SHA-256.");
                }
                CardAction::Open(dir) => open_dir = Some(dir),
                CardAction::Verify(dir) => verify_dir = Some(dir),
            }
        }
        if let Some(id) = remove {
            if let Some(item) = self.item_mut(id) {
                item.hashing.cancel();
            }
            self.items.retain(|i| i.id != id);
        }
        if let Some((id, path)) = retry {
            // Read again from the start: the file may have been fixed or put back meanwhile.
            self.items.retain(|i| i.id != id);
            self.add_files(&mut cx.jobs, vec![path]);
            if key_ok && !self.running {
                // Only the retried file: cancelled ones wait for Sign.
                self.ask_or_start(cx);
            }
        }
        if let Some(dir) = open_dir {
            cx.actions.push(Action::OpenFolder(dir));
        }
        if let Some(dir) = verify_dir {
            cx.actions.push(Action::VerifyBundle(dir));
        }
    }
}

/// Puts a signature on the clipboard and says so.
pub(super) fn copy_signature(ctx: &egui::Context, cx: &mut ViewContext, name: &str, signature: String) {
    ctx.copy_text(signature);
    cx.actions.success(format!(
        "The signature of {name} is on the clipboard: paste it into UPM's Signature field."
    ));
}

enum CardAction {
    None,
    Remove,
    Retry,
    Cancel,
    Copy(String),
    CopySha256(String),
    Open(PathBuf),
    Verify(PathBuf),
}

fn describe(info: &AppInfo) -> String {
    let kind = match info.kind {
        ArtifactKind::Obr => "OBR",
        _ => "JAR",
    };
    match (info.name(), info.plugin_key(), info.version()) {
        (name, Some(key), version) => format!(
            "{} · key {key} · version {} · {kind}",
            name.unwrap_or("(no name)"),
            version.unwrap_or("(none)")
        ),
        _ => format!("{kind}, not an Atlassian app (no atlassian-plugin.xml or Atlassian-Plugin-Key)"),
    }
}

/// Draws the card of one file: its name, what it is, its SHA-256 and its signing state.
fn item_card(ui: &mut egui::Ui, item: &Item) -> CardAction {
    let mut action = CardAction::None;
    egui::Frame::group(ui.style()).inner_margin(10.0).show(ui, |ui| {
        ui.set_width(ui.available_width());
        card_header(ui, item, &mut action);
        card_archive(ui, item);
        card_sha256(ui, item, &mut action);
        card_state(ui, &item.state, &mut action);
    });
    ui.add_space(4.0);
    action
}

/// Draws the file's name and, unless it is being signed, its Remove button.
fn card_header(ui: &mut egui::Ui, item: &Item, action: &mut CardAction) {
    let name = item
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| item.path.display().to_string());
    ui.horizontal(|ui| {
        ui.label(RichText::new(&name).strong().size(16.0));
        if !matches!(item.state, State::Signing(_))
            && ui.button("Remove").on_hover_text(format!("Take {name} off the list")).clicked()
        {
            *action = CardAction::Remove;
        }
    });
}

/// Draws what the archive is, its size and path, and its warnings (once it has been read).
fn card_archive(ui: &mut egui::Ui, item: &Item) {
    match &item.info {
        Stage::Pending => {
            ui.weak("Reading the archive…");
        }
        Stage::Ready(info) => {
            ui.label(describe(info));
            ui.label(format!("{} · {}", countersign::progress::human_size(info.size), item.path.display()));
            for w in &info.warnings {
                ui.label(RichText::new(w).color(widgets::colour(ui, Tone::Warn)));
            }
        }
        Stage::Failed(_) => {}
    }
}

/// Draws the file's SHA-256, or its progress, or why it was not computed.
fn card_sha256(ui: &mut egui::Ui, item: &Item, action: &mut CardAction) {
    match &item.sha256 {
        Stage::Ready(hex) => {
            ui.horizontal_wrapped(|ui| {
                ui.label(RichText::new(format!("SHA-256 {hex}")).monospace());
                if ui.button("Copy SHA-256").clicked() {
                    *action = CardAction::CopySha256(hex.clone());
                }
            });
        }
        Stage::Pending if !matches!(item.info, Stage::Failed(_)) => {
            ui.horizontal(|ui| {
                ui.weak("SHA-256");
                ui.add(
                    egui::ProgressBar::new(item.hashing.fraction()).desired_width(200.0).show_percentage(),
                );
            });
        }
        Stage::Failed(e) if !matches!(item.info, Stage::Failed(_)) => {
            ui.weak(format!("SHA-256 not computed: {e}"));
        }
        _ => {}
    }
}

/// Draws where the file is in signing: waiting, its progress bar, the failure or the result.
fn card_state(ui: &mut egui::Ui, state: &State, action: &mut CardAction) {
    match state {
        State::Waiting => {
            ui.weak("Waiting to be signed.");
        }
        State::Signing(p) => {
            ui.horizontal(|ui| {
                ui.add(
                    egui::ProgressBar::new(p.fraction()).desired_width(320.0).show_percentage().animate(true),
                )
                .on_hover_text("Signing");
                if ui.button("Cancel").clicked() {
                    *action = CardAction::Cancel;
                }
            });
        }
        State::Failed(e) => {
            widgets::banner(ui, Tone::Bad, e);
            if ui.button("Retry").on_hover_text("Read the file again and sign it").clicked() {
                *action = CardAction::Retry;
            }
        }
        State::Cancelled => {
            ui.label(
                RichText::new("Cancelled; nothing was written. Sign tries it again.")
                    .color(widgets::colour(ui, Tone::Warn)),
            );
        }
        State::Done(done) => card_done(ui, done, action),
    }
}

/// Draws a signed file's bundle: its files, signature, warnings and buttons.
fn card_done(ui: &mut egui::Ui, done: &Done, action: &mut CardAction) {
    ui.label(RichText::new("Signed.").color(widgets::colour(ui, Tone::Good)).strong());
    ui.label(format!("Bundle in {}", done.bundle_dir.display()));
    for f in &done.files {
        ui.label(
            RichText::new(format!("  {}", f.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()))
                .monospace(),
        );
    }
    ui.label(RichText::new(&done.signature).monospace()).on_hover_text("The text for UPM's Signature field");
    for w in &done.warnings {
        ui.label(RichText::new(w).color(widgets::colour(ui, Tone::Warn)));
    }
    ui.horizontal(|ui| {
        if ui
            .button("Copy signature")
            .on_hover_text("Copies the Base64 text for UPM's Signature field")
            .clicked()
        {
            *action = CardAction::Copy(done.signature.clone());
        }
        if ui.button("Open folder").clicked() {
            *action = CardAction::Open(done.bundle_dir.clone());
        }
        if ui.button("Verify bundle").on_hover_text("Check the bundle the way UPM will").clicked() {
            *action = CardAction::Verify(done.bundle_dir.clone());
        }
    });
}
