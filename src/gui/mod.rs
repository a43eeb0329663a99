//! The window: an eframe app over the same core calls as the command line.
//!
//! Drawing happens on the UI thread and only reads state. Anything that touches the keychain,
//! a file or a dialog runs on a worker thread (`worker.rs`) and comes back as a typed message
//! (`messages.rs`) that `App::apply` hands to the view that owns it, followed by a repaint.
//! With nothing running, egui repaints only on input.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use eframe::egui::{self, RichText};

use countersign::history::History;
use countersign::keystore::KeyStore;

mod actions;
mod chrome;
mod context;
pub(crate) mod desktop;
mod failure;
mod launch;
mod messages;
mod notices;
mod secret;
#[cfg(test)]
mod tests;
mod theme;
mod views;
mod widgets;
mod worker;

use actions::{Action, Actions};
use chrome::keys_unavailable;
use context::ViewContext;
pub use desktop::{Dialogs, NativeDesktop};
use failure::Failure;
pub use launch::run;
use messages::Message;
use notices::{Notice, Notices};
use views::{certificates, first_run, history, keys, replace, sign, trust_store, verify};
use widgets::{DisabledBecause as _, Tone};
use worker::Worker;

/// Set to print how long the first frame took, and the frame count on exit (measurements).
pub const STARTUP_REPORT_ENV: &str = "COUNTERSIGN_STARTUP_REPORT";
/// Set to close the window once its first frame is drawn (exit status 0), and to report a
/// window that cannot open on stderr only, never in a message box: the smoke test of CI
/// machines that have a display but no one to look at it (macOS and Windows runners).
pub const SMOKE_TEST_ENV: &str = "COUNTERSIGN_SMOKE_TEST";

/// Set to `light` or `dark` to open in that theme rather than the system's.
pub const THEME_ENV: &str = "COUNTERSIGN_THEME";
/// Set to a view's name (`sign`, `keys`, `certificates`, `verify`, `history`, `trust-store`)
/// to open on it: how the Xvfb test photographs every view.
pub const VIEW_ENV: &str = "COUNTERSIGN_VIEW";

/// Everything the window works on, chosen by whoever opens it (the binary, or a test).
pub struct Config {
    /// The key store, or why there is none (no data folder, no keychain).
    pub store: Result<KeyStore, String>,
    pub history: History,
    /// File dialogs and the file manager.
    pub dialogs: Dialogs,
    /// Where bundles go when no output folder is chosen, and where the first run puts the
    /// customer's copy of the certificate.
    pub documents: PathBuf,
}

impl Config {
    /// The user's own key store, history and documents folder, and the native dialogs.
    pub fn from_environment() -> Self {
        let store = KeyStore::open_default().map_err(|e| e.to_string());
        let home = countersign::keystore::default_home()
            .unwrap_or_else(|_| std::env::temp_dir().join("countersign"));
        let user_dirs = directories::UserDirs::new();
        let documents = user_dirs
            .as_ref()
            .and_then(|d| {
                d.document_dir()
                    .map(|p| p.join("Countersign"))
                    .or_else(|| Some(d.home_dir().join("Countersign")))
            })
            .unwrap_or_else(|| home.join("out"));
        // Dialogs start in the user's home (then in the folder last used), not in whatever
        // folder the window was started from.
        let user_home =
            user_dirs.as_ref().map(|d| d.home_dir().to_path_buf()).unwrap_or_else(|| documents.clone());
        let dialogs = Dialogs::new(Arc::new(NativeDesktop), user_home);
        Config { store, history: History::in_home(&home), dialogs, documents }
    }
}

/// The views, in the order of the navigation bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Sign,
    Keys,
    Certificates,
    Verify,
    History,
    TrustStore,
    /// The "Replace a key" page, opened from the Keys view (no tab of its own).
    Replace,
}

impl View {
    const ALL: [View; 6] =
        [View::Sign, View::Keys, View::Certificates, View::Verify, View::History, View::TrustStore];

    /// The view named `name` (its title in lower case, spaces as dashes).
    fn named(name: &str) -> Option<View> {
        View::ALL
            .into_iter()
            .chain([View::Replace])
            .find(|v| v.title().to_lowercase().replace(' ', "-") == name.trim().to_lowercase())
    }

    fn title(self) -> &'static str {
        match self {
            View::Sign => "Sign",
            View::Keys => "Keys",
            View::Certificates => "Certificates",
            View::Verify => "Verify",
            View::History => "History",
            View::TrustStore => "Trust store",
            View::Replace => "Replace a key",
        }
    }
}

/// A stored key as the window shows it: the core's overview of it, the same the command
/// line's `keys list` shows.
pub type KeyRow = countersign::overview::KeyOverview;

#[derive(Debug)]
enum KeyList {
    Loading,
    Loaded(Vec<KeyRow>),
    Failed(Failure),
}

/// Every view of the window, each with its own state.
#[derive(Default)]
struct Views {
    first_run: first_run::FirstRun,
    sign: sign::SignView,
    keys: keys::KeysView,
    certificates: certificates::CertificatesView,
    verify: verify::VerifyView,
    history: history::HistoryView,
    trust: trust_store::TrustStoreView,
    replace: replace::ReplaceView,
}

/// The application.
pub struct App {
    config: Config,
    view: View,
    worker: Worker,
    notices: Notices,
    /// What views and finished jobs asked of the window this frame, applied after drawing.
    actions: Actions,
    keys: KeyList,
    /// Set when an action changed keys or history: they are read again on the next frame.
    keys_dirty: bool,
    /// Counts key-list loads, so that a slow load started before a change (a rename) cannot
    /// land after a newer one and undo what it shows.
    keys_generation: u64,
    history_dirty: bool,
    /// Set once the user finished or skipped the first-run setup.
    setup_dismissed: bool,
    /// The key chosen in the Keys and Certificates views.
    selected_key: Option<String>,
    views: Views,
    startup: Option<Instant>,
    /// Print once when the first frame with nothing pending was drawn (measurements).
    report_idle: bool,
    frames: u64,
    /// The window's egui context, for work started from a finished job.
    ctx: egui::Context,
}

impl App {
    pub fn new(config: Config) -> Self {
        let report =
            std::env::var_os(STARTUP_REPORT_ENV).is_some() || std::env::var_os(SMOKE_TEST_ENV).is_some();
        let view = std::env::var(VIEW_ENV).ok().and_then(|v| View::named(&v)).unwrap_or(View::Sign);
        App {
            config,
            view,
            worker: Worker::default(),
            notices: Notices::default(),
            actions: Actions::default(),
            keys: KeyList::Loading,
            keys_dirty: true,
            keys_generation: 0,
            history_dirty: true,
            setup_dismissed: false,
            selected_key: None,
            views: Views::default(),
            startup: report.then(Instant::now),
            report_idle: report,
            frames: 0,
            ctx: egui::Context::default(),
        }
    }

    #[cfg(test)]
    /// Keeps successes on screen until the next outcome: tests step frames far faster than
    /// anyone reads, so a timed toast would be gone before a test looks.
    pub fn keep_notices(&mut self) {
        self.notices.keep_successes();
    }

    #[cfg(test)]
    /// True while background work has not come back yet (tests wait on this).
    pub fn is_busy(&self) -> bool {
        self.worker.pending() > 0
    }

    #[cfg(test)]
    /// True when every passphrase field of the window is empty and wiped to its last byte.
    pub fn passphrases_wiped(&self) -> bool {
        self.views.keys.passphrases_wiped()
    }

    #[cfg(test)]
    /// Reads the keys and the history again (they may have changed outside the window:
    /// the command line, another window).
    pub fn refresh(&mut self) {
        self.keys_dirty = true;
        self.history_dirty = true;
    }

    /// The views, and what they may use while they draw or apply a message: each view is
    /// borrowed apart from the rest of the app, so it cannot reach into another.
    fn split(&mut self) -> (&mut Views, ViewContext<'_>) {
        let keys: &[KeyRow] = match &self.keys {
            KeyList::Loaded(rows) => rows,
            _ => &[],
        };
        let cx = ViewContext {
            keys,
            selected_key: self.selected_key.as_deref(),
            keys_failed: matches!(self.keys, KeyList::Failed(_)),
            keys_loading: matches!(self.keys, KeyList::Loading),
            config: &self.config,
            jobs: self.worker.jobs(&self.ctx),
            actions: &mut self.actions,
        };
        (&mut self.views, cx)
    }

    fn store(&self) -> Result<KeyStore, Failure> {
        self.config.store.clone().map_err(Failure::NoKeyStore)
    }

    /// Reads the key index and asks the keychain about each key, off the UI thread.
    fn reload_keys(&mut self, ctx: &egui::Context) {
        let store = self.store();
        self.keys_generation += 1;
        let generation = self.keys_generation;
        self.worker.jobs(ctx).spawn("loading keys", move || {
            let load = || -> Result<Vec<KeyRow>, Failure> { Ok(store?.overview()?) };
            Message::KeysLoaded { generation, result: load() }
        });
    }

    fn keys_loaded(&mut self, generation: u64, result: Result<Vec<KeyRow>, Failure>) {
        if generation != self.keys_generation {
            return; // a newer load is on its way
        }
        self.keys = match result {
            Ok(rows) => {
                if self.selected_key.as_ref().is_none_or(|s| !rows.iter().any(|r| &r.record.name == s)) {
                    self.selected_key = rows.first().map(|r| r.record.name.clone());
                }
                self.views.sign.keys_changed(&rows);
                KeyList::Loaded(rows)
            }
            Err(e) => KeyList::Failed(e),
        };
    }

    fn reload_history(&mut self, ctx: &egui::Context) {
        let history = self.config.history.clone();
        self.worker
            .jobs(ctx)
            .spawn("reading the signing history", move || history::Message::Loaded(history.load()));
    }

    /// Applies one result of background work: the app's own, or handed to its view.
    fn apply(&mut self, message: Message) {
        let (views, mut cx) = self.split();
        let actions = &mut *cx.actions;
        match message {
            Message::KeysLoaded { generation, result } => self.keys_loaded(generation, result),
            Message::FolderOpened(result) => {
                if let Err(e) = result {
                    actions.failure(e);
                }
            }
            Message::JobPanicked { what } => actions.push(Action::Notify(Notice::internal(format!(
                "Countersign hit an internal error while {what}. Nothing was left half-written; try again, and report it if it repeats."
            )))),
            Message::JobNotStarted { what, error } => actions.push(Action::Notify(Notice::internal(format!(
                "Countersign could not start work ({what}): {error}. Close other programs and try again."
            )))),
            Message::FirstRun(m) => views.first_run.apply(m, &mut cx),
            Message::Keys(m) => views.keys.apply(m, &mut cx),
            Message::Certificates(m) => views.certificates.apply(m, &mut cx),
            Message::Sign(m) => views.sign.apply(m, &mut cx),
            Message::Verify(m) => views.verify.apply(m),
            Message::History(m) => views.history.apply(m, &mut cx),
            Message::TrustStore(m) => views.trust.apply(m, &mut cx),
            Message::Replace(m) => views.replace.apply(m, &mut cx),
        }
    }

    fn needs_setup(&self) -> bool {
        !self.setup_dismissed
            && (self.views.first_run.in_progress()
                || matches!(&self.keys, KeyList::Loaded(rows) if rows.is_empty()))
    }

    /// Draws one frame. Public so that tests can drive the window without eframe.
    pub fn draw(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        self.ctx = ctx.clone();
        if self.frames == 0 {
            theme::apply(&ctx);
            match std::env::var(THEME_ENV).as_deref() {
                Ok("light") => ctx.set_theme(egui::ThemePreference::Light),
                Ok("dark") => ctx.set_theme(egui::ThemePreference::Dark),
                _ => {}
            }
            // The first view's keyboard focus starts in its content.
            widgets::view_opened(&ctx);
        }
        self.frames += 1;
        for message in self.worker.finished() {
            self.apply(message);
        }
        self.navigation_bar(ui);
        self.status_bar(ui);
        self.central_panel(ui);
        // Over the view, not above it: a notice never moves the view's controls.
        self.notices.ui(&ctx, self.view);
        self.take_dropped_files(&ctx);
        self.end_frame(&ctx);
    }

    /// The notices, a failed key list, and the current view (or the first run).
    fn central_panel(&mut self, ui: &mut egui::Ui) {
        egui::CentralPanel::default().show(ui, |ui| {
            if let KeyList::Failed(e) = &self.keys
                && !matches!(self.view, View::Verify | View::History)
            {
                if keys_unavailable(ui, e) {
                    self.keys = KeyList::Loading;
                    self.actions.push(Action::ReloadKeys);
                }
                ui.add_space(6.0);
            }
            egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
                if self.needs_setup() {
                    let (views, mut cx) = self.split();
                    views.first_run.ui(ui, &mut cx);
                    return;
                }
                let view = self.view;
                let (views, mut cx) = self.split();
                match view {
                    View::Sign => views.sign.ui(ui, &mut cx),
                    View::Keys => views.keys.ui(ui, &mut cx),
                    View::Certificates => views.certificates.ui(ui, &mut cx),
                    View::Verify => views.verify.ui(ui, &mut cx),
                    View::History => views.history.ui(ui, &mut cx),
                    View::TrustStore => views.trust.ui(ui, &mut cx),
                    View::Replace => views.replace.ui(ui, &mut cx),
                }
            });
        });
    }

    /// Files dropped anywhere on the window go to the view that takes files.
    fn take_dropped_files(&mut self, ctx: &egui::Context) {
        let dropped: Vec<PathBuf> =
            ctx.input(|i| i.raw.dropped_files.iter().map(|f| f.path().to_path_buf()).collect());
        if !dropped.is_empty() && !self.needs_setup() {
            match self.view {
                View::Verify => self.views.verify.take_paths(dropped),
                _ => {
                    self.view = View::Sign;
                    let (views, mut cx) = self.split();
                    views.sign.add_files(&mut cx.jobs, dropped);
                }
            }
        }
    }

    /// After drawing: the actions of this frame, reloads they asked for, repaints while busy,
    /// and the first frame's report.
    fn end_frame(&mut self, ctx: &egui::Context) {
        self.apply_actions();
        // After the actions, so that a reload they asked for starts in this frame.
        if std::mem::take(&mut self.keys_dirty) {
            self.reload_keys(ctx);
        }
        if std::mem::take(&mut self.history_dirty) {
            self.reload_history(ctx);
        }

        if self.worker.pending() > 0 {
            // Progress bars move only if someone repaints; nothing is repainted when idle.
            ctx.request_repaint_after(Duration::from_millis(100));
        }
        if self.report_idle && self.worker.pending() == 0 && !matches!(self.keys, KeyList::Loading) {
            // Everything the view was waiting for is drawn: what a screenshot wants.
            self.report_idle = false;
            eprintln!("countersign: idle after {} frames", self.frames);
        }
        if let Some(start) = self.startup.take() {
            eprintln!(
                "countersign: first frame drawn {} ms after the window was created",
                start.elapsed().as_millis()
            );
            if std::env::var_os(SMOKE_TEST_ENV).is_some() {
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
        }
    }

    fn open_view(&mut self, view: View) {
        if view != View::Keys {
            // Passphrases typed into the Keys view are not needed once it is left.
            self.views.keys.wipe_passphrases();
        }
        if view != self.view {
            widgets::view_opened(&self.ctx);
        }
        self.view = view;
        if view == View::History {
            self.history_dirty = true;
        }
    }

    /// Applies what views and finished jobs asked for, in the order they asked.
    fn apply_actions(&mut self) {
        let actions = self.actions.take();
        if !actions.is_empty() {
            // This frame was drawn before they were applied: the next one shows what changed,
            // without waiting for the user to move the mouse.
            self.ctx.request_repaint();
        }
        for action in actions {
            match action {
                Action::ShowView(view) => self.open_view(view),
                Action::FinishSetup(view) => {
                    self.setup_dismissed = true;
                    self.open_view(view);
                }
                Action::ReloadKeys => self.keys_dirty = true,
                Action::ReloadHistory => self.history_dirty = true,
                Action::Notify(notice) => {
                    let now = self.ctx.input(|i| i.time);
                    self.notices.push(notice, self.view, now);
                }
                Action::SelectKey(name) => self.selected_key = Some(name),
                Action::ReplaceKey(name) => {
                    self.views.replace.open(name.clone());
                    self.selected_key = Some(name);
                    self.open_view(View::Replace);
                }
                Action::VerifyBundle(dir) => {
                    self.open_view(View::Verify);
                    let (views, mut cx) = self.split();
                    views.verify.take_paths(vec![dir]);
                    views.verify.start(&mut cx);
                }
                Action::OpenFolder(folder) => {
                    let dialogs = self.config.dialogs.clone();
                    self.worker.jobs(&self.ctx).spawn("opening a folder", move || {
                        Message::FolderOpened(dialogs.open_folder(&folder))
                    });
                }
            }
        }
    }
}

impl eframe::App for App {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.draw(ui);
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        if std::env::var_os(STARTUP_REPORT_ENV).is_some() {
            eprintln!("countersign: {} frames drawn", self.frames);
        }
    }
}

fn heading(ui: &mut egui::Ui, text: &str) {
    ui.label(RichText::new(text).heading());
}
