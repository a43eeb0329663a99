//! The Keys view: the stored keys, and everything done to one (generate, import or restore,
//! back up, rename, delete, copy the public key).

use std::path::{Path, PathBuf};

use eframe::egui::{self, RichText};
use zeroize::Zeroizing;

use crate::gui::actions::Action;
use crate::gui::context::ViewContext;
use crate::gui::desktop::NoDialog;
use crate::gui::failure::Failure;
use crate::gui::secret::{SecretText, secret_field};
use crate::gui::widgets::{self, DisabledBecause as _, PathField, Tone};
use crate::gui::{KeyRow, View};
use countersign::keys::{Algorithm, KeyError, MIN_PASSPHRASE_CHARS};
use countersign::keystore::{BackupWritten, KeyRecord, KeyStore, KeyStoreError, ReplaceReason};

mod detail;
mod forms;
mod unlisted;

pub use forms::ImportFailure;

/// Results of the Keys view's jobs.
#[derive(Debug)]
pub enum Message {
    /// Keychain entries of ours that no key lists (`None`: the keychain cannot be searched).
    UnlistedFound(Result<Option<Vec<String>>, Failure>),
    /// The unlisted keychain entry `entry` was listed again.
    Listed {
        entry: String,
        result: Result<KeyRecord, Failure>,
    },
    Renamed(Result<KeyRecord, Failure>),
    /// A backup was written there (`None`: the save dialog was cancelled).
    BackedUp(Result<Option<(PathBuf, BackupWritten)>, Failure>),
    Generated(Result<KeyRecord, Failure>),
    KeyFileChosen(Result<Option<PathBuf>, NoDialog>),
    /// Where to save the backup was chosen in a dialog.
    BackupFileChosen(Result<Option<PathBuf>, NoDialog>),
    Imported(Result<KeyRecord, ImportFailure>),
    Deleted(Result<KeyRecord, Failure>),
}

pub struct KeysView {
    new_name: String,
    new_algorithm: Algorithm,
    import_path: PathField,
    /// Where the backup goes, typed or chosen.
    backup_path: PathField,
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
    /// A search for unlisted entries is under way.
    searching: bool,
    /// What the right-hand side shows: the selected key, or one of the toolbar's forms.
    pane: Pane,
    /// The key that the detail panel's fields (new name, backup) were typed for.
    details_for: Option<String>,
    /// The New key form just opened: its name field takes the keyboard focus.
    focus_form: bool,
}

impl KeysView {
    /// Wipes every passphrase typed into the view (when it is left, or its action is done).
    pub(in crate::gui) fn wipe_passphrases(&mut self) {
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

    /// Applies a finished job of this view.
    pub(in crate::gui) fn apply(&mut self, message: Message, cx: &mut ViewContext) {
        let actions = &mut *cx.actions;
        match message {
            Message::UnlistedFound(result) => {
                self.searching = false;
                match result {
                    Ok(Some(ids)) => {
                        if ids.is_empty() {
                            actions.success("Every Countersign key in the keychain is listed.");
                        }
                        self.unlisted = Some(ids);
                    }
                    Ok(None) => actions
                        .failure("This keychain cannot be searched, so unlisted keys cannot be found here."),
                    Err(e) => actions.failed(&e),
                }
            }
            Message::Listed { entry, result } => {
                actions.push(Action::ReloadKeys);
                match result {
                    Ok(r) => {
                        actions.success(format!(
                            "Listed the keychain entry as {} key \"{}\" (public key SHA-256 {}).",
                            r.algorithm, r.name, r.fingerprint
                        ));
                        actions.push(Action::SelectKey(r.name));
                        if let Some(list) = self.unlisted.as_mut() {
                            list.retain(|i| *i != entry);
                        }
                        if self.unlisted.as_ref().is_some_and(Vec::is_empty) {
                            // Nothing is left to list: show the key that came back.
                            self.show(Pane::Details);
                        }
                    }
                    Err(e) => actions.failed(&e),
                }
            }
            Message::Renamed(result) => {
                actions.push(Action::ReloadKeys);
                match result {
                    Ok(r) => {
                        actions.success(format!("Renamed the key to \"{}\".", r.name));
                        // The same key under its new name: what was typed for it stays.
                        self.details_for = Some(r.name.clone());
                        actions.push(Action::SelectKey(r.name));
                        self.rename_to.clear();
                    }
                    Err(e) => actions.failed(&e),
                }
            }
            Message::BackedUp(result) => match result {
                Ok(Some((path, written))) => {
                    self.backup_passphrase.clear();
                    self.backup_repeat.clear();
                    self.backup_path.clear();
                    actions.push(Action::ReloadKeys);
                    let chain = match written.certificates {
                        0 => " It holds the key only: the key has no certificate yet.".to_owned(),
                        n => format!(" It holds the key and its certificate chain ({n} certificate(s))."),
                    };
                    match written.not_recorded {
                        None => actions.success(format!(
                            "Backup written to {}.{chain} Keep the passphrase somewhere else.",
                            path.display()
                        )),
                        Some(e) => actions.failure(format!(
                            "Backup written to {}.{chain} Its date could not be noted with the key: {e}",
                            path.display()
                        )),
                    }
                }
                Ok(None) => {}
                // The passphrases stay: only the path has to be typed.
                Err(Failure::NoDialog(e)) => self.backup_path.no_dialog(&e),
                Err(e) => actions.failed(&e),
            },
            Message::BackupFileChosen(answer) => self.backup_path.chosen(answer),
            Message::Generated(result) => {
                actions.push(Action::ReloadKeys);
                match result {
                    Ok(r) => {
                        actions.success(format!(
                            "Made {} key \"{}\" in the keychain. Next: give it a certificate (Certificates view).",
                            r.algorithm, r.name
                        ));
                        actions.push(Action::SelectKey(r.name));
                        self.new_name.clear();
                        // The form is done: the new key's details take its place.
                        if self.pane == Pane::NewKey {
                            self.show(Pane::Details);
                        }
                    }
                    Err(e) => actions.failed(&e),
                }
            }
            Message::KeyFileChosen(answer) => {
                if let Ok(Some(p)) = &answer
                    && self.import_name.is_empty()
                {
                    let stem = p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                    // A backup is saved as `<key>-backup.pem`: restored, it is that key again.
                    self.import_name = match self.pane {
                        Pane::Import { restore: true } => {
                            stem.strip_suffix("-backup").unwrap_or(&stem).to_owned()
                        }
                        _ => stem,
                    };
                }
                self.import_path.chosen(answer);
            }
            Message::Imported(result) => {
                actions.push(Action::ReloadKeys);
                match result {
                    Ok(r) => {
                        self.import_passphrase.clear();
                        actions.success(format!(
                            "Imported {} key \"{}\" into the keychain (public key SHA-256 {}).",
                            r.algorithm, r.name, r.fingerprint
                        ));
                        actions.push(Action::SelectKey(r.name));
                        self.import_path.clear();
                        self.import_name.clear();
                        if matches!(self.pane, Pane::Import { .. }) {
                            self.show(Pane::Details);
                        }
                    }
                    Err(e) => {
                        if e.is_about_the_passphrase() {
                            // A wrong passphrase is typed again, not corrected.
                            self.import_passphrase.clear();
                        }
                        actions.failure(match &e {
                            ImportFailure::Other(failure) => crate::gui::failure::explain(failure),
                            e => e.to_string(),
                        });
                    }
                }
            }
            Message::Deleted(result) => {
                actions.push(Action::ReloadKeys);
                match result {
                    Ok(r) => actions.success(format!(
                        "Deleted key \"{}\" (public key SHA-256 {}) from the keychain and the list.",
                        r.name, r.fingerprint
                    )),
                    Err(e) => actions.failed(&e),
                }
            }
        }
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext) {
        crate::gui::heading(ui, "Keys");
        ui.label(
            "Private keys live in the system keychain. Countersign's list holds only their public halves.",
        );
        ui.add_space(6.0);
        self.toolbar(ui, cx);
        ui.add_space(6.0);

        // Both columns take the height left in the window and scroll on their own, so a long
        // detail panel or a long list never scrolls the other away (the window's own scroll
        // area takes over only when the window is too short even for that).
        let height = (ui.available_height() - 2.0).max(MIN_COLUMN_HEIGHT);
        let list_width = (ui.available_width() * 0.3).clamp(MIN_LIST_WIDTH, MAX_LIST_WIDTH);
        ui.horizontal_top(|ui| {
            column(ui, "keys-list", egui::vec2(list_width, height), |ui| self.list(ui, cx));
            let rest = egui::vec2(ui.available_width(), height);
            column(ui, "keys-pane", rest, |ui| self.pane_ui(ui, cx));
        });
        self.confirm_delete(ui.ctx(), cx);
    }

    /// The actions that do not start from a key: make one, bring one in, find lost ones.
    fn toolbar(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext) {
        ui.horizontal(|ui| {
            let forms = [
                (Pane::NewKey, "New key…", "Make a new key in the system keychain."),
                (
                    Pane::Import { restore: false },
                    "Import key…",
                    "Bring in a private key file (PKCS#8 PEM or DER).",
                ),
                (
                    Pane::Import { restore: true },
                    "Restore backup…",
                    "Bring back a key from a Countersign backup.",
                ),
            ];
            for (pane, text, what) in forms {
                // Shown pressed while its form is open, as a toolbar's toggles are.
                if ui.add(egui::Button::new(text).selected(self.pane == pane)).on_hover_text(what).clicked() {
                    self.show(pane);
                }
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                let look = egui::Button::new("Look for unlisted keys").selected(self.pane == Pane::Unlisted);
                if ui
                    .add(look)
                    .on_hover_text("Find keys that are in the keychain but missing from Countersign's list.")
                    .clicked()
                {
                    self.show(Pane::Unlisted);
                    self.search_unlisted(cx);
                }
            });
        });
    }

    /// Makes `pane` the one shown on the right. A passphrase typed into the pane that goes
    /// out of sight is wiped: nothing keeps a passphrase that the person can no longer see.
    fn show(&mut self, pane: Pane) {
        if self.pane == pane {
            return;
        }
        match self.pane {
            Pane::Details => {
                self.backup_passphrase.clear();
                self.backup_repeat.clear();
            }
            Pane::Import { .. } => self.import_passphrase.clear(),
            Pane::NewKey | Pane::Unlisted => {}
        }
        self.pane = pane;
        self.focus_form = pane == Pane::NewKey;
    }

    /// Closes the open form, forgetting what was typed into it.
    fn cancel(&mut self) {
        match self.pane {
            Pane::NewKey => self.new_name.clear(),
            Pane::Import { .. } => {
                self.import_path.clear();
                self.import_name.clear();
            }
            Pane::Details | Pane::Unlisted => {}
        }
        self.show(Pane::Details);
    }

    /// The stored keys, one compact entry each; choosing one shows its details.
    fn list(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext) {
        if cx.keys.is_empty() {
            ui.weak(if cx.keys_failed { "The keys cannot be read right now." } else { "No keys yet." });
            return;
        }
        let now = widgets::now();
        ui.spacing_mut().item_spacing.y = 2.0;
        for row in cx.keys {
            let selected = cx.selected_key == Some(row.record.name.as_str());
            if key_entry(ui, row, selected, now).clicked() {
                cx.actions.push(Action::SelectKey(row.record.name.clone()));
                self.show(Pane::Details);
            }
        }
    }

    /// The right-hand side: the open form, or the selected key's details.
    fn pane_ui(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext) {
        match self.pane {
            Pane::NewKey => self.generate(ui, cx),
            Pane::Import { restore } => self.import(ui, cx, restore),
            Pane::Unlisted => self.unlisted(ui, cx),
            Pane::Details => {
                let selected = cx.selected_key.and_then(|n| cx.key(n)).cloned();
                match selected {
                    Some(row) => self.selected_key(ui, cx, &row),
                    None => no_key(ui, cx),
                }
            }
        }
    }
}

impl Default for KeysView {
    fn default() -> Self {
        KeysView {
            new_name: String::new(),
            new_algorithm: Algorithm::Ed25519,
            import_path: PathField::default(),
            backup_path: PathField::default(),
            import_name: String::new(),
            import_passphrase: SecretText::new(),
            rename_to: String::new(),
            backup_passphrase: SecretText::new(),
            backup_repeat: SecretText::new(),
            confirm_delete: None,
            unlisted: None,
            adopt_names: Default::default(),
            searching: false,
            pane: Pane::Details,
            details_for: None,
            focus_form: false,
        }
    }
}

/// What the right-hand side of the view shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Pane {
    /// The selected key's details (or, with no key, what to do first).
    #[default]
    Details,
    NewKey,
    /// The key-file form; `restore` words it for a Countersign backup.
    Import {
        restore: bool,
    },
    /// Keychain entries that no key lists.
    Unlisted,
}

/// The list's width follows the window's, within these bounds: the entries need about 200
/// points for a name and three facts, and more only wastes what the detail panel can use.
const MIN_LIST_WIDTH: f32 = 200.0;
const MAX_LIST_WIDTH: f32 = 280.0;
/// Below this the columns stop shrinking and the window's scroll area takes over.
const MIN_COLUMN_HEIGHT: f32 = 260.0;

/// One column of the view: a framed box of exactly `size` whose content scrolls inside it.
fn column(ui: &mut egui::Ui, id: &str, size: egui::Vec2, content: impl FnOnce(&mut egui::Ui)) {
    ui.allocate_ui_with_layout(size, egui::Layout::top_down(egui::Align::Min), |ui| {
        let frame = egui::Frame::group(ui.style()).inner_margin(8.0);
        // What the frame's margin and stroke take from the box, so the frame ends at its edge.
        let inset = 2.0 * (8.0 + frame.stroke.width);
        frame.show(ui, |ui| {
            ui.set_width(size.x - inset);
            egui::ScrollArea::vertical()
                .id_salt(id)
                .max_height(size.y - inset)
                .auto_shrink([false, false])
                .show(ui, content);
        });
    });
}

fn pane_heading(ui: &mut egui::Ui, text: &str) {
    ui.label(RichText::new(text).strong().size(16.0));
    ui.add_space(4.0);
}

/// A titled part of the detail panel, set off from the one above.
fn section(ui: &mut egui::Ui, title: &str) {
    widgets::section(ui, title);
}

/// The detail panel with no key to show.
fn no_key(ui: &mut egui::Ui, cx: &ViewContext) {
    if cx.keys_failed {
        // The window says why above the view, and the list that they cannot be read: "no
        // keys yet" would not be true, and there is nothing more to say here.
    } else if cx.keys.is_empty() {
        pane_heading(ui, "No keys yet");
        ui.label("Press \u{201c}New key…\u{201d} to make one, \u{201c}Import key…\u{201d} to bring in a private key file, or \u{201c}Restore backup…\u{201d} to bring back a Countersign backup.");
    } else {
        ui.weak("Choose a key on the left to see its details.");
    }
}

/// One entry of the key list: the name with its algorithm, and under them the certificate's
/// state and the keychain's. Painted rather than built from labels so that the entry is a single
/// control, named by the key, that a click anywhere on it chooses.
fn key_entry(ui: &mut egui::Ui, row: &KeyRow, selected: bool, now: time::OffsetDateTime) -> egui::Response {
    let record = &row.record;
    let padding = egui::vec2(10.0, 6.0);
    let badge_padding = egui::vec2(6.0, 1.0);
    let gap = egui::vec2(6.0, 4.0);
    let width = ui.available_width();
    let inner = width - 2.0 * padding.x;

    let small = |text: &str, colour: egui::Color32| {
        egui::WidgetText::from(RichText::new(text).small().color(colour)).into_galley(
            ui,
            Some(egui::TextWrapMode::Extend),
            f32::INFINITY,
            egui::TextStyle::Small,
        )
    };
    // The algorithm at the right of the name's line; a long name is cut short before it.
    let algorithm = small(&record.algorithm.to_string(), ui.visuals().weak_text_color());
    let name = egui::WidgetText::from(RichText::new(&record.name).strong()).into_galley(
        ui,
        Some(egui::TextWrapMode::Truncate),
        (inner - algorithm.size().x - gap.x).max(0.0),
        egui::TextStyle::Body,
    );
    let elided = name.elided;
    let (cert_tone, cert_text) = widgets::validity(row.certificate_state(now));
    let keychain_problem = row.keychain.problem();
    let (keychain_tone, keychain_text) = match &keychain_problem {
        None => (Tone::Good, "keychain ok"),
        Some(_) => (Tone::Bad, "keychain problem"),
    };
    let badges = [
        (small(&cert_text, widgets::colour(ui, cert_tone)), cert_tone),
        (small(keychain_text, widgets::colour(ui, keychain_tone)), keychain_tone),
    ];
    // Laid out left to right under the name, onto another line where the list is narrow.
    let mut placed = Vec::with_capacity(badges.len());
    let (mut x, mut y, mut line) = (0.0_f32, name.size().y.max(algorithm.size().y) + gap.y, 0.0_f32);
    for (galley, tone) in badges {
        let size = galley.size() + 2.0 * badge_padding;
        if x > 0.0 && x + size.x > inner {
            (x, y, line) = (0.0, y + line + gap.y, 0.0);
        }
        placed.push((egui::vec2(x, y), size, galley, tone));
        x += size.x + gap.x;
        line = line.max(size.y);
    }
    let height = y + line + 2.0 * padding.y;

    let (rect, _) = ui.allocate_exact_size(egui::vec2(width, height), egui::Sense::hover());
    // Keyed by the keychain id, which a rename keeps: focus stays on the entry.
    let response = ui.interact(rect, ui.make_persistent_id(("key-entry", &record.id)), egui::Sense::click());
    response.widget_info(|| {
        egui::WidgetInfo::selected(egui::accesskit::Role::Button, ui.is_enabled(), selected, &record.name)
    });
    let description = format!("{}, certificate: {cert_text}, {keychain_text}", record.algorithm);
    ui.ctx().accesskit_node_builder(response.id, |node| {
        node.set_description(description);
        // Chosen in a list, not a pressed toggle: what a screen reader says of a list's item.
        node.set_selected(selected);
    });

    if ui.is_rect_visible(rect) {
        let visuals = ui.visuals();
        let painter = ui.painter();
        let corner = 4.0;
        if let Some(fill) = entry_fill(visuals, selected, response.hovered()) {
            painter.rect_filled(rect, corner, fill);
        }
        if selected {
            // A bar down the left edge marks the chosen key beyond its fill alone.
            let bar = egui::Rect::from_min_size(rect.min, egui::vec2(3.0, rect.height()));
            painter.rect_filled(bar, corner, visuals.hyperlink_color);
        }
        if response.has_focus() {
            painter.rect_stroke(rect, corner, visuals.selection.stroke, egui::StrokeKind::Inside);
        }
        let origin = rect.min + padding;
        // The algorithm's smaller text sits on the name's baseline.
        let algorithm_at = egui::pos2(
            rect.max.x - padding.x - algorithm.size().x,
            origin.y + name.size().y - algorithm.size().y - 1.0,
        );
        painter.galley(origin, name, visuals.text_color());
        painter.galley(algorithm_at, algorithm, visuals.text_color());
        for (offset, size, galley, tone) in placed {
            let min = origin + offset;
            let stroke = egui::Stroke::new(1.0, widgets::colour(ui, tone));
            painter.rect_stroke(egui::Rect::from_min_size(min, size), 6.0, stroke, egui::StrokeKind::Inside);
            painter.galley(min + badge_padding, galley, visuals.text_color());
        }
    }
    // The pointer gets what the entry had no room for: a name cut short, a keychain problem.
    let hover: Vec<&str> =
        [elided.then_some(record.name.as_str()), keychain_problem.as_deref()].into_iter().flatten().collect();
    if hover.is_empty() { response } else { response.on_hover_text(hover.join("\n")) }
}

/// The background of a list entry: the selection colour halfway over the panel (opaque, so
/// that the contrast of the text on it can be checked), a lighter one under the pointer.
fn entry_fill(visuals: &egui::Visuals, selected: bool, hovered: bool) -> Option<egui::Color32> {
    if selected {
        Some(visuals.panel_fill.lerp_to_gamma(visuals.selection.bg_fill, 0.5))
    } else if hovered {
        Some(visuals.widgets.hovered.weak_bg_fill)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gui::theme;

    /// The chosen entry's fill keeps every text and badge colour on it readable (4.5:1), as
    /// `theme.rs` requires of every background.
    #[test]
    fn every_colour_reads_on_the_chosen_entry() {
        for dark in [false, true] {
            let ctx = egui::Context::default();
            theme::apply(&ctx);
            let style = ctx.options(|o| if dark { o.dark_style.clone() } else { o.light_style.clone() });
            let v = &style.visuals;
            let Some(fill) = entry_fill(v, true, false) else { panic!("a chosen entry has a fill") };
            for (what, fg) in [
                ("text", v.text_color()),
                ("weak text", v.weak_text_color()),
                ("good", widgets::colour_in(v, Tone::Good)),
                ("warning", widgets::colour_in(v, Tone::Warn)),
                ("bad", widgets::colour_in(v, Tone::Bad)),
            ] {
                let c = theme::contrast(fg, fill);
                assert!(c >= 4.5, "dark {dark}: {what} on the chosen entry: {c:.2}");
            }
        }
    }
}
