//! The History view: every signing, newest first, searchable, exportable to CSV.

use std::path::PathBuf;

use eframe::egui::{self, RichText};

use crate::gui::context::ViewContext;
use crate::gui::desktop::DialogAnswer;
use crate::gui::failure::Failure;
use crate::gui::widgets::{self, DisabledBecause as _, PathField, Tone};
use countersign::history::{self, Entry, HistoryError, Loaded};

/// Results of the History view's jobs.
#[derive(Debug)]
pub enum Message {
    Loaded(Result<Loaded, HistoryError>),
    /// That many signings were exported there (`None`: the save dialog was cancelled).
    Exported(Result<Option<(PathBuf, usize)>, Failure>),
    /// A path field's dialog answered.
    PathChosen(PathFor, DialogAnswer),
}

/// The path fields of the view.
#[derive(Debug, Clone, Copy)]
pub enum PathFor {
    /// Where the CSV export goes.
    Export,
}

#[derive(Default)]
pub struct HistoryView {
    search: String,
    entries: Vec<Entry>,
    skipped: usize,
    error: Option<HistoryError>,
    export_path: PathField,
    /// Only signings with this key (a stored key's name), to answer "who must hear about
    /// this key?" after it is replaced; with the public keys it stands for.
    by_key: Option<(String, Vec<String>)>,
}

impl HistoryView {
    /// Applies a finished job of this view.
    pub(in crate::gui) fn apply(&mut self, message: Message, cx: &mut ViewContext) {
        match message {
            Message::Loaded(Ok(l)) => {
                self.entries = l.entries;
                self.entries.reverse();
                self.skipped = l.skipped_lines;
                self.error = None;
            }
            Message::Loaded(Err(e)) => self.error = Some(e),
            Message::PathChosen(which, answer) => self.path_field(which).chosen(answer),
            Message::Exported(result) => match result {
                Ok(Some((p, n))) => {
                    self.export_path.clear();
                    cx.actions.success(format!("Exported {n} signing(s) to {}.", p.display()))
                }
                Ok(None) => {}
                Err(Failure::NoDialog(e)) => self.export_path.no_dialog(&e),
                Err(e) => cx.actions.failed(&e),
            },
        }
    }

    fn path_field(&mut self, which: PathFor) -> &mut PathField {
        match which {
            PathFor::Export => &mut self.export_path,
        }
    }

    fn shown(&self) -> Vec<&Entry> {
        let matching = |e: &&Entry| history::matches(e, &self.search);
        match &self.by_key {
            Some((_, fingerprints)) => {
                history::signed_with(&self.entries, fingerprints, None).into_iter().filter(matching).collect()
            }
            None => self.entries.iter().filter(matching).collect(),
        }
    }

    /// Draws the key filter: every key, or one key's signings (matched by public key, so a
    /// key renamed since still matches).
    fn key_filter(&mut self, ui: &mut egui::Ui, cx: &ViewContext) {
        let mut chosen = self.by_key.as_ref().map(|(name, _)| name.clone());
        let before = chosen.clone();
        ui.horizontal(|ui| {
            let l = ui.label("Signed with");
            egui::ComboBox::from_id_salt("history-key")
                .selected_text(chosen.clone().unwrap_or_else(|| "any key".into()))
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut chosen, None, "any key");
                    for r in cx.keys {
                        ui.selectable_value(&mut chosen, Some(r.record.name.clone()), &r.record.name);
                    }
                })
                .response
                .labelled_by(l.id);
        });
        if chosen != before {
            self.by_key = chosen.map(|name| {
                let stored = cx.key(&name).map(|r| r.record.fingerprint.as_str());
                let fingerprints = history::fingerprints_for(stored, &self.entries, &name);
                (name, fingerprints)
            });
        }
    }

    /// With a key chosen: who got apps signed with it, one line per note (the customer).
    fn who_got_it(&self, ui: &mut egui::Ui, shown: &[&Entry]) {
        let Some((name, _)) = &self.by_key else { return };
        let groups = history::by_note(shown);
        ui.label(RichText::new(format!("Who got apps signed with key \"{name}\"")).strong());
        for g in &groups {
            let mut apps: Vec<&str> = g.entries.iter().map(|e| e.file.as_str()).collect();
            apps.dedup();
            ui.label(format!(
                "{}: {} signing(s), last {}: {}",
                g.note.as_deref().unwrap_or("(no note)"),
                g.entries.len(),
                g.entries.first().map(|e| widgets::when(&e.time)).unwrap_or_default(),
                apps.join(", ")
            ));
        }
        ui.add_space(4.0);
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext) {
        crate::gui::heading(ui, "History");
        ui.label(format!("Every signing made here, kept in {}.", cx.config.history.path().display()));
        if let Some(e) = &self.error {
            widgets::banner(ui, Tone::Bad, &e.to_string());
        }
        if self.skipped > 0 {
            widgets::banner(
                ui,
                Tone::Warn,
                &format!(
                    "{} line(s) of the history could not be read (an interrupted write?) and are not shown. The other entries are intact.",
                    self.skipped
                ),
            );
        }
        ui.horizontal(|ui| {
            let l = ui.label("Search");
            let search = ui
                .add(
                    egui::TextEdit::singleline(&mut self.search)
                        .hint_text("file, app key, version, key, note, SHA-256…")
                        .desired_width(360.0),
                )
                .labelled_by(l.id);
            widgets::first_control(ui, &search);
        });
        let events = self.export_path.ui(
            ui,
            "CSV file",
            "empty: choose in a dialog when exporting",
            "Choose where to export…",
        );
        self.export_path.warn_if_taken(ui);
        if events.browse {
            let dialogs = cx.dialogs();
            cx.jobs.spawn("choosing a file", move || {
                Message::PathChosen(
                    PathFor::Export,
                    dialogs.save("Export the history as CSV", "countersign-history.csv"),
                )
            });
        }
        self.key_filter(ui, cx);
        let any_shown = !self.shown().is_empty();
        if ui
            .add_enabled(any_shown, egui::Button::new("Export CSV…"))
            .disabled_because("Nothing to export: no signing matches.")
            .clicked()
        {
            self.export(cx);
        }
        ui.add_space(6.0);
        let shown = self.shown();
        self.who_got_it(ui, &shown);
        if shown.is_empty() {
            ui.weak(if self.entries.is_empty() {
                "Nothing signed yet."
            } else {
                "No signing matches the search."
            });
            return;
        }
        ui.weak(format!("{} of {} signing(s)", shown.len(), self.entries.len()));
        // Wider than the window when paths are long: the table scrolls sideways inside the view
        // rather than running off its edge, each cell on one line.
        egui::ScrollArea::horizontal().id_salt("history-table-scroll").show(ui, |ui| {
            ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Extend);
            Self::table(ui, &shown);
        });
    }

    /// Starts the job that asks where the CSV goes (unless typed) and writes the signings shown.
    fn export(&self, cx: &mut ViewContext) {
        let dialogs = cx.dialogs();
        let typed = self.export_path.path();
        // Copied only when asked for, not on every frame.
        let shown: Vec<Entry> = self.shown().into_iter().cloned().collect();
        cx.jobs.spawn("exporting the history", move || {
            let export = || -> Result<Option<(PathBuf, usize)>, Failure> {
                let Some((path, replace)) =
                    dialogs.save_target(typed, "Export the history as CSV", "countersign-history.csv")?
                else {
                    return Ok(None);
                };
                history::export_csv(&shown, &path, replace)?;
                Ok(Some((path, shown.len())))
            };
            Message::Exported(export())
        });
    }

    fn table(ui: &mut egui::Ui, shown: &[&Entry]) {
        egui::Grid::new("history-table").num_columns(6).striped(true).spacing([12.0, 4.0]).show(ui, |ui| {
            for h in ["Time (UTC)", "File", "App", "Key", "Note", "Bundle"] {
                ui.label(RichText::new(h).strong());
            }
            ui.end_row();
            for e in shown.iter().copied() {
                ui.label(e.time.replace('T', " ").trim_end_matches('Z').to_owned());
                ui.label(&e.file).on_hover_text(format!("SHA-256 {}\n{}", e.sha256, e.artifact_path));
                ui.label(match (&e.plugin_key, &e.version) {
                    (Some(k), Some(v)) => format!("{k} {v}"),
                    (Some(k), None) => k.clone(),
                    _ => "—".into(),
                });
                ui.label(
                    e.key_name.clone().unwrap_or_else(|| {
                        format!("key file {}", countersign::hex::short(&e.key_fingerprint))
                    }),
                );
                ui.label(e.note.as_deref().unwrap_or(""));
                ui.label(&e.bundle_dir);
                ui.end_row();
            }
        });
    }
}
