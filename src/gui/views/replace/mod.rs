//! The "Replace a key" page: the four steps of the README's "If your key is lost or stolen"
//! on one page, in order, each saying whether it is done. How far it got is kept in the data
//! folder ([`countersign::rotation`]), so the page can be left and picked up again, in this
//! window or the next.
//!
//! 1. Replace the key (a new key with the old subject; the old one retired or compromised).
//! 2. Who must hear about it: the customers who got apps signed with it, exportable as CSV.
//! 3. Their swap kit, and a check of a customer's trust store once they applied it.
//! 4. Sign again with the new key what they have, listing what moved or changed.
//!
//! Each step is a type of its own, in a file of its own, holding only what that step needs:
//! [`replace_key`], [`tell`], [`swap_kit`], [`sign_again`]. All four are shown at once, and
//! which one is next is the data folder's word (`rotation::Steps`), not the page's; so this
//! file keeps one of each, and what spans them: the key being replaced and the history.

use eframe::egui;

use crate::gui::KeyRow;
use crate::gui::actions::Action;
use crate::gui::context::ViewContext;
use crate::gui::failure::Failure;
use crate::gui::widgets::{self, DisabledBecause as _, Tone};
use countersign::history::Entry;
use countersign::rotation::Step;

mod replace_key;
mod shared;
mod sign_again;
mod swap_kit;
mod tell;

use replace_key::ReplaceKeyStep;
use shared::Page;
use sign_again::SignAgainStep;
use swap_kit::SwapKitStep;
use tell::TellStep;

/// A result of one of the page's jobs, and the key it was started for (`None`: it is not
/// about one key). A result for another key than the one now shown is not shown.
#[derive(Debug)]
pub struct Message(Option<String>, Event);

impl Message {
    /// A result of a job started for key `key` (`None`: not about one key).
    fn about(key: Option<String>, event: impl Into<Event>) -> Self {
        Message(key, event.into())
    }
}

/// Results of the page's jobs: the page's own, and each step's.
#[derive(Debug)]
enum Event {
    /// The signing history, read for steps 2 and 4.
    HistoryLoaded(Result<Vec<Entry>, Failure>),
    /// A step was recorded in the data folder (the key list is read again to show it).
    Recorded(Result<(), Failure>),
    ReplaceKey(replace_key::Event),
    Tell(tell::Event),
    SwapKit(swap_kit::Event),
    SignAgain(sign_again::Event),
}

macro_rules! step_events {
    ($($step:ident => $variant:ident),* $(,)?) => {
        $(impl From<$step::Event> for Event {
            fn from(event: $step::Event) -> Self {
                Event::$variant(event)
            }
        })*
    };
}

step_events!(
    replace_key => ReplaceKey,
    tell => Tell,
    swap_kit => SwapKit,
    sign_again => SignAgain,
);

impl Event {
    /// The job recorded a step in the data folder or signed with a key: the key list and the
    /// history are read again, whichever key the page shows by then.
    fn recorded_for_its_key(&self) -> bool {
        matches!(
            self,
            Event::SwapKit(swap_kit::Event::KitMade(_)) | Event::SignAgain(sign_again::Event::Resigned(_))
        )
    }
}

#[derive(Default)]
pub struct ReplaceView {
    /// The key being replaced (by name, as the key list has it).
    key: Option<String>,
    /// The history, every key's, once read (`None`: not yet asked for).
    entries: Option<Result<Vec<Entry>, String>>,
    loading_history: bool,
    replace_key: ReplaceKeyStep,
    tell: TellStep,
    swap_kit: SwapKitStep,
    sign_again: SignAgainStep,
}

impl ReplaceView {
    /// Opens the page on key `name`, and reads the history again: signings made since the
    /// page was last open count.
    pub fn open(&mut self, name: String) {
        self.choose(name);
        if !self.loading_history {
            self.entries = None;
        }
    }

    /// Shows key `name`, forgetting what was typed and found for another key (the history,
    /// which is every key's, stays, and so does the choice of Atlassian's certificates).
    fn choose(&mut self, name: String) {
        if self.sign_again.is_busy() {
            // Work for the key shown is under way: it stays shown (its Cancel with it).
            return;
        }
        if self.key.as_deref() != Some(name.as_str()) {
            self.key = Some(name);
            self.replace_key = ReplaceKeyStep::default();
            self.tell = TellStep::default();
            self.swap_kit = self.swap_kit.for_another_key();
            self.sign_again = SignAgainStep::default();
        }
    }

    /// Applies a finished job of this page.
    pub(in crate::gui) fn apply(&mut self, Message(key, event): Message, cx: &mut ViewContext) {
        let actions = &mut *cx.actions;
        if key.is_some() && key != self.key {
            // Started for a key no longer shown: what it recorded shows when that key is.
            if event.recorded_for_its_key() {
                actions.push(Action::ReloadKeys);
                actions.push(Action::ReloadHistory);
                self.entries = None;
            }
            return;
        }
        match event {
            Event::HistoryLoaded(result) => {
                self.loading_history = false;
                self.entries = Some(result.map_err(|e| crate::gui::failure::explain(&e)));
            }
            Event::Recorded(result) => {
                actions.push(Action::ReloadKeys);
                if let Err(e) = result {
                    actions.failed(&e);
                }
            }
            Event::ReplaceKey(event) => self.replace_key.apply(event, actions),
            Event::Tell(event) => self.tell.apply(event, actions),
            Event::SwapKit(event) => self.swap_kit.apply(event, actions),
            Event::SignAgain(event) => {
                if self.sign_again.apply(event, actions) {
                    self.entries = None;
                }
            }
        }
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext) {
        crate::gui::heading(ui, "Replace a key");
        ui.label("When a key leaves with a person, nears its end, or may have leaked: four steps, in order. What is done is kept, so you can leave this page and come back to it.");
        self.read_history_once(cx);
        let Some(old) = self.key_picker(ui, cx) else {
            return;
        };
        let steps = old.steps.clone().unwrap_or_default();
        if let Some(problem) = &old.steps_problem {
            widgets::banner(ui, Tone::Bad, problem);
        }
        let record = &old.record;
        let done = |step| steps.is_done(record, step);
        if steps.next(record).is_none() {
            widgets::banner(
                ui,
                Tone::Good,
                &format!(
                    "All four steps are done for \"{}\". Customers who applied the kit trust only the new certificate; delete \"{}\" in the Keys view once nobody needs it.",
                    record.name, record.name
                ),
            );
        }
        self.replace_key.ui(ui, cx, &old);
        let new = record.status.replaced().and_then(|(_, _, by)| cx.key(by).cloned());
        let page = Page { old: &old, new: new.as_ref(), steps: &steps, history: self.entries.as_ref() };
        self.tell.ui(ui, cx, &page, done(Step::Replace));
        self.swap_kit.ui(ui, cx, &page, done(Step::Tell));
        self.sign_again.ui(ui, cx, &page, done(Step::Kit));
    }

    /// Starts reading the signing history, unless it was read or is being read.
    fn read_history_once(&mut self, cx: &mut ViewContext) {
        if self.entries.is_none() && !self.loading_history {
            self.loading_history = true;
            let history = cx.config.history.clone();
            cx.jobs.spawn("reading the signing history", move || {
                Message(None, Event::HistoryLoaded(history.load().map(|l| l.entries).map_err(Failure::from)))
            });
        }
    }

    /// The key being replaced: any key with a certificate, or one replaced already.
    fn key_picker(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext) -> Option<KeyRow> {
        let rows: Vec<&KeyRow> = cx
            .keys
            .iter()
            .filter(|r| r.current_certificate().is_some() || r.record.status.replaced().is_some())
            .collect();
        if rows.is_empty() {
            if cx.keys_loading {
                ui.add(egui::Spinner::new());
            } else {
                ui.weak("No key has a certificate yet: there is nothing to replace.");
            }
            return None;
        }
        if self.key.as_ref().is_none_or(|k| !rows.iter().any(|r| &r.record.name == k)) {
            let first = cx
                .selected_key
                .filter(|k| rows.iter().any(|r| r.record.name == *k))
                .map(str::to_owned)
                .or_else(|| rows.first().map(|r| r.record.name.clone()));
            if let Some(name) = first {
                self.choose(name);
            }
        }
        let mut chosen = self.key.clone();
        let busy = self.sign_again.is_busy();
        ui.add_enabled_ui(!busy, |ui| key_combo(ui, &rows, &mut chosen));
        if chosen != self.key
            && let Some(name) = chosen
        {
            self.choose(name);
        }
        self.key.as_deref().and_then(|k| cx.key(k)).cloned()
    }
}

/// The labelled "Key to replace" list, naming the key that replaced each replaced one.
fn key_combo(ui: &mut egui::Ui, rows: &[&KeyRow], chosen: &mut Option<String>) {
    const BUSY: &str = "Wait for the apps of this key, or cancel signing them again, first.";
    ui.horizontal(|ui| {
        let l = ui.label("Key to replace");
        let picker = egui::ComboBox::from_id_salt("replace-key")
            .selected_text(chosen.clone().unwrap_or_default())
            .width(280.0)
            .show_ui(ui, |ui| {
                for r in rows {
                    let text = match r.record.status.replaced() {
                        Some((_, _, by)) => format!("{} (replaced by {by})", r.record.name),
                        None => r.record.name.clone(),
                    };
                    ui.selectable_value(chosen, Some(r.record.name.clone()), text);
                }
            })
            .response
            .labelled_by(l.id)
            .disabled_because(BUSY);
        widgets::first_control(ui, &picker);
    });
}
