//! The Sign view: drop jars, see what they are, sign them into bundles, as many at once as
//! the machine has cores (the core's batch call, the same as the command line's), each with
//! its own progress bar and result.

use std::path::PathBuf;

use eframe::egui::{self, RichText};

use crate::gui::KeyRow;
use crate::gui::actions::Action;
use crate::gui::context::ViewContext;
use crate::gui::desktop::NoDialog;
use crate::gui::failure::Failure;
use crate::gui::widgets::{self, DisabledBecause as _, PathField, Tone};
use crate::gui::worker::Jobs;
use countersign::archive::{self, AppInfo, ArtifactKind};
use countersign::batch::{Existing, Layout};
use countersign::certs::ValidityState;
use countersign::keys::Algorithm;
use countersign::progress::Progress;
use countersign::signer::{self, SignOptions, Signer};

#[derive(Default)]
pub struct SignView {
    items: Vec<Item>,
    next_id: u64,
    /// The key to sign with (a stored key's name).
    key: Option<String>,
    note: String,
    out_dir: PathField,
    /// What the output folder field names, looked up when it changes.
    out_state: OutFolder,
    zip: bool,
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
    Inspected {
        id: u64,
        result: Result<Box<AppInfo>, Failure>,
    },
    /// The SHA-256 of the file of item `id`, in hex.
    Hashed {
        id: u64,
        result: Result<String, Failure>,
    },
    OutputFolderChosen(Result<Option<PathBuf>, NoDialog>),
    /// The output folder was made, or why not.
    OutputFolderMade(Result<(), String>),
    /// Files to sign chosen in a dialog (none: cancelled).
    FilesChosen(Result<Vec<PathBuf>, NoDialog>),
    /// One file of the batch is done: signed, failed, or (`cancelled`) stopped.
    Signed {
        id: u64,
        result: Result<Done, Failure>,
        cancelled: bool,
    },
    /// The batch's key could not be loaded, so none of these items was signed.
    KeyUnusable {
        ids: Vec<u64>,
        error: Failure,
    },
    /// The batch is over.
    BatchFinished,
}

/// The output folder as typed: checked as it is typed, so that a missing one is said before
/// anything is signed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
enum OutFolder {
    /// Nothing typed: each bundle goes next to its file.
    #[default]
    Beside,
    Exists,
    Missing,
    NotAFolder,
}

impl OutFolder {
    fn of(path: Option<&std::path::Path>) -> Self {
        match path {
            None => OutFolder::Beside,
            Some(p) if p.is_dir() => OutFolder::Exists,
            Some(p) if p.exists() => OutFolder::NotAFolder,
            Some(_) => OutFolder::Missing,
        }
    }
}

enum Stage<T> {
    Pending,
    Ready(T),
    Failed(String),
}

enum State {
    Waiting,
    Signing(Progress),
    Done(Box<Done>),
    Failed(String),
    Cancelled,
}

impl State {
    fn is_signable(&self) -> bool {
        matches!(self, State::Waiting | State::Cancelled)
    }
}

#[derive(Debug)]
pub struct Done {
    bundle_dir: PathBuf,
    files: Vec<PathBuf>,
    signature: String,
    warnings: Vec<String>,
}

struct Item {
    id: u64,
    path: PathBuf,
    info: Stage<AppInfo>,
    sha256: Stage<String>,
    hashing: Progress,
    state: State,
}

impl SignView {
    /// After the key list changed: keep the chosen key if it still exists, else take the
    /// one used most recently (or the newest).
    pub(in crate::gui) fn keys_changed(&mut self, rows: &[KeyRow]) {
        if self.key.as_ref().is_some_and(|k| rows.iter().any(|r| &r.record.name == k)) {
            return;
        }
        // Never a key marked compromised of its own accord: it would only be refused.
        let signable = || rows.iter().filter(|r| signer::standing(&r.record).is_ok());
        let last_used = signable()
            .filter(|r| r.record.last_used.is_some())
            .max_by(|a, b| a.record.last_used.cmp(&b.record.last_used));
        let newest = signable().max_by(|a, b| a.record.created.cmp(&b.record.created));
        self.key = last_used.or(newest).map(|r| r.record.name.clone());
    }

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

    /// Applies a finished job of this view.
    pub(in crate::gui) fn apply(&mut self, message: Message, cx: &mut ViewContext) {
        match message {
            Message::Inspected { id, result } => {
                if let Some(item) = self.item_mut(id) {
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
            }
            Message::Hashed { id, result } => {
                if let Some(item) = self.item_mut(id) {
                    item.sha256 = match result {
                        Ok(hex) => Stage::Ready(hex),
                        Err(e) => Stage::Failed(e.to_string()),
                    };
                }
            }
            Message::OutputFolderChosen(answer) => {
                self.out_dir.chosen(answer);
                self.out_state = OutFolder::of(self.out_dir.path().as_deref());
            }
            Message::OutputFolderMade(result) => {
                self.out_state = OutFolder::of(self.out_dir.path().as_deref());
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
            Message::BatchFinished => {
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
        }
    }

    fn item_mut(&mut self, id: u64) -> Option<&mut Item> {
        self.items.iter_mut().find(|i| i.id == id)
    }

    /// Items a press of Sign would sign: waiting ones, and cancelled ones again.
    fn waiting(&self) -> usize {
        self.items.iter().filter(|i| i.state.is_signable()).count()
    }
}

/// What stands in the way of signing with the chosen key, and what to warn about.
fn key_notes(row: Option<&KeyRow>, keys_failed: bool) -> (Option<String>, Vec<String>) {
    let Some(row) = row else {
        let why = if keys_failed {
            "Signing needs a key from the system keychain, which cannot be reached now."
        } else {
            "Choose a key to sign with, or make one in the Keys view."
        };
        return (Some(why.into()), vec![]);
    };
    let name = &row.record.name;
    if let Some(problem) = row.keychain.problem() {
        return (
            Some(format!(
                "Key \"{name}\" cannot sign: {problem}. Restore it from a backup in the Keys view."
            )),
            vec![],
        );
    }
    // Refused by the core too (`Signer::stored`); said here before Sign is pressed.
    let mut warnings = match signer::standing(&row.record) {
        Err(refusal) => return (Some(refusal.to_string()), vec![]),
        Ok(retired) => retired.into_iter().collect::<Vec<_>>(),
    };
    if !row.record.algorithm.upm_accepts() {
        warnings.push(Algorithm::UPM_WARNING.to_owned());
    }
    match row.certificate_state(widgets::now()) {
        None => warnings.push(format!(
            "Key \"{name}\" has no certificate, so the bundle will have none and the customer cannot add you to UPM's trust store. Make one in the Certificates view."
        )),
        Some(ValidityState::ExpiringSoon { days_left }) => warnings.push(format!(
            "The certificate of \"{name}\" expires in {days_left} days. After that UPM refuses apps signed under it: renew it in the Certificates view and send customers the new one."
        )),
        Some(s @ (ValidityState::Expired { .. } | ValidityState::NotYetValid { .. })) => {
            return (
                Some(format!("The certificate of \"{name}\" is {s}; UPM refuses installs under it, so Countersign does not sign with it. Renew it in the Certificates view (same key), then sign.")),
                warnings,
            );
        }
        Some(ValidityState::Valid { .. }) => {}
    }
    (None, warnings)
}

impl SignView {
    pub fn ui(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext) {
        let ctx = ui.ctx().clone();
        self.drop_zone(ui, cx, &ctx);
        ui.add_space(8.0);

        // Settings for the whole queue; the notes are for the key chosen before this frame.
        let chosen = self.key.clone();
        self.settings_grid(ui, cx);
        let rows: &[KeyRow] = cx.keys;
        let row = chosen.as_ref().and_then(|k| rows.iter().find(|r| &r.record.name == k));
        // What keeps the key from signing is said above, in a banner; the output folder's
        // problem beside the Sign button.
        let key_blocker = Self::key_banners(ui, row, cx.keys_failed);
        let said_above = key_blocker.is_some();
        let blocker = key_blocker.or_else(|| self.folder_blocker());

        ui.add_space(6.0);
        self.sign_buttons(ui, cx, blocker.as_deref(), said_above);
        self.earlier_question(ui, cx);
        ui.add_space(6.0);
        self.item_list(ui, cx, &ctx, blocker.is_none());
        self.shortcuts(&ctx, cx, blocker.is_none());
    }

    /// What the output folder keeps from signing, if anything.
    fn folder_blocker(&self) -> Option<String> {
        match self.out_state {
            OutFolder::Missing => {
                Some("The output folder does not exist yet: press Create folder, or choose another.".into())
            }
            OutFolder::NotAFolder => {
                Some("The output folder is a file, not a folder: choose a folder.".into())
            }
            OutFolder::Beside | OutFolder::Exists => None,
        }
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
                let name =
                    item.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                copy_signature(ctx, cx, &name, signature);
            }
        }
    }

    fn choose_files(&mut self, cx: &mut ViewContext) {
        self.path_problem = None;
        let dialogs = cx.dialogs();
        cx.jobs.spawn("choosing files", move || Message::FilesChosen(dialogs.artifacts()));
    }

    /// Signs what waits, unless earlier bundles of the same names need an answer first.
    fn sign_waiting(&mut self, cx: &mut ViewContext) {
        for item in self.items.iter_mut().filter(|i| matches!(i.state, State::Cancelled)) {
            item.state = State::Waiting;
        }
        self.ask_or_start(cx);
    }

    /// Signs the files waiting, unless some would land on an earlier bundle and the person
    /// has not said yet whether to replace it or keep both.
    fn ask_or_start(&mut self, cx: &mut ViewContext) {
        if self.existing.is_none() {
            let base = self.out_dir.path();
            self.earlier = self
                .items
                .iter()
                .filter(|i| matches!(i.state, State::Waiting))
                .filter_map(|i| countersign::batch::earlier_bundle(&i.path, base.as_deref()))
                .collect();
            if !self.earlier.is_empty() {
                return;
            }
        }
        self.queue_active = true;
        self.start_batch(cx);
    }

    /// Asks whether to replace earlier bundles or keep both, once Sign found some.
    fn earlier_question(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext) {
        if self.earlier.is_empty() {
            return;
        }
        let names: Vec<String> = self.earlier.iter().map(|d| d.display().to_string()).collect();
        widgets::banner(
            ui,
            Tone::Warn,
            &format!(
                "Signed before: {}. Replace the earlier bundle, or keep both (the new one gets a numbered folder beside it)?",
                names.join(", ")
            ),
        );
        ui.horizontal(|ui| {
            let mut answer = None;
            if ui.button("Replace earlier bundle").clicked() {
                answer = Some(Existing::Replace);
            }
            if ui.button("Keep both").clicked() {
                answer = Some(Existing::NextFree);
            }
            if ui.button("Don't sign").clicked() {
                self.earlier.clear();
            }
            if let Some(existing) = answer {
                self.earlier.clear();
                self.existing = Some(existing);
                self.sign_waiting(cx);
            }
        });
    }

    /// Draws the settings for the whole queue: the signing key, note, output folder and zip.
    fn settings_grid(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext) {
        let rows: &[KeyRow] = cx.keys;
        let chosen = self.key.clone();
        egui::Grid::new("sign-settings").num_columns(2).spacing([12.0, 6.0]).show(ui, |ui| {
            let l = ui.label("Signing key");
            egui::ComboBox::from_id_salt("signing-key")
                .selected_text(chosen.clone().unwrap_or_else(|| "no key yet".into()))
                .width(320.0)
                .show_ui(ui, |ui| {
                    for r in rows {
                        let (_, state) = widgets::validity(r.certificate_state(widgets::now()));
                        ui.selectable_value(
                            &mut self.key,
                            Some(r.record.name.clone()),
                            match r.record.status.replaced() {
                                None => format!("{} ({}, {state})", r.record.name, r.record.algorithm),
                                Some((reason, ..)) => format!(
                                    "{} ({}, {state}, {})",
                                    r.record.name,
                                    r.record.algorithm,
                                    reason.marked()
                                ),
                            },
                        );
                    }
                })
                .response
                .labelled_by(l.id);
            ui.end_row();
            let l = ui.label("Note");
            ui.add(
                egui::TextEdit::singleline(&mut self.note)
                    .hint_text("for customer / ticket")
                    .desired_width(360.0),
            )
            .labelled_by(l.id);
            ui.end_row();
            let l = ui.label("Output folder");
            ui.vertical(|ui| {
                let events =
                    self.out_dir.ui_labelled_by(ui, l.id, "next to each file", "Choose output folder…");
                if events.changed {
                    self.out_state = OutFolder::of(self.out_dir.path().as_deref());
                }
                if events.browse {
                    let dialogs = cx.dialogs();
                    cx.jobs.spawn("choosing a folder", move || {
                        Message::OutputFolderChosen(dialogs.folder("Where should bundles go?"))
                    });
                }
                self.out_folder_state(ui, cx);
            });
            ui.end_row();
            ui.label("");
            ui.checkbox(&mut self.zip, "Also pack each bundle as one .zip");
            ui.end_row();
        });
    }

    /// Says what is wrong with the typed output folder, with Create folder where it is missing.
    fn out_folder_state(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext) {
        let Some(dir) = self.out_dir.path() else { return };
        match self.out_state {
            OutFolder::Missing => {
                ui.horizontal(|ui| {
                    ui.label(
                        RichText::new("This folder does not exist yet.")
                            .color(widgets::colour(ui, Tone::Warn)),
                    );
                    if ui.button("Create folder").clicked() {
                        cx.jobs.spawn("creating a folder", move || {
                            Message::OutputFolderMade(std::fs::create_dir_all(&dir).map_err(|e| {
                                format!(
                                    "The folder {} could not be made: {e}. Choose another.",
                                    dir.display()
                                )
                            }))
                        });
                    }
                });
            }
            OutFolder::NotAFolder => {
                ui.label(
                    RichText::new("This is a file, not a folder.").color(widgets::colour(ui, Tone::Bad)),
                );
            }
            OutFolder::Beside | OutFolder::Exists => {}
        }
    }

    /// Draws the warnings about the signing key, then what keeps it from signing (returned too).
    fn key_banners(ui: &mut egui::Ui, row: Option<&KeyRow>, keys_failed: bool) -> Option<String> {
        let (blocker, warnings) = key_notes(row, keys_failed);
        for w in &warnings {
            widgets::banner(ui, Tone::Warn, w);
        }
        // Without a keychain the window's banner above every view says it already.
        if let Some(b) = &blocker
            && !keys_failed
        {
            widgets::banner(ui, Tone::Bad, b);
        }
        blocker
    }

    /// Draws the Sign and Clear finished buttons (`blocker`: what keeps the key or the
    /// output folder from signing; `said_above`: the view shows it already).
    fn sign_buttons(
        &mut self,
        ui: &mut egui::Ui,
        cx: &mut ViewContext,
        blocker: Option<&str>,
        said_above: bool,
    ) {
        let waiting = self.waiting();
        ui.horizontal(|ui| {
            let can_sign = blocker.is_none() && waiting > 0 && !self.running && self.earlier.is_empty();
            let label = match waiting {
                0 => "Sign files".to_owned(),
                1 => "Sign 1 file".to_owned(),
                n => format!("Sign {n} files"),
            };
            let why = || match blocker {
                Some(b) => b.to_owned(),
                None if self.running => "Signing is under way.".to_owned(),
                None if !self.earlier.is_empty() => {
                    "Answer the question about the earlier bundle first.".to_owned()
                }
                None => "Add a .jar or .obr to sign first.".to_owned(),
            };
            // A blocker on screen already, in a banner above (or, without a keychain, in the
            // window's own banner), would be said twice beside the button.
            let sign =
                widgets::primary_saying(ui, can_sign, &label, why, !said_above).on_hover_text("Ctrl+Enter");
            if sign.clicked() {
                self.sign_waiting(cx);
            }
            let finished = self.items.iter().any(|i| matches!(i.state, State::Done(_) | State::Failed(_)));
            if ui
                .add_enabled(finished, egui::Button::new("Clear finished"))
                .disabled_because("No signing has finished yet.")
                .clicked()
            {
                self.items.retain(|i| !matches!(i.state, State::Done(_) | State::Failed(_)));
            }
        });
    }

    /// Draws a card per file and carries out what was pressed on them (`key_ok`: a retry
    /// may sign at once).
    fn item_list(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext, ctx: &egui::Context, key_ok: bool) {
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
                CardAction::Copy(sig) => {
                    let name =
                        item.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                    copy_signature(ctx, cx, &name, sig);
                }
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

    fn drop_zone(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext, ctx: &egui::Context) {
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
        });
    }

    /// Signs every waiting file at once, if the queue is on and no batch is running.
    fn start_batch(&mut self, cx: &mut ViewContext) {
        if self.running || !self.queue_active {
            return;
        }
        let Some(key_name) = self.key.clone() else { return };
        let mut ids = Vec::new();
        let mut paths = Vec::new();
        let mut progress = Vec::new();
        for item in self.items.iter_mut().filter(|i| matches!(i.state, State::Waiting)) {
            let p = Progress::new();
            item.state = State::Signing(p.clone());
            ids.push(item.id);
            paths.push(item.path.clone());
            progress.push(p);
        }
        if ids.is_empty() {
            self.queue_active = false;
            return;
        }
        self.running = true;
        let base = self.out_dir.path();
        let existing = self.existing.unwrap_or(Existing::NextFree);
        let note = Some(self.note.trim().to_owned()).filter(|n| !n.is_empty());
        let zip = self.zip;
        let store = cx.store();
        let history = cx.config.history.clone();
        cx.jobs.spawn_with_updates("signing", move |updates| {
            let signer = match store.and_then(|s| Ok(Signer::stored(s, &key_name)?)) {
                Ok(signer) => signer,
                Err(error) => {
                    updates.send(Message::KeyUnusable { ids, error });
                    return Message::BatchFinished;
                }
            };
            // Each file gets a folder of its own holding the app and its bundle: the folder is
            // what the customer receives, and files of one name never collide.
            let options =
                SignOptions { layout: Layout::FolderEach(base), note, zip, existing, now: widgets::now() };
            signer::sign(&signer, &paths, options, &Ok(history), &progress, |i, result| {
                let done = result.map_err(|e| Failure::BatchItem(crate::gui::failure::batch_item(e))).map(
                    |(signed, warnings)| Done {
                        bundle_dir: signed.dir.clone(),
                        files: signed.files.clone(),
                        signature: signed.signature_base64.clone(),
                        warnings: warnings.to_vec(),
                    },
                );
                updates.send(Message::Signed {
                    id: ids[i],
                    result: done,
                    cancelled: progress[i].is_cancelled(),
                });
            });
            Message::BatchFinished
        });
    }
}

/// Puts a signature on the clipboard and says so.
fn copy_signature(ctx: &egui::Context, cx: &mut ViewContext, name: &str, signature: String) {
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
