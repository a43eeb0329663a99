//! Small pieces every view uses: labelled fields (so each has an accessible name), banners
//! and badges in colours that read in both light and dark mode.

use eframe::egui::{self, Color32, Response, RichText, Ui};
use time::OffsetDateTime;

use countersign::certs::ValidityState;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Good,
    Warn,
    Bad,
    Info,
}

pub fn colour(ui: &Ui, tone: Tone) -> Color32 {
    let dark = ui.visuals().dark_mode;
    match tone {
        Tone::Good if dark => Color32::from_rgb(110, 200, 120),
        Tone::Good => Color32::from_rgb(20, 120, 40),
        Tone::Warn => ui.visuals().warn_fg_color,
        Tone::Bad => ui.visuals().error_fg_color,
        Tone::Info => ui.visuals().text_color(),
    }
}

/// A text field with its label in front; the label is its accessible name.
pub fn field(ui: &mut Ui, label: &str, value: &mut String, hint: &str) -> Response {
    ui.horizontal(|ui| {
        let l = ui.label(label);
        ui.add(egui::TextEdit::singleline(value).hint_text(hint).desired_width(360.0)).labelled_by(l.id)
    })
    .inner
}

pub fn banner(ui: &mut Ui, tone: Tone, text: &str) {
    let c = colour(ui, tone);
    egui::Frame::group(ui.style()).stroke(egui::Stroke::new(1.0, c)).show(ui, |ui| {
        ui.set_width(ui.available_width());
        ui.label(RichText::new(text).color(c));
    });
}

/// A banner with a Dismiss button; true when it was pressed.
pub fn banner_dismissable(ui: &mut Ui, tone: Tone, text: &str) -> bool {
    let c = colour(ui, tone);
    egui::Frame::group(ui.style())
        .stroke(egui::Stroke::new(1.0, c))
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.horizontal_wrapped(|ui| {
                ui.label(RichText::new(text).color(c));
                ui.button("Dismiss").clicked()
            })
            .inner
        })
        .inner
}

pub fn badge(ui: &mut Ui, tone: Tone, text: &str) -> Response {
    let c = colour(ui, tone);
    egui::Frame::new()
        .stroke(egui::Stroke::new(1.0, c))
        .corner_radius(6.0)
        .inner_margin(egui::Margin::symmetric(6, 1))
        .show(ui, |ui| ui.label(RichText::new(text).color(c).small()))
        .inner
}

/// How a certificate's state is shown: a tone and a short text with days left.
pub fn validity(state: Option<ValidityState>) -> (Tone, String) {
    match state {
        None => (Tone::Warn, "no certificate".into()),
        Some(ValidityState::Valid { days_left }) => (Tone::Good, format!("valid, {days_left} days left")),
        Some(ValidityState::ExpiringSoon { days_left }) => {
            (Tone::Warn, format!("expires in {days_left} days"))
        }
        Some(s @ ValidityState::Expired { .. }) => (Tone::Bad, s.to_string()),
        Some(s @ ValidityState::NotYetValid { .. }) => (Tone::Bad, s.to_string()),
    }
}

pub fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// A row of `label: value` in a two-column grid.
pub fn row(ui: &mut Ui, label: &str, value: &str) {
    ui.label(RichText::new(label).strong());
    ui.label(value);
    ui.end_row();
}
