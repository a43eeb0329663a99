//! Driving the window headlessly: a harness around the real app, a desktop whose dialogs
//! answer from a script, and dropped files.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::gui::{App, Config, Desktop};
use countersign::history::History;
use countersign::keystore::{KeyStore, Secrets};
use eframe::egui;
use egui_kittest::Harness;
pub use egui_kittest::kittest::{NodeT as _, Queryable as _};

use crate::common::keychain::Keychain;

/// Dialog answers given in order; what the app asked to open is recorded.
#[derive(Default)]
pub struct ScriptedDesktop {
    answers: Mutex<VecDeque<Option<PathBuf>>>,
    artifacts: Mutex<VecDeque<Vec<PathBuf>>>,
    pub opened: Mutex<Vec<PathBuf>>,
    pub asked: Mutex<Vec<String>>,
}

impl ScriptedDesktop {
    /// The next file or folder dialog answers `path` (`None`: the person cancelled).
    pub fn answer(&self, path: Option<&Path>) {
        self.answers.lock().unwrap().push_back(path.map(Path::to_path_buf));
    }

    pub fn answer_artifacts(&self, paths: &[&Path]) {
        self.artifacts.lock().unwrap().push_back(paths.iter().map(|p| p.to_path_buf()).collect());
    }

    fn next(&self, title: &str) -> Option<PathBuf> {
        self.asked.lock().unwrap().push(title.to_owned());
        self.answers.lock().unwrap().pop_front().expect("a dialog opened that the test did not expect")
    }
}

impl Desktop for ScriptedDesktop {
    fn pick_artifacts(&self) -> Vec<PathBuf> {
        self.artifacts.lock().unwrap().pop_front().unwrap_or_default()
    }
    fn pick_file(&self, title: &str, _: &[&str]) -> Option<PathBuf> {
        self.next(title)
    }
    fn pick_folder(&self, title: &str) -> Option<PathBuf> {
        self.next(title)
    }
    fn save_file(&self, title: &str, _: &str) -> Option<PathBuf> {
        self.next(title)
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
    pub fn open(k: &Keychain) -> Self {
        let store = KeyStore::new(k.home(), Secrets::platform(&k.service).expect("keychain"));
        let desktop = Arc::new(ScriptedDesktop::default());
        let documents = k.path().join("Documents");
        let history = History::in_home(&k.home());
        let config = Config {
            store: Ok(store.clone()),
            history: history.clone(),
            desktop: desktop.clone(),
            documents: documents.clone(),
        };
        let harness = Harness::builder()
            .with_size([1100.0, 2400.0])
            .build_ui_state(|ui, app: &mut App| app.draw(ui), App::new(config));
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

    pub fn is_enabled(&self, label: &str) -> bool {
        !self.harness.get_by_label(label).accesskit_node().is_disabled()
    }
}
