//! The Keys view: the stored keys, and everything done to one (generate, import or restore,
//! back up, rename, delete, copy the public key).

use std::path::{Path, PathBuf};

use eframe::egui::{self, RichText};
use zeroize::Zeroizing;

use crate::gui::actions::{Action, Actions};
use crate::gui::context::ViewContext;
use crate::gui::desktop::DialogAnswer;
use crate::gui::failure::Failure;
use crate::gui::secret::{SecretText, secret_field};
use crate::gui::widgets::{self, DisabledBecause as _, PathField, Tone};
use crate::gui::{KeyRow, View};
use countersign::keys::{Algorithm, KeyError, MIN_PASSPHRASE_CHARS};
use countersign::keystore::{BackupWritten, KeyRecord, KeyStore, KeyStoreError, ReplaceReason};

mod detail;
mod entry;
mod forms;
mod unlisted;

use entry::key_entry;

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
    /// A path field's dialog answered.
    PathChosen(PathFor, DialogAnswer),
    Imported(Result<KeyRecord, ImportFailure>),
    Deleted(Result<KeyRecord, Failure>),
}

/// The path fields of the view.
#[derive(Debug, Clone, Copy)]
pub enum PathFor {
    /// The key file or backup to import or restore.
    KeyFile,
    /// Where the selected key's backup goes.
    Backup,
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

    /// Applies a finished job of this view; each pane's file handles what its jobs send.
    pub(in crate::gui) fn apply(&mut self, message: Message, cx: &mut ViewContext) {
        let actions = &mut *cx.actions;
        match message {
            Message::UnlistedFound(result) => self.unlisted_found(result, actions),
            Message::Listed { entry, result } => self.listed(&entry, result, actions),
            Message::Renamed(result) => self.renamed(result, actions),
            Message::BackedUp(result) => self.backed_up(result, actions),
            Message::Generated(result) => self.generated(result, actions),
            Message::PathChosen(which, answer) => self.path_chosen(which, answer),
            Message::Imported(result) => self.imported(result, actions),
            Message::Deleted(result) => self.deleted(result, actions),
        }
    }

    fn path_field(&mut self, which: PathFor) -> &mut PathField {
        match which {
            PathFor::KeyFile => &mut self.import_path,
            PathFor::Backup => &mut self.backup_path,
        }
    }

    /// Takes a dialog's answer into its field; a key file chosen also names the key, unless
    /// a name was typed already.
    fn path_chosen(&mut self, which: PathFor, answer: DialogAnswer) {
        if let (PathFor::KeyFile, Ok(Some(p))) = (which, &answer)
            && self.import_name.is_empty()
        {
            self.import_name = self.name_from_key_file(p);
        }
        self.path_field(which).chosen(answer);
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
