//! Step 3 of the "Replace a key" page, "The customers' swap kit": a trust-store package that
//! adds the new certificate and removes the old ones, and a check of a customer's trust-store
//! folder once they applied it.

use std::path::PathBuf;

use eframe::egui::{self, RichText};

use super::Message;
use super::shared::{Page, State, step_heading};
use crate::gui::KeyRow;
use crate::gui::actions::{Action, Actions};
use crate::gui::context::ViewContext;
use crate::gui::desktop::DialogAnswer;
use crate::gui::failure::Failure;
use crate::gui::widgets::{self, DisabledBecause as _, PathField, Tone};
use countersign::rotation::{self, KitMade, Replacements};
use countersign::truststore::{self, Removal, SwapCheck, TrustStore};

/// Results of step 3's jobs.
#[derive(Debug)]
pub(super) enum Event {
    /// A file dialog's answer for one of the step's path fields.
    PathChosen(PathFor, DialogAnswer),
    /// The swap kit was written there (`None`: the dialog was cancelled).
    KitMade(Result<Option<PathBuf>, Failure>),
    Checked(Result<SwapCheck, Failure>),
}

/// Where the kit goes and what it holds, and the customer's folder to check with what the
/// check found.
#[derive(Default)]
pub(super) struct SwapKitStep {
    kit_dir: PathField,
    include_atlassian: bool,
    check_dir: PathField,
    check: Option<Result<SwapCheck, String>>,
}

/// The step's path fields, as `Event::PathChosen` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PathFor {
    /// Where the swap kit goes.
    KitFolder,
    /// The customer's trust-store folder to check.
    CheckFolder,
}

impl SwapKitStep {
    fn path_field(&mut self, which: PathFor) -> &mut PathField {
        match which {
            PathFor::KitFolder => &mut self.kit_dir,
            PathFor::CheckFolder => &mut self.check_dir,
        }
    }

    /// The step for another key: nothing typed or found, the choice of Atlassian's
    /// certificates kept (it is the publisher's, whichever key).
    pub(super) fn for_another_key(&self) -> Self {
        SwapKitStep { include_atlassian: self.include_atlassian, ..Self::default() }
    }

    pub(super) fn apply(&mut self, event: Event, actions: &mut Actions) {
        match event {
            Event::PathChosen(which, answer) => {
                if which == PathFor::CheckFolder {
                    // A check's result is about the folder it looked at.
                    self.check = None;
                }
                self.path_field(which).chosen(answer);
            }
            Event::KitMade(result) => {
                actions.push(Action::ReloadKeys);
                match result {
                    Ok(Some(path)) => actions.success(format!(
                        "Wrote the swap kit {}. Send it to every customer on the list; its instructions remove the old certificate and add the new one.",
                        path.display()
                    )),
                    Ok(None) => {}
                    Err(Failure::NoDialog(e)) => self.kit_dir.no_dialog(&e),
                    Err(e) => actions.failed(&e),
                }
            }
            Event::Checked(result) => self.check = Some(result.map_err(|e| crate::gui::failure::explain(&e))),
        }
    }

    pub(super) fn ui(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext, page: &Page, ready: bool) {
        let state = if page.steps.kit.is_some() { State::Done } else { State::waits(ready, 2) };
        step_heading(ui, 3, "The customers' swap kit", state);
        ui.label("A trust-store package that adds the new certificate and removes the old one, by its file name and by its SHA-256 fingerprint (a customer may have renamed the file), with the steps for Linux, Docker, Kubernetes and Windows.");
        let Some(new) = page.new.filter(|n| n.current_certificate().is_some()) else {
            ui.weak("Waits for the new key and its certificate (step 1).");
            return;
        };
        let old = page.old;
        if let Some(kit) = &page.steps.kit {
            kit_made(ui, cx, kit);
        } else {
            self.kit_form(ui, cx, old, new, ready);
        }
        ui.add_space(4.0);
        self.check_form(ui, cx, old, new);
        match &self.check {
            None => {}
            Some(Err(e)) => widgets::banner(ui, Tone::Bad, e),
            Some(Ok(check)) => swap_report(ui, check, &old.record.name, &new.record.name),
        }
    }

    /// The kit folder, the choice of Atlassian's certificates, and Make the swap kit….
    fn kit_form(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext, old: &KeyRow, new: &KeyRow, ready: bool) {
        let events = self.kit_dir.ui(ui, "Kit folder", "empty: choose in a dialog", "Choose kit folder…");
        if events.browse {
            choose_folder(cx, old, PathFor::KitFolder, "Where should the swap kit go?");
        }
        ui.checkbox(&mut self.include_atlassian, "Also include Atlassian's Marketplace CA certificates");
        if widgets::primary(ui, ready, "Make the swap kit…", || "Do step 2 first: know who gets the kit.")
            .clicked()
        {
            self.make_kit(cx, old, new);
        }
    }

    fn make_kit(&self, cx: &mut ViewContext, old: &KeyRow, new: &KeyRow) {
        let dialogs = cx.dialogs();
        let typed = self.kit_dir.path();
        let include = self.include_atlassian;
        let chain = new.chains.last().cloned().unwrap_or_default();
        let new_stem = new.record.file_stem();
        let old_stem = old.record.file_stem();
        let removals: Vec<Removal> = old
            .chains
            .iter()
            .filter_map(|c| c.first().cloned())
            .map(|certificate| Removal { certificate, delivered_as: format!("{old_stem}.crt") })
            .collect();
        let home = cx.config.store.as_ref().map(|s| s.home().to_path_buf()).map_err(Clone::clone);
        let key_id = old.record.id.clone();
        let key = Some(old.record.name.clone());
        cx.jobs.spawn("making a swap kit", move || {
            let make = || -> Result<Option<PathBuf>, Failure> {
                let Some(dir) = dialogs.folder_target(typed, "Where should the swap kit go?")? else {
                    return Ok(None);
                };
                let out = countersign::atomic::free_name(&dir, &format!("{new_stem}-swap-kit"), "");
                truststore::package_swap(&chain, &new_stem, &removals, &out, include)?;
                let home = home.map_err(Failure::NoKeyStore)?;
                let folder = out.clone();
                Replacements::in_home(&home).update(&key_id, move |s| {
                    s.kit = Some(KitMade { at: rotation::now(), folder });
                })?;
                Ok(Some(out))
            };
            Message::about(key, Event::KitMade(make()))
        });
    }

    /// "Check a customer's trust store": its folder, and Check the swap.
    fn check_form(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext, old: &KeyRow, new: &KeyRow) {
        ui.label(RichText::new("Check a customer's trust store").strong());
        ui.label("Once a customer applied the kit: is the new certificate there and the old one gone?");
        let events = self.check_dir.ui(
            ui,
            "Customer's trust-store folder",
            "…/upmconfig/truststore",
            "Choose trust-store folder…",
        );
        self.check_dir.warn_if_missing(ui);
        if events.browse {
            choose_folder(cx, old, PathFor::CheckFolder, "Choose the customer's trust-store folder");
        }
        if events.changed {
            self.check = None;
        }
        let dir = self.check_dir.path();
        if ui
            .add_enabled(dir.is_some(), egui::Button::new("Check the swap"))
            .disabled_because("Type or choose a trust-store folder first.")
            .clicked()
            || (events.submitted && dir.is_some())
        {
            check_swap(cx, old, new, dir.unwrap_or_default());
        }
    }
}

/// When the kit was made and where, with a button to show it.
fn kit_made(ui: &mut egui::Ui, cx: &mut ViewContext, kit: &KitMade) {
    ui.label(
        RichText::new(format!("Made on {}: {}", countersign::certs::day(kit.at), kit.folder.display()))
            .color(widgets::colour(ui, Tone::Good)),
    );
    if ui.button("Show the kit in its folder").clicked() {
        cx.actions.push(Action::OpenFolder(kit.folder.clone()));
    }
}

/// Checks, off the UI thread, that the trust store in `dir` holds `new`'s certificate and
/// none of `old`'s.
fn check_swap(cx: &mut ViewContext, old: &KeyRow, new: &KeyRow, dir: PathBuf) {
    let expect: Vec<_> = new.current_certificate().cloned().into_iter().collect();
    let reject: Vec<_> = old.chains.iter().filter_map(|c| c.first().cloned()).collect();
    let key = Some(old.record.name.clone());
    cx.jobs.spawn("checking a trust store", move || {
        Message::about(
            key,
            Event::Checked(
                TrustStore::load(&dir)
                    .map(|store| truststore::swap_check(&store, &expect, &reject))
                    .map_err(Failure::from),
            ),
        )
    });
}

/// What a swap check found, one line per certificate.
fn swap_report(ui: &mut egui::Ui, check: &SwapCheck, old: &str, new: &str) {
    if check.done() {
        widgets::banner(
            ui,
            Tone::Good,
            &format!(
                "The swap is done in this folder: the certificate of \"{new}\" is there and none of \"{old}\" is."
            ),
        );
    } else {
        widgets::banner(
            ui,
            Tone::Warn,
            &format!(
                "The swap is not done in this folder yet: UPM there still trusts \"{old}\", or does not trust \"{new}\" yet."
            ),
        );
    }
    let line = |p: &truststore::Presence| match p.is_present().then(|| p.file()).flatten() {
        Some(file) => format!("in the folder, as {}", file.display()),
        None => "not in the folder".to_owned(),
    };
    for p in &check.expected {
        ui.label(format!("New certificate of \"{new}\": {}", line(p)));
    }
    for p in &check.rejected {
        ui.label(format!("Old certificate of \"{old}\": {}", line(p)));
    }
}

/// Asks for a folder in a dialog, off the UI thread; the answer comes back to this step of
/// `old`'s page as `Event::PathChosen(which, ..)`.
fn choose_folder(cx: &mut ViewContext, old: &KeyRow, which: PathFor, title: &'static str) {
    let dialogs = cx.dialogs();
    let key = Some(old.record.name.clone());
    cx.jobs.spawn("choosing a folder", move || {
        Message::about(key, Event::PathChosen(which, dialogs.folder(title)))
    });
}
