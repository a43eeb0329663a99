//! The window's chrome around the views: the navigation bar (with the Help menu and its
//! keyboard shortcuts), the status bar, and the banner shown when the keys cannot be read.

use eframe::egui::{self, RichText};

use super::*;

/// The keys of a shortcut: the platform's command key (Ctrl, or ⌘ on a Mac) with a key, or
/// keys named as they are everywhere.
enum ShortcutKeys {
    Command(egui::Key),
    Plain(&'static str),
}

/// The keyboard shortcuts, as the Help menu lists them.
const SHORTCUTS: &[(ShortcutKeys, &str)] = &[
    (ShortcutKeys::Command(egui::Key::O), "Sign: add files"),
    (ShortcutKeys::Command(egui::Key::Enter), "Sign: sign the files waiting"),
    (ShortcutKeys::Command(egui::Key::C), "Sign: copy the signature of the file signed last"),
    (ShortcutKeys::Plain("Enter"), "Run the form the cursor is in (Verify, Trust store, first run)"),
    (ShortcutKeys::Plain("Tab / Shift+Tab"), "Move between controls; Space or Enter presses a button"),
];

impl App {
    /// The views across the top (inert during the first run) and the busy spinner.
    pub(super) fn navigation_bar(&mut self, ui: &mut egui::Ui) {
        egui::Panel::top("navigation").show(ui, |ui| {
            ui.add_space(4.0);
            ui.horizontal(|ui| {
                ui.heading("Countersign");
                ui.separator();
                let setup = self.needs_setup();
                for v in View::ALL {
                    // The "Replace a key" page belongs to Keys, which stays lit while it is open.
                    let selected =
                        (self.view == v || (self.view == View::Replace && v == View::Keys)) && !setup;
                    if ui
                        .add_enabled(!setup, egui::Button::selectable(selected, v.title()))
                        .disabled_because("Make or import a signing key first, or press Skip for now.")
                        .clicked()
                    {
                        self.actions.push(Action::ShowView(v));
                    }
                }
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    ui.menu_button("Help", |ui| {
                        ui.horizontal(|ui| {
                            ui.label("Theme");
                            // egui's own theme buttons carry emoji the bundled fonts cannot draw.
                            let mut preference = ui.ctx().options(|o| o.theme_preference);
                            let before = preference;
                            for (choice, name) in [
                                (egui::ThemePreference::System, "System"),
                                (egui::ThemePreference::Light, "Light"),
                                (egui::ThemePreference::Dark, "Dark"),
                            ] {
                                ui.selectable_value(&mut preference, choice, name);
                            }
                            if preference != before {
                                ui.ctx().set_theme(preference);
                            }
                        });
                        ui.separator();
                        ui.label(RichText::new("Keyboard shortcuts").strong());
                        egui::Grid::new("shortcuts").num_columns(2).show(ui, |ui| {
                            for (keys, what) in SHORTCUTS {
                                let keys = match keys {
                                    // egui names the command key as the platform does: Ctrl, or ⌘.
                                    ShortcutKeys::Command(key) => ui.ctx().format_shortcut(
                                        &egui::KeyboardShortcut::new(egui::Modifiers::COMMAND, *key),
                                    ),
                                    ShortcutKeys::Plain(keys) => (*keys).to_owned(),
                                };
                                ui.label(RichText::new(keys).monospace());
                                ui.label(*what);
                                ui.end_row();
                            }
                        });
                    });
                    if self.worker.pending() > 0 {
                        ui.add(egui::Spinner::new()).on_hover_text("Working…");
                    }
                });
            });
            ui.add_space(4.0);
        });
    }

    /// The version and how many keys there are, along the bottom.
    pub(super) fn status_bar(&mut self, ui: &mut egui::Ui) {
        egui::Panel::bottom("status").show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.weak(format!("Countersign {}", countersign::LONG_VERSION));
                match &self.keys {
                    KeyList::Loading => {
                        ui.weak("· reading keys…");
                    }
                    KeyList::Loaded(rows) => {
                        ui.weak(format!(
                            "· {} key{} in the keychain",
                            rows.len(),
                            if rows.len() == 1 { "" } else { "s" }
                        ));
                    }
                    KeyList::Failed(_) => {
                        ui.weak("· keys unavailable");
                    }
                }
            });
        });
    }
}

/// Says that the keys cannot be read, in one sentence for the person, with the details
/// (the keychain's own words) folded away; true when Try again was pressed.
pub(super) fn keys_unavailable(ui: &mut egui::Ui, failure: &Failure) -> bool {
    let no_keychain = matches!(
        failure,
        Failure::NoKeyStore(_) | Failure::KeyStore(countersign::keystore::KeyStoreError::Keychain { .. })
    );
    let sentence = if no_keychain {
        "Countersign cannot reach the system keychain, so keys cannot be used or made right now. Verify and the trust-store check work without it."
    } else {
        "Your keys could not be read right now. Verify and the trust-store check work without them."
    };
    widgets::banner(ui, Tone::Warn, sentence);
    let mut again = false;
    ui.horizontal(|ui| {
        again = ui.button("Try again").clicked();
        egui::CollapsingHeader::new("Show details").id_salt("keys-unavailable").show(ui, |ui| {
            ui.label(failure.to_string());
        });
    });
    again
}
