//! Driving the window headlessly: a harness around the real app, a desktop whose dialogs
//! answer from a script, and dropped files.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::gui::desktop::{Desktop, DialogKind, DialogRequest, NoDialog};
use crate::gui::{App, Config, Dialogs};
use countersign::history::History;
use countersign::keystore::KeyStore;
use eframe::egui;
use egui_kittest::Harness;
pub use egui_kittest::kittest::{NodeT as _, Queryable as _};

use crate::common::keychain::TestKeychain;

/// One scripted answer of a dialog.
type Answer = Result<Vec<PathBuf>, NoDialog>;

/// Dialog answers given in order; what the app asked to open is recorded.
#[derive(Default)]
pub struct ScriptedDesktop {
    answers: Mutex<VecDeque<Answer>>,
    artifacts: Mutex<VecDeque<Answer>>,
    /// With no answer scripted, every dialog fails as on a desktop without any.
    pub no_dialogs: std::sync::atomic::AtomicBool,
    pub opened: Mutex<Vec<PathBuf>>,
    /// The title and starting folder of each dialog shown.
    pub asked: Mutex<Vec<(String, PathBuf)>>,
}

impl ScriptedDesktop {
    /// The next file or folder dialog answers `path` (`None`: the person cancelled).
    pub fn answer(&self, path: Option<&Path>) {
        self.answers.lock().unwrap().push_back(Ok(path.map(Path::to_path_buf).into_iter().collect()));
    }

    pub fn answer_artifacts(&self, paths: &[&Path]) {
        self.artifacts.lock().unwrap().push_back(Ok(paths.iter().map(|p| p.to_path_buf()).collect()));
    }

    /// From now on no dialog can be shown, as on a desktop with neither a portal nor zenity.
    pub fn without_dialogs(&self) {
        self.no_dialogs.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Desktop for ScriptedDesktop {
    fn choose(&self, request: &DialogRequest<'_>) -> Result<Vec<PathBuf>, NoDialog> {
        self.asked.lock().unwrap().push((request.title.to_owned(), request.start.to_path_buf()));
        if self.no_dialogs.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(NoDialog { reason: "the test's desktop has no file dialog".into() });
        }
        match request.kind {
            DialogKind::Artifacts => self.artifacts.lock().unwrap().pop_front().unwrap_or(Ok(Vec::new())),
            _ => self
                .answers
                .lock()
                .unwrap()
                .pop_front()
                .expect("a dialog opened that the test did not expect"),
        }
    }
    fn open_folder(&self, path: &Path) -> Result<(), String> {
        self.opened.lock().unwrap().push(path.to_path_buf());
        Ok(())
    }
}

#[derive(Debug)]
struct Dropped(PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &Path {
        &self.0
    }
    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

/// One window on a test's own key store (real keychain), history and documents folder.
pub struct Window {
    pub harness: Harness<'static, App>,
    pub desktop: Arc<ScriptedDesktop>,
    pub store: KeyStore,
    pub documents: PathBuf,
    pub history: History,
}

impl Window {
    pub fn open(k: &impl TestKeychain) -> Self {
        let store = KeyStore::new(k.data_home(), k.connect());
        Self::open_with(k, Ok(store.clone()), store)
    }

    /// A window whose key store could not be opened, for the reason `why` (as on a machine
    /// without a keychain); `store` is there for the test only.
    pub fn open_without_keychain(k: &impl TestKeychain, why: &str) -> Self {
        let store = KeyStore::new(k.data_home(), k.connect());
        Self::open_with(k, Err(why.to_owned()), store)
    }

    fn open_with(k: &impl TestKeychain, for_window: Result<KeyStore, String>, store: KeyStore) -> Self {
        let desktop = Arc::new(ScriptedDesktop::default());
        let documents = k.folder().join("Documents");
        let history = History::in_home(&k.data_home());
        let config = Config {
            store: for_window,
            history: history.clone(),
            dialogs: Dialogs::new(desktop.clone(), k.folder().to_path_buf()),
            documents: documents.clone(),
        };
        let mut app = App::new(config);
        app.keep_notices();
        let harness = Harness::builder()
            .with_size([1100.0, 2400.0])
            .build_ui_state(|ui, app: &mut App| app.draw(ui), app);
        let mut w = Window { harness, desktop, store, documents, history };
        w.settle();
        w
    }

    /// Steps frames until background work is done and its results are drawn.
    pub fn settle(&mut self) {
        let start = Instant::now();
        let mut idle_frames = 0;
        while idle_frames < 3 {
            self.harness.step();
            if self.harness.state().is_busy() {
                idle_frames = 0;
                std::thread::sleep(Duration::from_millis(5));
            } else {
                idle_frames += 1;
            }
            assert!(start.elapsed() < Duration::from_secs(180), "the window stayed busy for 3 minutes");
        }
    }

    /// Scrolls the control named `label` into view, as a user would before using it.
    fn reveal(&mut self, label: &str) {
        self.harness.get_by_label(label).scroll_to_me();
        self.harness.step();
    }

    /// Clicks the control named `label` through AccessKit (as a screen reader would): the
    /// click reaches that control even if the layout moved since the last frame (a key list
    /// that another instance just changed).
    pub fn click(&mut self, label: &str) {
        self.reveal(label);
        self.harness.get_by_label(label).click_accesskit();
        self.settle();
    }

    /// Types into the text field named `label` (replacing nothing: fields start empty).
    pub fn type_into(&mut self, label: &str, text: &str) {
        self.reveal(label);
        self.harness.get_by_label(label).focus();
        self.harness.step();
        self.harness.get_by_label(label).type_text(text);
        self.settle();
    }

    /// Types into the field named `label` one key at a time, as a keyboard does: no event
    /// ever holds more than one character of `text` (what the passphrase tests need).
    pub fn type_keys(&mut self, label: &str, text: &str) {
        self.reveal(label);
        self.harness.get_by_label(label).focus();
        self.harness.step();
        let mut key = [0u8; 4];
        for c in text.chars() {
            self.harness.get_by_label(label).type_text(c.encode_utf8(&mut key));
            self.harness.step();
        }
        self.settle();
    }

    pub fn drop_files(&mut self, paths: &[&Path]) {
        for p in paths {
            self.harness.input_mut().dropped_files.push(Arc::new(Dropped(p.to_path_buf())));
        }
        self.settle();
    }

    /// How many labels on screen contain `part`.
    pub fn count_containing(&self, part: &str) -> usize {
        self.harness.query_all_by_label_contains(part).count()
    }

    pub fn has_containing(&self, part: &str) -> bool {
        self.harness.query_all_by_label_contains(part).next().is_some()
    }

    /// All text labels, for failure messages.
    pub fn texts(&self) -> String {
        let mut out = Vec::new();
        fn walk<'a>(n: egui_kittest::Node<'a>, out: &mut Vec<String>) {
            use egui_kittest::kittest::NodeT as _;
            if let Some(l) = n.accesskit_node().label() {
                out.push(l);
            }
            for c in n.children() {
                walk(c, out);
            }
        }
        walk(self.harness.root(), &mut out);
        out.join("\n")
    }

    /// The labels of the disabled controls that give a screen reader no reason (no accessible
    /// description).
    pub fn disabled_without_reason(&self) -> Vec<String> {
        fn walk<'a>(n: egui_kittest::Node<'a>, out: &mut Vec<String>) {
            use egui_kittest::kittest::NodeT as _;
            let a = n.accesskit_node();
            if a.is_disabled() && a.description().is_none_or(|d| d.trim().is_empty()) {
                out.push(format!("{:?} {:?}", a.role(), a.label().unwrap_or_default()));
            }
            for c in n.children() {
                walk(c, out);
            }
        }
        let mut out = Vec::new();
        walk(self.harness.root(), &mut out);
        out
    }

    /// The accessible description of the control labelled `label`.
    pub fn description_of(&self, label: &str) -> Option<String> {
        self.harness.get_by_label(label).accesskit_node().description()
    }

    #[track_caller]
    pub fn expect(&self, part: &str) {
        assert!(
            self.has_containing(part),
            "expected a label containing {part:?}; the window shows:\n{}",
            self.texts()
        );
    }

    #[track_caller]
    pub fn expect_not(&self, part: &str) {
        assert!(
            !self.has_containing(part),
            "expected no label containing {part:?}; the window shows:\n{}",
            self.texts()
        );
    }

    /// Clicks `label` and returns what that click put on the clipboard.
    pub fn click_and_copy(&mut self, label: &str) -> Vec<String> {
        self.harness.get_by_label(label).click();
        self.harness.step();
        let copied = self.copied();
        self.settle();
        copied
    }

    fn copied(&self) -> Vec<String> {
        self.harness
            .output()
            .platform_output
            .commands
            .iter()
            .filter_map(|c| match c {
                egui::OutputCommand::CopyText(t) => Some(t.clone()),
                _ => None,
            })
            .collect()
    }

    /// What the text field named `label` holds.
    pub fn value_of(&self, label: &str) -> String {
        self.harness.get_by_label(label).accesskit_node().value().unwrap_or_default()
    }

    pub fn is_enabled(&self, label: &str) -> bool {
        !self.harness.get_by_label(label).accesskit_node().is_disabled()
    }
}
