//! The History view: every signing, newest first, searchable, exportable to CSV.

use std::path::PathBuf;

use eframe::egui::{self, RichText};

use super::App;
use super::widgets::{self, Tone};
use countersign::history::{self, Entry, Loaded};

#[derive(Default)]
pub struct HistoryView {
    search: String,
    entries: Vec<Entry>,
    skipped: usize,
    error: Option<String>,
}

impl HistoryView {
    pub(super) fn loaded(&mut self, result: Result<Loaded, String>) {
        match result {
            Ok(l) => {
                self.entries = l.entries;
                self.entries.reverse();
                self.skipped = l.skipped_lines;
                self.error = None;
            }
            Err(e) => self.error = Some(e),
        }
    }

    fn shown(&self) -> Vec<&Entry> {
        self.entries.iter().filter(|e| history::matches(e, &self.search)).collect()
    }
}

pub fn draw(app: &mut App, ui: &mut egui::Ui) {
    let ctx = ui.ctx().clone();
    super::heading(ui, "History");
    ui.label(format!("Every signing made here, kept in {}.", app.config.history.path().display()));
    if let Some(e) = &app.history.error {
        widgets::banner(ui, Tone::Bad, e);
    }
    if app.history.skipped > 0 {
        widgets::banner(
            ui,
            Tone::Warn,
            &format!(
                "{} line(s) of the history could not be read (an interrupted write?) and are not shown. The other entries are intact.",
                app.history.skipped
            ),
        );
    }
    ui.horizontal(|ui| {
        let l = ui.label("Search");
        ui.add(
            egui::TextEdit::singleline(&mut app.history.search)
                .hint_text("file, app key, version, key, note, SHA-256…")
                .desired_width(360.0),
        )
        .labelled_by(l.id);
        let shown: Vec<Entry> = app.history.shown().into_iter().cloned().collect();
        if ui.add_enabled(!shown.is_empty(), egui::Button::new("Export CSV…")).clicked() {
            let desktop = app.config.desktop.clone();
            app.worker.spawn(
                &ctx,
                "exporting the history",
                move || -> Result<Option<(PathBuf, usize)>, String> {
                    let Some(path) =
                        desktop.save_file("Export the history as CSV", "countersign-history.csv")
                    else {
                        return Ok(None);
                    };
                    // The save dialog asked before replacing a file.
                    history::export_csv(&shown, &path, true).map_err(|e| e.to_string())?;
                    Ok(Some((path, shown.len())))
                },
                |app, r| match r {
                    Ok(Some((p, n))) => {
                        app.actions.success(format!("Exported {n} signing(s) to {}.", p.display()))
                    }
                    Ok(None) => {}
                    Err(e) => app.actions.failure(e),
                },
            );
        }
    });
    ui.add_space(6.0);
    let shown = app.history.shown();
    if shown.is_empty() {
        ui.weak(if app.history.entries.is_empty() {
            "Nothing signed yet."
        } else {
            "No signing matches the search."
        });
        return;
    }
    ui.weak(format!("{} of {} signing(s)", shown.len(), app.history.entries.len()));
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
                e.key_name
                    .clone()
                    .unwrap_or_else(|| format!("key file {}", super::short_hex(&e.key_fingerprint))),
            );
            ui.label(e.note.as_deref().unwrap_or(""));
            ui.label(&e.bundle_dir);
            ui.end_row();
        }
    });
}
