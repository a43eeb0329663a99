//! The Sign view's queue: the drop zone (drop, Choose files…, or a typed path), the files
//! added and where each stands, from being read to being signed.

use std::path::PathBuf;

use eframe::egui::{self, RichText};

use super::{Done, Message, SignView};
use crate::gui::context::ViewContext;
use crate::gui::failure::Failure;
use crate::gui::widgets::{self, Tone};
use crate::gui::worker::Jobs;
use countersign::archive::{self, AppInfo};
use countersign::progress::Progress;

/// Something read from a file in the background: not yet, what it is, or why not.
pub(super) enum Stage<T> {
    Pending,
    Ready(T),
    Failed(String),
}

/// Where a file stands in signing.
pub(super) enum State {
    Waiting,
    Signing(Progress),
    Done(Box<Done>),
    Failed(String),
    Cancelled,
}

impl State {
    /// A press of Sign signs it: waiting, or cancelled and tried again.
    pub(super) fn is_signable(&self) -> bool {
        matches!(self, State::Waiting | State::Cancelled)
    }
}

/// One file added to the queue.
pub(super) struct Item {
    pub(super) id: u64,
    pub(super) path: PathBuf,
    pub(super) info: Stage<AppInfo>,
    pub(super) sha256: Stage<String>,
    pub(super) hashing: Progress,
    pub(super) state: State,
}

impl Item {
    /// The file's name, for a notice (empty when the path has none).
    pub(super) fn file_name(&self) -> String {
        self.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
    }
}

impl SignView {
    /// Adds files to the queue and starts reading what they are.
    pub(in crate::gui) fn add_files(&mut self, jobs: &mut Jobs, paths: Vec<PathBuf>) {
        for path in paths {
            let queued = self
                .items
                .iter()
                .any(|i| i.path == path && matches!(i.state, State::Waiting | State::Signing(_)));
            if queued {
                continue;
            }
            let id = self.next_id;
            self.next_id += 1;
            let hashing = Progress::new();
            self.items.push(Item {
                id,
                path: path.clone(),
                info: Stage::Pending,
                sha256: Stage::Pending,
                hashing: hashing.clone(),
                state: State::Waiting,
            });
            let inspect_path = path.clone();
            jobs.spawn("reading a dropped file", move || Message::Inspected {
                id,
                result: archive::inspect(&inspect_path).map(Box::new).map_err(Failure::from),
            });
            jobs.spawn("computing a SHA-256", move || Message::Hashed {
                id,
                result: countersign::signing::sha256_file(&path, &hashing)
                    .map(|(sha, _)| countersign::hex::lower(&sha))
                    .map_err(Failure::from),
            });
        }
    }

    pub(super) fn item_mut(&mut self, id: u64) -> Option<&mut Item> {
        self.items.iter_mut().find(|i| i.id == id)
    }

    /// Items a press of Sign would sign: waiting ones, and cancelled ones again.
    pub(super) fn waiting(&self) -> usize {
        self.items.iter().filter(|i| i.state.is_signable()).count()
    }

    pub(super) fn choose_files(&mut self, cx: &mut ViewContext) {
        self.path_problem = None;
        let dialogs = cx.dialogs();
        cx.jobs.spawn("choosing files", move || Message::FilesChosen(dialogs.artifacts()));
    }

    pub(super) fn drop_zone(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext, ctx: &egui::Context) {
        let hovering = ctx.input(|i| !i.raw.hovered_files.is_empty());
        let stroke = if hovering {
            ui.visuals().selection.stroke
        } else {
            ui.visuals().widgets.noninteractive.bg_stroke
        };
        let frame = egui::Frame::group(ui.style())
            .stroke(egui::Stroke::new(if hovering { 2.0 } else { 1.0 }, stroke.color))
            .inner_margin(20.0);
        frame.show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.vertical_centered(|ui| {
                ui.label(RichText::new("Drop a .jar or .obr here").size(20.0));
                ui.add_space(4.0);
                let choose = ui.button("Choose files…").on_hover_text("Ctrl+O");
                widgets::first_control(ui, &choose);
                if choose.clicked() {
                    self.choose_files(cx);
                }
                if let Some(problem) = &self.path_problem {
                    ui.label(RichText::new(problem).color(widgets::colour(ui, Tone::Warn)));
                }
            });
            ui.add_space(6.0);
            self.path_row(ui, cx);
        });
    }

    /// "Or a path:", a field and Add (or Enter in the field).
    fn path_row(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext) {
        ui.horizontal(|ui| {
            let l = ui.label("Or a path:");
            let field = ui
                .add(
                    egui::TextEdit::singleline(&mut self.path_input)
                        .hint_text("/path/to/app.jar")
                        .desired_width(420.0),
                )
                .labelled_by(l.id);
            let entered = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if (ui.button("Add").clicked() || entered) && !self.path_input.trim().is_empty() {
                let path = PathBuf::from(self.path_input.trim());
                self.path_input.clear();
                self.add_files(&mut cx.jobs, vec![path]);
            }
        });
    }
}
