//! What the steps of the "Replace a key" page share: what each is drawn from ([`Page`]), a
//! step's heading with how it stands, the old key's signings, and recording a step in the
//! data folder.

use eframe::egui;

use super::{Event, Message};
use crate::gui::KeyRow;
use crate::gui::context::ViewContext;
use crate::gui::failure::Failure;
use crate::gui::widgets::{self, Tone};
use countersign::history::{self, Entry};
use countersign::keystore::KeyRecord;
use countersign::rotation::{Replacements, Steps};

/// What the page knows this frame, for every step to draw from.
pub(super) struct Page<'a> {
    /// The key being replaced.
    pub old: &'a KeyRow,
    /// The key that replaced it (`None`: not replaced yet, or the new key is not listed).
    pub new: Option<&'a KeyRow>,
    /// How far the replacement got, as the data folder has it.
    pub steps: &'a Steps,
    /// The signing history, every key's (`None`: still being read).
    pub history: Option<&'a Result<Vec<Entry>, String>>,
}

/// How a step stands.
#[derive(Clone, Copy)]
pub(super) enum State {
    Done,
    ToDo,
    /// Waits for the step of this number.
    Waits(u8),
}

impl State {
    /// A step not done yet: to do once step `previous` is (`ready`), else waiting for it.
    pub(super) fn waits(ready: bool, previous: u8) -> State {
        if ready { State::ToDo } else { State::Waits(previous) }
    }
}

pub(super) fn step_heading(ui: &mut egui::Ui, number: u8, title: &str, state: State) {
    widgets::section(ui, &format!("{number}. {title}"));
    match state {
        State::Done => widgets::badge(ui, Tone::Good, "Done"),
        State::ToDo => widgets::badge(ui, Tone::Warn, "To do"),
        State::Waits(n) => widgets::badge(ui, Tone::Info, &format!("Waits for step {n}")),
    };
}

/// The old key's signings: by its fingerprint, and any other the history recorded
/// under its name.
pub(super) fn signed_with_old<'e>(entries: &'e [Entry], old: &KeyRecord) -> Vec<&'e Entry> {
    let fingerprints = history::fingerprints_for(Some(&old.fingerprint), entries, &old.name);
    history::signed_with(entries, &fingerprints, None)
}

/// Records a step of `old`'s replacement in the data folder, off the UI thread.
pub(super) fn record_step(
    cx: &mut ViewContext,
    old: &KeyRecord,
    change: impl FnOnce(&mut Steps) + Send + 'static,
) {
    let home = cx.config.store.as_ref().map(|s| s.home().to_path_buf()).map_err(Clone::clone);
    let key_id = old.id.clone();
    cx.jobs.spawn("recording a step", move || {
        let record = || -> Result<(), Failure> {
            let home = home.map_err(Failure::NoKeyStore)?;
            Replacements::in_home(&home).update(&key_id, change)?;
            Ok(())
        };
        Message(None, Event::Recorded(record()))
    });
}
