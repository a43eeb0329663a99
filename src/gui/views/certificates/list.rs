//! The Certificates view's top: the key picker, and the chosen key's certificates as cards,
//! newest first, with their state and fingerprint.

use eframe::egui::{self, RichText};

use super::CertificatesView;
use crate::gui::KeyRow;
use crate::gui::actions::Action;
use crate::gui::context::ViewContext;
use crate::gui::widgets::{self, Tone};
use countersign::certs::{self, Certificate};

impl CertificatesView {
    /// Draws the key picker and returns the chosen key, or `None` when there is none to show.
    pub(super) fn key_picker(ui: &mut egui::Ui, cx: &mut ViewContext) -> Option<KeyRow> {
        let rows: &[KeyRow] = cx.keys;
        if rows.is_empty() {
            if !cx.keys_failed {
                ui.label("There is no key yet. Make one in the Keys view first.");
            }
            return None;
        }
        // The chosen key is the window's (the Keys view shows it too): a choice made here goes
        // back as an action.
        let mut chosen = cx.selected_key.map(str::to_owned);
        ui.horizontal(|ui| {
            let l = ui.label("Key");
            let picker = egui::ComboBox::from_id_salt("cert-key")
                .selected_text(chosen.clone().unwrap_or_default())
                .width(280.0)
                .show_ui(ui, |ui| {
                    for r in rows {
                        ui.selectable_value(&mut chosen, Some(r.record.name.clone()), &r.record.name);
                    }
                })
                .response
                .labelled_by(l.id);
            widgets::first_control(ui, &picker);
        });
        if let Some(name) = &chosen
            && cx.selected_key != Some(name.as_str())
        {
            cx.actions.push(Action::SelectKey(name.clone()));
        }
        chosen.and_then(|n| rows.iter().find(|r| r.record.name == n).cloned())
    }

    /// Draws the key's certificates, newest first, or a warning when it has none; returns the
    /// fingerprint whose Copy button was pressed.
    pub(super) fn certificate_list(ui: &mut egui::Ui, row: &KeyRow) -> Option<String> {
        let now = widgets::now();
        if row.chains.is_empty() {
            widgets::banner(
                ui,
                Tone::Warn,
                &format!(
                    "Key \"{}\" has no certificate yet. Make a self-signed one below, or request one from your CA.",
                    row.record.name
                ),
            );
        }
        let mut copied = None;
        for (i, chain) in row.chains.iter().enumerate().rev() {
            let current = i + 1 == row.chains.len();
            copied = copied.or(Self::certificate_card(ui, i, chain, current, now));
        }
        copied
    }

    /// Draws one certificate chain's card: its subject, badges and details.
    fn certificate_card(
        ui: &mut egui::Ui,
        i: usize,
        chain: &[Certificate],
        current: bool,
        now: time::OffsetDateTime,
    ) -> Option<String> {
        let cert = chain.first()?;
        let mut copied = None;
        egui::Frame::group(ui.style()).inner_margin(8.0).show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.horizontal(|ui| {
                ui.label(RichText::new(cert.subject()).strong());
                if current {
                    widgets::badge(ui, Tone::Info, "current");
                } else {
                    widgets::badge(ui, Tone::Warn, "superseded").on_hover_text(
                        "A newer certificate of this key took its place; bundles signed under it stay valid until it expires",
                    );
                }
                let (tone, text) = widgets::validity(Some(cert.validity_at(now)));
                widgets::badge(ui, tone, &text);
            });
            egui::Grid::new(("cert", i)).num_columns(2).show(ui, |ui| {
                widgets::row(
                    ui,
                    "Issuer",
                    &if cert.is_self_issued() { "itself (self-signed)".to_owned() } else { cert.issuer() },
                );
                widgets::row(ui, "Valid from", &certs::day(cert.not_before()));
                widgets::row(ui, "Valid until", &certs::day(cert.not_after()));
                ui.label(RichText::new("SHA-256").strong());
                ui.horizontal(|ui| {
                    ui.label(RichText::new(cert.fingerprint()).monospace());
                    if ui.button("Copy SHA-256").clicked() {
                        copied = Some(cert.fingerprint());
                    }
                });
                ui.end_row();
                widgets::row(ui, "Serial", &cert.serial_hex());
                if chain.len() > 1 {
                    widgets::row(
                        ui,
                        "Chain",
                        &format!("{} issuer certificate(s) kept with it", chain.len() - 1),
                    );
                }
            });
        });
        copied
    }
}
