//! The "Replace a key" page: the four steps of the README's "If your key is lost or stolen"
//! on one page, in order, each saying whether it is done. How far it got is kept in the data
//! folder ([`countersign::rotation`]), so the page can be left and picked up again, in this
//! window or the next.
//!
//! 1. Replace the key (a new key with the old subject; the old one retired or compromised).
//! 2. Who must hear about it: the customers who got apps signed with it, exportable as CSV.
//! 3. Their swap kit, and a check of a customer's trust store once they applied it.
//! 4. Sign again with the new key what they have, listing what moved or changed.

use std::path::PathBuf;

use eframe::egui::{self, RichText};

use crate::gui::KeyRow;
use crate::gui::actions::Action;
use crate::gui::context::ViewContext;
use crate::gui::desktop::NoDialog;
use crate::gui::failure::Failure;
use crate::gui::widgets::{self, DisabledBecause as _, PathField, Tone};
use countersign::history::{self, Entry};
use countersign::keystore::{KeyRecord, ReplaceReason};
use countersign::progress::Progress;
use countersign::resign::{self, Candidate, Found, Outcome, Report};
use countersign::rotation::{self, Replacements, Step, Steps};
use countersign::truststore::{self, Removal, SwapCheck, TrustStore};

/// A result of one of the page's jobs, and the key it was started for (`None`: it is not
/// about one key). A result for another key than the one now shown is not shown.
#[derive(Debug)]
pub struct Message(Option<String>, Event);

/// Results of the page's jobs.
#[derive(Debug)]
pub enum Event {
    /// The signing history, read for steps 2 and 4.
    HistoryLoaded(Result<Vec<Entry>, Failure>),
    Replaced(Result<Box<countersign::keystore::Replaced>, Failure>),
    /// A step was recorded in the data folder (the key list is read again to show it).
    Recorded(Result<(), Failure>),
    /// The customer list was exported there (`None`: the dialog was cancelled).
    Exported(Result<Option<PathBuf>, Failure>),
    CsvChosen(Result<Option<PathBuf>, NoDialog>),
    KitFolderChosen(Result<Option<PathBuf>, NoDialog>),
    /// The swap kit was written there (`None`: the dialog was cancelled).
    KitMade(Result<Option<PathBuf>, Failure>),
    CheckFolderChosen(Result<Option<PathBuf>, NoDialog>),
    Checked(Result<SwapCheck, Failure>),
    /// What is at each artifact's recorded path now, and the artifacts signed again already
    /// (by an earlier run).
    Looked {
        to_sign: Vec<Candidate>,
        already: Vec<Candidate>,
    },
    /// What became of each candidate once signed again.
    Resigned(Result<Vec<Report>, Failure>),
}

#[derive(Default)]
pub struct ReplaceView {
    /// The key being replaced (by name, as the key list has it).
    key: Option<String>,
    new_name: String,
    reason: Option<ReplaceReason>,
    confirm: bool,
    /// The history, once read (`None`: not yet asked for).
    entries: Option<Result<Vec<Entry>, String>>,
    loading_history: bool,
    csv: PathField,
    exported: Option<PathBuf>,
    kit_dir: PathField,
    include_atlassian: bool,
    check_dir: PathField,
    check: Option<Result<SwapCheck, String>>,
    candidates: Option<Vec<Candidate>>,
    /// Artifacts an earlier run signed again already: listed, not signed once more.
    already: Vec<Candidate>,
    looking: bool,
    /// One handle per candidate while they are signed again (empty otherwise).
    resigning: Vec<Progress>,
    reports: Option<Vec<Report>>,
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
    /// which is every key's, stays).
    fn choose(&mut self, name: String) {
        if self.looking || !self.resigning.is_empty() {
            // Work for the key shown is under way: it stays shown (its Cancel with it).
            return;
        }
        if self.key.as_deref() != Some(name.as_str()) {
            *self = ReplaceView {
                key: Some(name),
                include_atlassian: self.include_atlassian,
                entries: self.entries.take(),
                loading_history: self.loading_history,
                ..Self::default()
            };
        }
    }

    /// Applies a finished job of this page.
    pub(in crate::gui) fn apply(&mut self, Message(key, event): Message, cx: &mut ViewContext) {
        let actions = &mut *cx.actions;
        if key.is_some() && key != self.key {
            // Started for a key no longer shown: what it recorded shows when that key is.
            if matches!(event, Event::KitMade(_) | Event::Resigned(_)) {
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
            Event::Replaced(result) => {
                actions.push(Action::ReloadKeys);
                match result {
                    Ok(r) => {
                        self.confirm = false;
                        actions.success(format!(
                            "Made key \"{}\" with a certificate for {}; key \"{}\" is {}. Next: step 2 below, who must hear about it.",
                            r.new.name,
                            r.certificate.subject(),
                            r.old.name,
                            match r.old.status.replaced() {
                                Some((ReplaceReason::Compromised, ..)) => "marked compromised and signs nothing more",
                                _ => "retired: signing with it warns",
                            }
                        ));
                    }
                    Err(e) => actions.failed(&e),
                }
            }
            Event::Recorded(result) => {
                actions.push(Action::ReloadKeys);
                if let Err(e) = result {
                    actions.failed(&e);
                }
            }
            Event::Exported(result) => match result {
                Ok(Some(path)) => {
                    actions.success(format!("Exported the list to {}.", path.display()));
                    self.exported = Some(path);
                }
                Ok(None) => {}
                Err(Failure::NoDialog(e)) => self.csv.no_dialog(&e),
                Err(e) => actions.failed(&e),
            },
            Event::CsvChosen(answer) => self.csv.chosen(answer),
            Event::KitFolderChosen(answer) => self.kit_dir.chosen(answer),
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
            Event::CheckFolderChosen(answer) => {
                self.check = None;
                self.check_dir.chosen(answer);
            }
            Event::Checked(result) => self.check = Some(result.map_err(|e| crate::gui::failure::explain(&e))),
            Event::Looked { to_sign, already } => {
                self.looking = false;
                self.reports = None;
                self.candidates = Some(to_sign);
                self.already = already;
            }
            Event::Resigned(result) => {
                self.resigning.clear();
                actions.push(Action::ReloadKeys);
                actions.push(Action::ReloadHistory);
                self.entries = None;
                match result {
                    Ok(reports) => self.reports = Some(reports),
                    Err(e) => actions.failed(&e),
                }
            }
        }
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext) {
        crate::gui::heading(ui, "Replace a key");
        ui.label("When a key leaves with a person, nears its end, or may have leaked: four steps, in order. What is done is kept, so you can leave this page and come back to it.");
        if self.entries.is_none() && !self.loading_history {
            self.loading_history = true;
            let history = cx.config.history.clone();
            cx.jobs.spawn("reading the signing history", move || {
                Message(None, Event::HistoryLoaded(history.load().map(|l| l.entries).map_err(Failure::from)))
            });
        }
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
        self.step_replace(ui, cx, &old);
        let new = record.status.replaced().and_then(|(_, _, by)| cx.key(by).cloned());
        self.step_tell(ui, cx, &old, &steps, done(Step::Replace));
        self.step_kit(ui, cx, &old, new.as_ref(), &steps, done(Step::Tell));
        self.step_resign(ui, cx, &old, new.as_ref(), &steps, done(Step::Kit));
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
        let busy = self.looking || !self.resigning.is_empty();
        const BUSY: &str = "Wait for the apps of this key, or cancel signing them again, first.";
        ui.add_enabled_ui(!busy, |ui| {
            ui.horizontal(|ui| {
                let l = ui.label("Key to replace");
                let picker = egui::ComboBox::from_id_salt("replace-key")
                    .selected_text(chosen.clone().unwrap_or_default())
                    .width(280.0)
                    .show_ui(ui, |ui| {
                        for r in &rows {
                            let text = match r.record.status.replaced() {
                                Some((_, _, by)) => format!("{} (replaced by {by})", r.record.name),
                                None => r.record.name.clone(),
                            };
                            ui.selectable_value(&mut chosen, Some(r.record.name.clone()), text);
                        }
                    })
                    .response
                    .labelled_by(l.id)
                    .disabled_because(BUSY);
                widgets::first_control(ui, &picker);
            })
        });
        if chosen != self.key
            && let Some(name) = chosen
        {
            self.choose(name);
        }
        self.key.as_deref().and_then(|k| cx.key(k)).cloned()
    }

    fn step_replace(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext, old: &KeyRow) {
        let record = &old.record;
        if let Some((reason, since, by)) = record.status.replaced() {
            step_heading(ui, 1, "Replace the key", State::Done);
            ui.label(format!(
                "\"{}\" was {} on {}; \"{by}\" replaces it, with a certificate of the same subject.",
                record.name,
                reason.marked(),
                countersign::certs::day(since)
            ));
            return;
        }
        step_heading(ui, 1, "Replace the key", State::ToDo);
        ui.label("A new Ed25519 key, in the keychain, with a self-signed certificate of this key's subject.");
        if self.new_name.is_empty() {
            self.new_name = format!("{}-2", record.name);
        }
        widgets::field(ui, "Name for the new key", &mut self.new_name, "acme-2");
        let mut reason = self.reason;
        ui.radio_value(
            &mut reason,
            Some(ReplaceReason::Planned),
            "Planned: this key is retired, and signing with it warns",
        );
        ui.radio_value(
            &mut reason,
            Some(ReplaceReason::Compromised),
            "Compromised: this key may have leaked, and Countersign signs nothing more with it",
        );
        if reason != self.reason {
            self.reason = reason;
            self.confirm = false;
        }
        let new = self.new_name.trim().to_owned();
        let why = if new.is_empty() {
            Some("Name the new key first.".to_owned())
        } else if let Some(taken) = cx.name_taken(&new) {
            Some(taken)
        } else if self.reason.is_none() {
            Some("Say why the key is replaced first: planned, or compromised.".to_owned())
        } else {
            None
        };
        let label = format!("Replace \"{}\"…", record.name);
        if widgets::primary(ui, why.is_none() && !self.confirm, &label, || {
            why.clone().unwrap_or_else(|| "Confirm below.".to_owned())
        })
        .clicked()
        {
            self.confirm = true;
        }
        let Some(reason) = self.reason.filter(|_| self.confirm && why.is_none()) else {
            return;
        };
        let name = &record.name;
        widgets::banner(
            ui,
            Tone::Warn,
            &format!(
                "Replace \"{name}\" with a new key \"{new}\", and {}? Customers must add the new certificate to UPM's trust store before apps signed with \"{new}\" install; UPM has no revocation, so a leaked key stays trusted until each customer removes its certificate (step 3).",
                match reason {
                    ReplaceReason::Planned => format!("retire \"{name}\" (signing with it will warn)"),
                    ReplaceReason::Compromised =>
                        format!("mark \"{name}\" compromised (it will sign nothing more)"),
                }
            ),
        );
        ui.horizontal(|ui| {
            if ui.button("Replace now").clicked() {
                self.confirm = false;
                let store = cx.store();
                let old = name.clone();
                cx.jobs.spawn("replacing a key", move || {
                    Message(
                        None,
                        Event::Replaced(
                            store
                                .and_then(|s| Ok(Box::new(s.replace(&old, &new, reason, widgets::now())?))),
                        ),
                    )
                });
            }
            if ui.button("Cancel").clicked() {
                self.confirm = false;
            }
        });
    }

    /// The old key's signings: by its fingerprint, and any other the history recorded
    /// under its name.
    fn signed_with_old<'e>(entries: &'e [Entry], old: &KeyRecord) -> Vec<&'e Entry> {
        let fingerprints = history::fingerprints_for(Some(&old.fingerprint), entries, &old.name);
        history::signed_with(entries, &fingerprints, None)
    }

    fn step_tell(
        &mut self,
        ui: &mut egui::Ui,
        cx: &mut ViewContext,
        old: &KeyRow,
        steps: &Steps,
        ready: bool,
    ) {
        let state = if steps.told.is_some() { State::Done } else { State::waits(ready, 1) };
        step_heading(ui, 2, "Who must hear about this", state);
        let entries = match &self.entries {
            None => {
                ui.add(egui::Spinner::new());
                return;
            }
            Some(Err(e)) => {
                widgets::banner(ui, Tone::Bad, e);
                return;
            }
            Some(Ok(entries)) => entries,
        };
        let signed = Self::signed_with_old(entries, &old.record);
        let groups = history::by_note(&signed);
        if signed.is_empty() {
            ui.label(format!(
                "The history records no signing with \"{}\": no customer got an app signed with it here.",
                old.record.name
            ));
        } else {
            ui.label(format!(
                "{} signing(s) with \"{}\", for {} customer(s) (by the note given when signing):",
                signed.len(),
                old.record.name,
                groups.len()
            ));
            for g in &groups {
                ui.label(RichText::new(g.note.as_deref().unwrap_or("(no note)")).strong());
                for e in &g.entries {
                    ui.label(
                        RichText::new(format!(
                            "{} {} · {} · SHA-256 {} · {}",
                            e.file,
                            e.version.as_deref().unwrap_or(""),
                            widgets::when(&e.time),
                            countersign::hex::short(&e.sha256),
                            e.bundle_dir
                        ))
                        .small(),
                    );
                }
            }
            let events =
                self.csv.ui(ui, "Customer list (CSV)", "empty: choose in a dialog", "Choose CSV file…");
            self.csv.warn_if_taken(ui);
            if events.browse {
                let dialogs = cx.dialogs();
                let suggested = format!("{}-signings.csv", old.record.file_stem());
                let key = Some(old.record.name.clone());
                cx.jobs.spawn("choosing a file", move || {
                    Message(
                        key,
                        Event::CsvChosen(dialogs.save("Export who got apps signed with the key", &suggested)),
                    )
                });
            }
            if ui.button("Export CSV…").clicked() {
                let dialogs = cx.dialogs();
                let typed = self.csv.path();
                let rows: Vec<Entry> = signed.iter().map(|e| (*e).clone()).collect();
                let suggested = format!("{}-signings.csv", old.record.file_stem());
                let key = Some(old.record.name.clone());
                cx.jobs.spawn("exporting the history", move || {
                    let export = || -> Result<Option<PathBuf>, Failure> {
                        let Some((path, replace)) = dialogs.save_target(
                            typed,
                            "Export who got apps signed with the key",
                            &suggested,
                        )?
                        else {
                            return Ok(None);
                        };
                        history::export_csv(&rows, &path, replace)?;
                        Ok(Some(path))
                    };
                    Message(key, Event::Exported(export()))
                });
            }
        }
        if let Some(told) = &steps.told {
            ui.label(
                RichText::new(format!(
                    "Done on {}: {} customer(s), {} signing(s){}.",
                    countersign::certs::day(told.at),
                    told.customers,
                    told.signings,
                    told.exported
                        .as_ref()
                        .map(|p| format!(", exported to {}", p.display()))
                        .unwrap_or_default()
                ))
                .color(widgets::colour(ui, Tone::Good)),
            );
            return;
        }
        let label = if signed.is_empty() { "Nobody to tell: mark as done" } else { "I have told them" };
        // The page's primary action is the next step's: at most one of them is enabled.
        if widgets::primary(ui, ready, label, || "Replace the key first (step 1).").clicked() {
            let told = rotation::Told {
                at: rotation::now(),
                customers: groups.len(),
                signings: signed.len(),
                exported: self.exported.clone(),
            };
            record_step(cx, &old.record, move |s| s.told = Some(told));
        }
    }

    fn step_kit(
        &mut self,
        ui: &mut egui::Ui,
        cx: &mut ViewContext,
        old: &KeyRow,
        new: Option<&KeyRow>,
        steps: &Steps,
        ready: bool,
    ) {
        let state = if steps.kit.is_some() { State::Done } else { State::waits(ready, 2) };
        step_heading(ui, 3, "The customers' swap kit", state);
        ui.label("A trust-store package that adds the new certificate and removes the old one, by its file name and by its SHA-256 fingerprint (a customer may have renamed the file), with the steps for Linux, Docker, Kubernetes and Windows.");
        let Some(new) = new.filter(|n| n.current_certificate().is_some()) else {
            ui.weak("Waits for the new key and its certificate (step 1).");
            return;
        };
        if let Some(kit) = &steps.kit {
            ui.label(
                RichText::new(format!(
                    "Made on {}: {}",
                    countersign::certs::day(kit.at),
                    kit.folder.display()
                ))
                .color(widgets::colour(ui, Tone::Good)),
            );
            if ui.button("Show the kit in its folder").clicked() {
                cx.actions.push(Action::OpenFolder(kit.folder.clone()));
            }
        } else {
            let events = self.kit_dir.ui(ui, "Kit folder", "empty: choose in a dialog", "Choose kit folder…");
            if events.browse {
                let dialogs = cx.dialogs();
                let key = Some(old.record.name.clone());
                cx.jobs.spawn("choosing a folder", move || {
                    Message(key, Event::KitFolderChosen(dialogs.folder("Where should the swap kit go?")))
                });
            }
            ui.checkbox(&mut self.include_atlassian, "Also include Atlassian's Marketplace CA certificates");
            if widgets::primary(ui, ready, "Make the swap kit…", || "Do step 2 first: know who gets the kit.")
                .clicked()
            {
                self.make_kit(cx, old, new);
            }
        }

        ui.add_space(4.0);
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
            let dialogs = cx.dialogs();
            let key = Some(old.record.name.clone());
            cx.jobs.spawn("choosing a folder", move || {
                Message(
                    key,
                    Event::CheckFolderChosen(dialogs.folder("Choose the customer's trust-store folder")),
                )
            });
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
            let expect: Vec<_> = new.current_certificate().cloned().into_iter().collect();
            let reject: Vec<_> = old.chains.iter().filter_map(|c| c.first().cloned()).collect();
            let dir = dir.unwrap_or_default();
            let key = Some(old.record.name.clone());
            cx.jobs.spawn("checking a trust store", move || {
                Message(
                    key,
                    Event::Checked(
                        TrustStore::load(&dir)
                            .map(|store| truststore::swap_check(&store, &expect, &reject))
                            .map_err(Failure::from),
                    ),
                )
            });
        }
        match &self.check {
            None => {}
            Some(Err(e)) => widgets::banner(ui, Tone::Bad, e),
            Some(Ok(check)) => swap_report(ui, check, &old.record.name, &new.record.name),
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
                    s.kit = Some(rotation::KitMade { at: rotation::now(), folder });
                })?;
                Ok(Some(out))
            };
            Message(key, Event::KitMade(make()))
        });
    }

    fn step_resign(
        &mut self,
        ui: &mut egui::Ui,
        cx: &mut ViewContext,
        old: &KeyRow,
        new: Option<&KeyRow>,
        steps: &Steps,
        ready: bool,
    ) {
        let state = if steps.resigned.is_some() { State::Done } else { State::waits(ready, 3) };
        step_heading(ui, 4, "Sign again what they have", state);
        ui.label("Every app the old key signed that is still where it was, unchanged, is signed with the new key into a new bundle beside its old one, for the same customer. What moved or changed is listed, never guessed.");
        if let Some(r) = &steps.resigned {
            ui.label(
                RichText::new(format!(
                    "Done on {}: {} signed again, {} missing, {} changed, {} failed.",
                    countersign::certs::day(r.at),
                    r.signed,
                    r.missing,
                    r.changed,
                    r.failed
                ))
                .color(widgets::colour(ui, Tone::Good)),
            );
        }
        let Some(new) = new else {
            ui.weak("Waits for the new key (step 1).");
            return;
        };
        if !self.resigning.is_empty() {
            let (done, total) = self.resigning.iter().fold((0, 0), |(d, t), p| (d + p.done(), t + p.total()));
            let fraction = if total == 0 { 0.0 } else { done as f32 / total as f32 };
            ui.horizontal(|ui| {
                ui.label("Signing again…");
                ui.add(egui::ProgressBar::new(fraction).desired_width(240.0).show_percentage());
                if ui.button("Cancel").clicked() {
                    self.resigning.iter().for_each(Progress::cancel);
                }
            });
            return;
        }
        let entries = match &self.entries {
            Some(Ok(entries)) => entries,
            _ => return,
        };
        if ui
            .add_enabled(!self.looking, egui::Button::new("Look for the apps"))
            .disabled_because("Looking for them now.")
            .on_hover_text("Reads each app at the path the history recorded and compares its SHA-256.")
            .clicked()
        {
            self.looking = true;
            let signed: Vec<Entry> =
                Self::signed_with_old(entries, &old.record).into_iter().cloned().collect();
            let key = Some(old.record.name.clone());
            let all = entries.clone();
            let new_fingerprint = new.record.fingerprint.clone();
            cx.jobs.spawn("looking for the apps", move || {
                let refs: Vec<&Entry> = signed.iter().collect();
                let (to_sign, already) =
                    resign::split_already_resigned(resign::candidates(&refs), &all, &new_fingerprint);
                Message(key, Event::Looked { to_sign, already })
            });
        }
        if let Some(reports) = &self.reports {
            let failed = reports.iter().filter(|r| matches!(r.outcome, Outcome::Failed(_))).count();
            if failed > 0 {
                widgets::banner(
                    ui,
                    Tone::Warn,
                    &format!(
                        "{failed} app(s) were not signed again (cancelled, or failed as said below). The step stays to do: press Look for the apps to sign what is left."
                    ),
                );
            }
            for r in reports {
                let (tone, text) = match &r.outcome {
                    Outcome::Signed { bundle } => {
                        (Tone::Good, format!("signed again into {}", bundle.display()))
                    }
                    other => (Tone::Warn, format!("not signed ({}): {}", other.state(), other.detail())),
                };
                candidate_line(ui, &r.entry, tone, &text);
            }
            return;
        }
        let Some(candidates) = &self.candidates else {
            return;
        };
        for c in &self.already {
            candidate_line(
                ui,
                &c.entry,
                Tone::Good,
                &format!("already signed again with \"{}\"", new.record.name),
            );
        }
        if candidates.is_empty() && self.already.is_empty() {
            ui.label("The history records no app signed with the old key: nothing to sign again.");
        }
        for c in candidates {
            let (tone, text) = match &c.found {
                Found::Unchanged => (Tone::Good, "there, unchanged: will be signed again".to_owned()),
                Found::Missing => (Tone::Warn, "missing: nothing is at this path any more".to_owned()),
                Found::Changed { sha256 } => (
                    Tone::Warn,
                    format!(
                        "changed: another file is there now (SHA-256 {})",
                        countersign::hex::short(sha256)
                    ),
                ),
                Found::Unreadable(why) => (Tone::Warn, format!("cannot be read: {why}")),
            };
            candidate_line(ui, &c.entry, tone, &text);
        }
        let ready_count = candidates.iter().filter(|c| c.found == Found::Unchanged).count();
        let blocked = if !ready {
            Some(
                "Do step 3 first: customers need the new certificate before apps signed with it install."
                    .to_owned(),
            )
        } else if ready_count == 0 {
            Some("No app is where it was and unchanged.".to_owned())
        } else {
            None
        };
        let label = format!("Sign {ready_count} app(s) again with \"{}\"", new.record.name);
        let clicked =
            widgets::primary(ui, blocked.is_none(), &label, || blocked.clone().unwrap_or_default()).clicked();
        // Nothing (more) to sign again: all moved, changed, or signed by an earlier run. That
        // still finishes the step, with the list above.
        if ready
            && ready_count == 0
            && !(candidates.is_empty() && self.already.is_empty())
            && steps.resigned.is_none()
            && ui.button("Nothing to sign again: mark as done").clicked()
        {
            let reports = resign::report(candidates, &[]);
            let mut tally = tally(&reports);
            tally.signed += self.already.len();
            record_step(cx, &old.record, move |s| s.resigned = Some(tally));
        }
        if clicked {
            self.start_resign(cx, &old.record, &new.record.name, candidates.clone());
        }
    }

    fn start_resign(&mut self, cx: &mut ViewContext, old: &KeyRecord, new: &str, candidates: Vec<Candidate>) {
        self.resigning = candidates.iter().map(|_| Progress::new()).collect();
        let progress = self.resigning.clone();
        let store = cx.store();
        let history = cx.config.history.clone();
        let new = new.to_owned();
        let key_id = old.id.clone();
        let key = Some(old.name.clone());
        cx.jobs.spawn("signing apps again", move || {
            let run = || -> Result<Vec<Report>, Failure> {
                let store = store?;
                let home = store.home().to_path_buf();
                let signer = countersign::signer::Signer::stored(store, &new)?;
                let done = resign::resign(&signer, &candidates, &Ok(history), widgets::now(), &progress);
                let reports = resign::report(&candidates, &done);
                // Done only when nothing was cancelled or failed: otherwise the step stays to
                // do, and looking again lists what is left (what was signed shows as such).
                let tally = tally(&reports);
                if !progress.iter().any(Progress::is_cancelled) && tally.failed == 0 {
                    Replacements::in_home(&home).update(&key_id, move |s| s.resigned = Some(tally))?;
                }
                Ok(reports)
            };
            Message(key, Event::Resigned(run()))
        });
    }
}

/// The counts step 4 keeps, from what became of each candidate.
fn tally(reports: &[Report]) -> rotation::Resigned {
    let count = |f: fn(&Outcome) -> bool| reports.iter().filter(|r| f(&r.outcome)).count();
    rotation::Resigned {
        at: rotation::now(),
        signed: count(|o| matches!(o, Outcome::Signed { .. })),
        missing: count(|o| matches!(o, Outcome::Missing)),
        changed: count(|o| matches!(o, Outcome::Changed { .. } | Outcome::Unreadable(_))),
        failed: count(|o| matches!(o, Outcome::Failed(_))),
    }
}

/// Records a step of `old`'s replacement in the data folder, off the UI thread.
fn record_step(cx: &mut ViewContext, old: &KeyRecord, change: impl FnOnce(&mut Steps) + Send + 'static) {
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

/// How a step stands.
#[derive(Clone, Copy)]
enum State {
    Done,
    ToDo,
    /// Waits for the step of this number.
    Waits(u8),
}

impl State {
    fn waits(ready: bool, previous: u8) -> State {
        if ready { State::ToDo } else { State::Waits(previous) }
    }
}

fn step_heading(ui: &mut egui::Ui, number: u8, title: &str, state: State) {
    widgets::section(ui, &format!("{number}. {title}"));
    match state {
        State::Done => widgets::badge(ui, Tone::Good, "Done"),
        State::ToDo => widgets::badge(ui, Tone::Warn, "To do"),
        State::Waits(n) => widgets::badge(ui, Tone::Info, &format!("Waits for step {n}")),
    };
}

fn candidate_line(ui: &mut egui::Ui, e: &Entry, tone: Tone, text: &str) {
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new(&e.file).strong());
        if let Some(note) = &e.note {
            ui.label(format!("({note})"));
        }
        ui.label(RichText::new(text).color(widgets::colour(ui, tone)));
    })
    .response
    .on_hover_text(format!("{}\nSHA-256 {}", e.artifact_path, e.sha256));
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
