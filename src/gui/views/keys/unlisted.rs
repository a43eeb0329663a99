//! The Keys view's search for unlisted keys: keychain entries of Countersign's that the key
//! list no longer names, found and listed again under a name.

use super::*;

impl KeysView {
    /// The search for unlisted entries came back.
    pub(super) fn unlisted_found(
        &mut self,
        result: Result<Option<Vec<String>>, Failure>,
        actions: &mut Actions,
    ) {
        self.searching = false;
        match result {
            Ok(Some(ids)) => {
                if ids.is_empty() {
                    actions.success("Every Countersign key in the keychain is listed.");
                }
                self.unlisted = Some(ids);
            }
            Ok(None) => {
                actions.failure("This keychain cannot be searched, so unlisted keys cannot be found here.")
            }
            Err(e) => actions.failed(&e),
        }
    }

    /// The unlisted keychain entry `entry` was listed again, or why not.
    pub(super) fn listed(&mut self, entry: &str, result: Result<KeyRecord, Failure>, actions: &mut Actions) {
        actions.push(Action::ReloadKeys);
        match result {
            Ok(r) => {
                actions.success(format!(
                    "Listed the keychain entry as {} key \"{}\" (public key SHA-256 {}).",
                    r.algorithm, r.name, r.fingerprint
                ));
                actions.push(Action::SelectKey(r.name));
                if let Some(list) = self.unlisted.as_mut() {
                    list.retain(|i| i != entry);
                }
                if self.unlisted.as_ref().is_some_and(Vec::is_empty) {
                    // Nothing is left to list: show the key that came back.
                    self.show(Pane::Details);
                }
            }
            Err(e) => actions.failed(&e),
        }
    }

    pub(super) fn search_unlisted(&mut self, cx: &mut ViewContext) {
        self.searching = true;
        let store = cx.store();
        cx.jobs.spawn("searching the keychain", move || {
            Message::UnlistedFound(store.and_then(|s| Ok(s.orphans()?)))
        });
    }

    /// Keychain entries that no key lists (an index restored from an older copy, a
    /// Countersign stopped mid-change): looked for on request, each can be listed again
    /// under a name.
    pub(super) fn unlisted(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext) {
        pane_heading(ui, "Keys in the keychain that the list has lost");
        ui.label("An index restored from an older copy, or a Countersign stopped while it added or deleted a key, can leave a key in the keychain that no list entry names. It is still whole: give it a name to use it again.");
        ui.add_space(6.0);
        if self.searching {
            ui.horizontal(|ui| {
                ui.add(egui::Spinner::new());
                ui.weak("Searching the keychain…");
            });
        }
        match self.unlisted.clone() {
            Some(ids) if ids.is_empty() => {
                ui.weak("Every Countersign key in the keychain is listed.");
            }
            Some(ids) => {
                for id in ids {
                    egui::Frame::group(ui.style()).show(ui, |ui| {
                        ui.set_width(ui.available_width());
                        ui.monospace(&id);
                        ui.horizontal_wrapped(|ui| {
                            let name = self.adopt_names.entry(id.clone()).or_default();
                            let l = ui.label(format!("Name for {id}"));
                            ui.add(
                                egui::TextEdit::singleline(name)
                                    .hint_text("recovered-key")
                                    .desired_width(180.0),
                            )
                            .labelled_by(l.id);
                            let name = name.trim().to_owned();
                            let list = egui::Button::new(format!("List {id}"));
                            if ui
                                .add_enabled(!name.is_empty(), list)
                                .disabled_because("Type a name for it first.")
                                .clicked()
                            {
                                let store = cx.store();
                                let entry = id.clone();
                                cx.jobs.spawn("listing a key again", move || {
                                    let result = store.and_then(|s| Ok(s.adopt(&entry, &name)?));
                                    Message::Listed { entry, result }
                                });
                            }
                        });
                    });
                }
            }
            None => {}
        }
        ui.add_space(8.0);
        if ui.button("Close").clicked() {
            self.show(Pane::Details);
        }
    }
}
