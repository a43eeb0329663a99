//! The Sign view: drop jars, see what they are, sign them into bundles, as many at once as
//! the machine has cores (the core's batch call, the same as the command line's), each with
//! its own progress bar and result.
//!
//! This file holds the view's state, its jobs' results and the frame's order; the rest is
//! one file per part of the view, top to bottom: [`queue`] (the drop zone and the files
//! added), [`settings`] (key, note, output folder, zip, and what keeps the key from
//! signing), [`signing`] (the Sign button, the question about earlier bundles, the batch)
//! and [`file_cards`] (each file's card with its result: Retry, Cancel, Copy signature…).

use std::path::PathBuf;

use eframe::egui;

use crate::gui::KeyRow;
use crate::gui::actions::Action;
use crate::gui::context::ViewContext;
use crate::gui::desktop::{DialogAnswer, NoDialog};
use crate::gui::failure::Failure;
use countersign::archive::AppInfo;
use countersign::batch::Existing;

mod file_cards;
mod queue;
mod settings;
mod signing;

use queue::{Item, Stage, State};
pub use settings::PathFor;
use settings::{OutFolder, Settings};

#[derive(Default)]
pub struct SignView {
    items: Vec<Item>,
    next_id: u64,
    /// The key, note, output folder and zip for the whole queue.
    settings: Settings,
    /// Bundles from an earlier signing that the waiting files would land on: the person is
    /// asked whether to replace them or keep both before anything is signed.
    earlier: Vec<PathBuf>,
    /// What this batch does with earlier bundles of the same name.
    existing: Option<Existing>,
    path_input: String,
    /// Why the Choose files dialog could not be shown.
    path_problem: Option<String>,
    /// A batch is being signed.
    running: bool,
    /// Sign what was added meanwhile once the running batch is done.
    queue_active: bool,
}

/// Results of the Sign view's jobs.
#[derive(Debug)]
pub enum Message {
    /// What the file of item `id` is.
    Inspected { id: u64, result: Result<Box<AppInfo>, Failure> },
    /// The SHA-256 of the file of item `id`, in hex.
    Hashed { id: u64, result: Result<String, Failure> },
    /// A file dialog's answer for one of the view's path fields.
    PathChosen(PathFor, DialogAnswer),
    /// The output folder was made, or why not.
    OutputFolderMade(Result<(), String>),
    /// Files to sign chosen in a dialog (none: cancelled).
    FilesChosen(Result<Vec<PathBuf>, NoDialog>),
    /// One file of the batch is done: signed, failed, or (`cancelled`) stopped.
    Signed { id: u64, result: Result<Done, Failure>, cancelled: bool },
    /// The batch's key could not be loaded, so none of these items was signed.
    KeyUnusable { ids: Vec<u64>, error: Failure },
    /// The batch is over.
    BatchFinished,
}

/// A file signed: its bundle, shown on its card.
#[derive(Debug)]
pub struct Done {
    bundle_dir: PathBuf,
    files: Vec<PathBuf>,
    signature: String,
    warnings: Vec<String>,
}

impl SignView {
    /// After the key list changed: keep the chosen key if it still exists, else take the
    /// one used most recently (or the newest).
    pub(in crate::gui) fn keys_changed(&mut self, rows: &[KeyRow]) {
        self.settings.keys_changed(rows);
    }

    /// Applies a finished job of this view.
    pub(in crate::gui) fn apply(&mut self, message: Message, cx: &mut ViewContext) {
        match message {
            Message::Inspected { id, result } => self.inspected(id, result),
            Message::Hashed { id, result } => {
                if let Some(item) = self.item_mut(id) {
                    item.sha256 = match result {
                        Ok(hex) => Stage::Ready(hex),
                        Err(e) => Stage::Failed(e.to_string()),
                    };
                }
            }
            Message::PathChosen(which, answer) => self.settings.path_chosen(which, answer),
            Message::OutputFolderMade(result) => {
                self.settings.out_state = OutFolder::of(self.settings.out_dir.path().as_deref());
                if let Err(e) = result {
                    cx.actions.failure(e);
                }
            }
            Message::FilesChosen(Ok(files)) => {
                if !files.is_empty() {
                    self.add_files(&mut cx.jobs, files);
                }
            }
            Message::FilesChosen(Err(e)) => self.path_problem = Some(e.to_string()),
            Message::Signed { id, result, cancelled } => {
                if let Some(item) = self.item_mut(id) {
                    item.state = match result {
                        Ok(done) => State::Done(Box::new(done)),
                        Err(_) if cancelled => State::Cancelled,
                        Err(e) => State::Failed(e.to_string()),
                    };
                }
            }
            Message::KeyUnusable { ids, error } => {
                let error = error.to_string();
                for id in ids {
                    if let Some(item) = self.item_mut(id) {
                        item.state = State::Failed(error.clone());
                    }
                }
            }
            Message::BatchFinished => self.batch_finished(cx),
        }
    }

    /// What the file of item `id` turned out to be; one that cannot be signed says so at once.
    fn inspected(&mut self, id: u64, result: Result<Box<AppInfo>, Failure>) {
        let Some(item) = self.item_mut(id) else { return };
        match result {
            Ok(info) => item.info = Stage::Ready(*info),
            Err(e) => {
                // Not signable: say why right away rather than at signing time.
                let e = e.to_string();
                item.hashing.cancel();
                if matches!(item.state, State::Waiting) {
                    item.state = State::Failed(e.clone());
                }
                item.info = Stage::Failed(e);
            }
        }
    }

    fn batch_finished(&mut self, cx: &mut ViewContext) {
        self.running = false;
        // An answer about earlier bundles was for this batch's files only: files added
        // while it ran are asked about again before they replace anything.
        self.existing = None;
        cx.actions.push(Action::ReloadKeys);
        cx.actions.push(Action::ReloadHistory);
        // What was added while this batch ran is signed next.
        if self.queue_active {
            self.ask_or_start(cx);
        }
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext) {
        let ctx = ui.ctx().clone();
        self.drop_zone(ui, cx, &ctx);
        ui.add_space(8.0);

        // Settings for the whole queue; the notes are for the key chosen before this frame.
        let chosen = self.settings.key.clone();
        self.settings.ui(ui, cx);
        let rows: &[KeyRow] = cx.keys;
        let row = chosen.as_ref().and_then(|k| rows.iter().find(|r| &r.record.name == k));
        // What keeps the key from signing is said above, in a banner; the output folder's
        // problem beside the Sign button.
        let key_blocker = settings::key_banners(ui, row, cx.keys_failed);
        let said_above = key_blocker.is_some();
        let blocker = key_blocker.or_else(|| self.settings.folder_blocker());

        ui.add_space(6.0);
        self.sign_buttons(ui, cx, blocker.as_deref(), said_above);
        self.earlier_question(ui, cx);
        ui.add_space(6.0);
        self.item_list(ui, cx, &ctx, blocker.is_none());
        self.shortcuts(&ctx, cx, blocker.is_none());
    }

    /// Ctrl+O adds files, Ctrl+Enter signs, and Ctrl+C (outside a text field) copies the
    /// signature of the file signed last.
    fn shortcuts(&mut self, ctx: &egui::Context, cx: &mut ViewContext, key_ok: bool) {
        use egui::{Key, KeyboardShortcut, Modifiers};
        if ctx.input_mut(|i| i.consume_shortcut(&KeyboardShortcut::new(Modifiers::COMMAND, Key::O))) {
            self.choose_files(cx);
        }
        if ctx.input_mut(|i| i.consume_shortcut(&KeyboardShortcut::new(Modifiers::COMMAND, Key::Enter)))
            && key_ok
            && self.waiting() > 0
            && !self.running
        {
            self.sign_waiting(cx);
        }
        let typing =
            ctx.memory(|m| m.focused()).is_some_and(|id| egui::TextEdit::load_state(ctx, id).is_some());
        if !typing && ctx.input(|i| i.events.iter().any(|e| matches!(e, egui::Event::Copy))) {
            let last = self.items.iter().rev().find_map(|i| match &i.state {
                State::Done(done) => Some((i, done.signature.clone())),
                _ => None,
            });
            if let Some((item, signature)) = last {
                file_cards::copy_signature(ctx, cx, &item.file_name(), signature);
            }
        }
    }
}
