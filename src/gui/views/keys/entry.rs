//! One entry of the Keys view's list, painted: the key's name and algorithm, and under them
//! badges for its certificate's state and the keychain's. Laid out first (its height depends
//! on how the badges wrap), then painted into the space it was given.

use std::sync::Arc;

use eframe::egui::{self, RichText};

use crate::gui::KeyRow;
use crate::gui::widgets::{self, Tone};

/// Between the entry's edge and its content.
const PADDING: egui::Vec2 = egui::Vec2::new(10.0, 6.0);
/// Between a badge's outline and its text.
const BADGE_PADDING: egui::Vec2 = egui::Vec2::new(6.0, 1.0);
/// Between two badges, and between the lines of the entry.
const GAP: egui::Vec2 = egui::Vec2::new(6.0, 4.0);

/// An entry laid out: its texts, where each badge goes, and the height they take.
struct Layout {
    name: Arc<egui::Galley>,
    algorithm: Arc<egui::Galley>,
    /// Each badge: its offset from the content's corner, its size, its text and tone.
    badges: Vec<(egui::Vec2, egui::Vec2, Arc<egui::Galley>, Tone)>,
    height: f32,
}

/// One entry of the key list: the name with its algorithm, and under them the certificate's
/// state and the keychain's. Painted rather than built from labels so that the entry is a single
/// control, named by the key, that a click anywhere on it chooses.
pub(super) fn key_entry(
    ui: &mut egui::Ui,
    row: &KeyRow,
    selected: bool,
    now: time::OffsetDateTime,
) -> egui::Response {
    let record = &row.record;
    let (cert_tone, cert_text) = widgets::validity(row.certificate_state(now));
    let keychain_problem = row.keychain.problem();
    let (keychain_tone, keychain_text) = match &keychain_problem {
        None => (Tone::Good, "keychain ok"),
        Some(_) => (Tone::Bad, "keychain problem"),
    };
    let width = ui.available_width();
    let layout = lay_out(ui, row, width, [(&cert_text, cert_tone), (keychain_text, keychain_tone)]);
    let elided = layout.name.elided;

    let (rect, _) = ui.allocate_exact_size(egui::vec2(width, layout.height), egui::Sense::hover());
    // Keyed by the keychain id, which a rename keeps: focus stays on the entry.
    let response = ui.interact(rect, ui.make_persistent_id(("key-entry", &record.id)), egui::Sense::click());
    response.widget_info(|| {
        egui::WidgetInfo::selected(egui::accesskit::Role::Button, ui.is_enabled(), selected, &record.name)
    });
    let description = format!("{}, certificate: {cert_text}, {keychain_text}", record.algorithm);
    ui.ctx().accesskit_node_builder(response.id, |node| {
        node.set_description(description);
        // Chosen in a list, not a pressed toggle: what a screen reader says of a list's item.
        node.set_selected(selected);
    });

    if ui.is_rect_visible(rect) {
        paint(ui, rect, &response, selected, layout);
    }
    // The pointer gets what the entry had no room for: a name cut short, a keychain problem.
    let hover: Vec<&str> =
        [elided.then_some(record.name.as_str()), keychain_problem.as_deref()].into_iter().flatten().collect();
    if hover.is_empty() { response } else { response.on_hover_text(hover.join("\n")) }
}

/// Lays out the entry of `row` at `width`: the name cut short before the algorithm at the right
/// of its line, and the `badges` (text and tone) left to right under them, onto another line
/// where the list is narrow.
fn lay_out(ui: &egui::Ui, row: &KeyRow, width: f32, badges: [(&str, Tone); 2]) -> Layout {
    let inner = width - 2.0 * PADDING.x;
    let small = |text: &str, colour: egui::Color32| {
        egui::WidgetText::from(RichText::new(text).small().color(colour)).into_galley(
            ui,
            Some(egui::TextWrapMode::Extend),
            f32::INFINITY,
            egui::TextStyle::Small,
        )
    };
    let algorithm = small(&row.record.algorithm.to_string(), ui.visuals().weak_text_color());
    let name = egui::WidgetText::from(RichText::new(&row.record.name).strong()).into_galley(
        ui,
        Some(egui::TextWrapMode::Truncate),
        (inner - algorithm.size().x - GAP.x).max(0.0),
        egui::TextStyle::Body,
    );
    let mut placed = Vec::with_capacity(badges.len());
    let (mut x, mut y, mut line) = (0.0_f32, name.size().y.max(algorithm.size().y) + GAP.y, 0.0_f32);
    for (text, tone) in badges {
        let galley = small(text, widgets::colour(ui, tone));
        let size = galley.size() + 2.0 * BADGE_PADDING;
        if x > 0.0 && x + size.x > inner {
            (x, y, line) = (0.0, y + line + GAP.y, 0.0);
        }
        placed.push((egui::vec2(x, y), size, galley, tone));
        x += size.x + GAP.x;
        line = line.max(size.y);
    }
    Layout { name, algorithm, badges: placed, height: y + line + 2.0 * PADDING.y }
}

/// Paints a laid-out entry into `rect`: its fill, the selection bar, the focus ring, the texts
/// and the badges.
fn paint(ui: &egui::Ui, rect: egui::Rect, response: &egui::Response, selected: bool, layout: Layout) {
    let visuals = ui.visuals();
    let painter = ui.painter();
    let corner = 4.0;
    if let Some(fill) = entry_fill(visuals, selected, response.hovered()) {
        painter.rect_filled(rect, corner, fill);
    }
    if selected {
        // A bar down the left edge marks the chosen key beyond its fill alone.
        let bar = egui::Rect::from_min_size(rect.min, egui::vec2(3.0, rect.height()));
        painter.rect_filled(bar, corner, visuals.hyperlink_color);
    }
    if response.has_focus() {
        painter.rect_stroke(rect, corner, visuals.selection.stroke, egui::StrokeKind::Inside);
    }
    let Layout { name, algorithm, badges, .. } = layout;
    let origin = rect.min + PADDING;
    // The algorithm's smaller text sits on the name's baseline.
    let algorithm_at = egui::pos2(
        rect.max.x - PADDING.x - algorithm.size().x,
        origin.y + name.size().y - algorithm.size().y - 1.0,
    );
    painter.galley(origin, name, visuals.text_color());
    painter.galley(algorithm_at, algorithm, visuals.text_color());
    for (offset, size, galley, tone) in badges {
        let min = origin + offset;
        let stroke = egui::Stroke::new(1.0, widgets::colour(ui, tone));
        painter.rect_stroke(egui::Rect::from_min_size(min, size), 6.0, stroke, egui::StrokeKind::Inside);
        painter.galley(min + BADGE_PADDING, galley, visuals.text_color());
    }
}

/// The background of a list entry: the selection colour halfway over the panel (opaque, so
/// that the contrast of the text on it can be checked), a lighter one under the pointer.
fn entry_fill(visuals: &egui::Visuals, selected: bool, hovered: bool) -> Option<egui::Color32> {
    if selected {
        Some(visuals.panel_fill.lerp_to_gamma(visuals.selection.bg_fill, 0.5))
    } else if hovered {
        Some(visuals.widgets.hovered.weak_bg_fill)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gui::theme;

    /// The chosen entry's fill keeps every text and badge colour on it readable (4.5:1), as
    /// `theme.rs` requires of every background.
    #[test]
    fn every_colour_reads_on_the_chosen_entry() {
        for dark in [false, true] {
            let ctx = egui::Context::default();
            theme::apply(&ctx);
            let style = ctx.options(|o| if dark { o.dark_style.clone() } else { o.light_style.clone() });
            let v = &style.visuals;
            let Some(fill) = entry_fill(v, true, false) else { panic!("a chosen entry has a fill") };
            for (what, fg) in [
                ("text", v.text_color()),
                ("weak text", v.weak_text_color()),
                ("good", widgets::colour_in(v, Tone::Good)),
                ("warning", widgets::colour_in(v, Tone::Warn)),
                ("bad", widgets::colour_in(v, Tone::Bad)),
            ] {
                let c = theme::contrast(fg, fill);
                assert!(c >= 4.5, "dark {dark}: {what} on the chosen entry: {c:.2}");
            }
        }
    }
}
