//! The History view: every signing, newest first, searchable, exportable to CSV.

use std::path::PathBuf;

use eframe::egui::{self, RichText};

use super::context::ViewContext;
use super::messages::Failure;
use super::widgets::{self, Tone};
use countersign::history::{self, Entry, HistoryError, Loaded};

/// Results of the History view's jobs.
#[derive(Debug)]
pub enum Message {
    Loaded(Result<Loaded, HistoryError>),
    /// That many signings were exported there (`None`: the save dialog was cancelled).
    Exported(Result<Option<(PathBuf, usize)>, Failure>),
}

#[derive(Default)]
pub struct HistoryView {
    search: String,
    entries: Vec<Entry>,
    skipped: usize,
    error: Option<HistoryError>,
}

impl HistoryView {
    /// Applies a finished job of this view.
    pub(super) fn apply(&mut self, message: Message, cx: &mut ViewContext) {
        match message {
            Message::Loaded(Ok(l)) => {
                self.entries = l.entries;
                self.entries.reverse();
                self.skipped = l.skipped_lines;
                self.error = None;
            }
            Message::Loaded(Err(e)) => self.error = Some(e),
            Message::Exported(result) => match result {
                Ok(Some((p, n))) => {
                    cx.actions.success(format!("Exported {n} signing(s) to {}.", p.display()))
                }
                Ok(None) => {}
                Err(e) => cx.actions.failure(super::hints::explain(&e)),
            },
        }
    }

    fn shown(&self) -> Vec<&Entry> {
        self.entries.iter().filter(|e| history::matches(e, &self.search)).collect()
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext) {
        super::heading(ui, "History");
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
            ui.add(
                egui::TextEdit::singleline(&mut self.search)
                    .hint_text("file, app key, version, key, note, SHA-256…")
                    .desired_width(360.0),
            )
            .labelled_by(l.id);
            let shown: Vec<Entry> = self.shown().into_iter().cloned().collect();
            if ui.add_enabled(!shown.is_empty(), egui::Button::new("Export CSV…")).clicked() {
                let desktop = cx.desktop();
                cx.jobs.spawn("exporting the history", move || {
                    let export = || -> Result<Option<(PathBuf, usize)>, Failure> {
                        let Some(path) =
                            desktop.save_file("Export the history as CSV", "countersign-history.csv")
                        else {
                            return Ok(None);
                        };
                        // The save dialog asked before replacing a file.
                        history::export_csv(&shown, &path, true)?;
                        Ok(Some((path, shown.len())))
                    };
                    Message::Exported(export())
                });
            }
        });
        ui.add_space(6.0);
        let shown = self.shown();
        if shown.is_empty() {
            ui.weak(if self.entries.is_empty() {
                "Nothing signed yet."
            } else {
                "No signing matches the search."
            });
            return;
        }
        ui.weak(format!("{} of {} signing(s)", shown.len(), self.entries.len()));
        egui::Grid::new("history-table").num_columns(6).striped(true).spacing([12.0, 4.0]).show(ui, |ui| {
            for h in ["Time (UTC)", "File", "App", "Key", "Note", "Bundle"] {
                ui.label(RichText::new(h).strong());
            }
            ui.end_row();
            for e in shown {
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
