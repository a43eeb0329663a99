//! The window's type scale and colours, for the light and the dark theme alike: nothing is
//! drawn smaller than 12 px at zoom 1.0, and every text colour has a contrast of at least
//! 4.5:1 (WCAG AA) against every background it is drawn on.

use eframe::egui::{self, Color32, FontFamily, FontId, TextStyle, Theme};

/// The smallest text size of the window, in points (pixels at zoom 1.0).
pub const MIN_TEXT: f32 = 12.0;

/// Sets the type scale and the text colours of both themes.
pub fn apply(ctx: &egui::Context) {
    for theme in [Theme::Light, Theme::Dark] {
        ctx.style_mut_of(theme, |style| {
            style.text_styles = [
                (TextStyle::Small, FontId::new(MIN_TEXT, FontFamily::Proportional)),
                (TextStyle::Body, FontId::new(14.0, FontFamily::Proportional)),
                (TextStyle::Button, FontId::new(14.0, FontFamily::Proportional)),
                (TextStyle::Heading, FontId::new(20.0, FontFamily::Proportional)),
                (TextStyle::Monospace, FontId::new(13.0, FontFamily::Monospace)),
            ]
            .into();
            colours(&mut style.visuals, theme);
        });
    }
}

/// Text colours chosen for contrast; egui's own weak text (hints, placeholders) is about
/// 2.7:1 on the dark background, and its light-theme orange and red are under 4:1.
fn colours(visuals: &mut egui::Visuals, theme: Theme) {
    match theme {
        Theme::Dark => {
            visuals.widgets.noninteractive.fg_stroke.color = Color32::from_gray(200);
            visuals.weak_text_color = Some(Color32::from_gray(160));
            visuals.warn_fg_color = Color32::from_rgb(255, 160, 40);
            visuals.error_fg_color = Color32::from_rgb(255, 120, 110);
            visuals.hyperlink_color = Color32::from_rgb(120, 180, 255);
            visuals.widgets.inactive.bg_stroke = egui::Stroke::new(1.0, Color32::from_gray(110));
        }
        Theme::Light => {
            visuals.widgets.noninteractive.fg_stroke.color = Color32::from_gray(40);
            visuals.weak_text_color = Some(Color32::from_gray(92));
            visuals.warn_fg_color = Color32::from_rgb(160, 72, 0);
            visuals.error_fg_color = Color32::from_rgb(180, 0, 0);
            visuals.hyperlink_color = Color32::from_rgb(0, 80, 170);
            // egui's light text fields are white on a near-white panel (1.06:1) and its
            // checkboxes barely darker: an outline makes every control findable.
            visuals.widgets.inactive.bg_stroke = egui::Stroke::new(1.0, Color32::from_gray(125));
        }
    }
}

/// WCAG 2 contrast ratio of two colours (1.0 to 21.0).
#[cfg(test)]
pub fn contrast(a: Color32, b: Color32) -> f32 {
    fn luminance(c: Color32) -> f32 {
        let channel = |v: u8| {
            let v = f32::from(v) / 255.0;
            if v <= 0.040_45 { v / 12.92 } else { ((v + 0.055) / 1.055).powf(2.4) }
        };
        0.2126 * channel(c.r()) + 0.7152 * channel(c.g()) + 0.0722 * channel(c.b())
    }
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gui::widgets::{self, Tone};

    fn style_of(theme: Theme) -> std::sync::Arc<egui::Style> {
        let ctx = egui::Context::default();
        apply(&ctx);
        ctx.options(|o| match theme {
            Theme::Dark => o.dark_style.clone(),
            Theme::Light => o.light_style.clone(),
        })
    }

    #[test]
    fn no_text_style_is_under_12_px() {
        for theme in [Theme::Light, Theme::Dark] {
            for (style, font) in &style_of(theme).text_styles {
                assert!(font.size >= MIN_TEXT, "{theme:?}: {style:?} is {} px", font.size);
            }
        }
    }

    #[test]
    fn every_text_colour_has_a_contrast_of_4_5_on_every_background() {
        for theme in [Theme::Light, Theme::Dark] {
            let style = style_of(theme);
            let v = &style.visuals;
            let texts = [
                ("text", v.text_color()),
                ("weak text (hints, placeholders)", v.weak_text_color()),
                ("warning", widgets::colour_in(v, Tone::Warn)),
                ("error", widgets::colour_in(v, Tone::Bad)),
                ("good", widgets::colour_in(v, Tone::Good)),
                ("link", v.hyperlink_color),
                ("button text", v.widgets.inactive.fg_stroke.color),
            ];
            let backgrounds = [
                ("panel", v.panel_fill),
                ("window", v.window_fill),
                ("text field", v.text_edit_bg_color()),
                ("button", v.widgets.inactive.weak_bg_fill),
                // Striped rows add faint_bg_color over the panel.
                ("striped row", v.panel_fill + v.faint_bg_color),
            ];
            let mut failures = Vec::new();
            for (text, fg) in texts {
                for (background, bg) in backgrounds {
                    let c = contrast(fg, bg);
                    if c < 4.5 {
                        failures.push(format!("{text} on {background}: {c:.2}"));
                    }
                }
            }
            assert!(failures.is_empty(), "{theme:?}: {failures:?}");
        }
        for theme in [Theme::Light, Theme::Dark] {
            let style = style_of(theme);
            let v = &style.visuals;
            // WCAG 1.4.11: the outline of a control against what is around it, at least 3:1.
            let outline = contrast(v.widgets.inactive.bg_stroke.color, v.panel_fill);
            assert!(outline >= 3.0, "{theme:?}: a field's or checkbox's outline is {outline:.2}:1");
        }
        let on_accent = contrast(Color32::WHITE, widgets::ACCENT);
        assert!(on_accent >= 4.5, "the primary button's text: {on_accent:.2}");
    }

    #[test]
    fn egui_s_own_colours_would_fail_the_check() {
        // What the check above guards against: egui's dark weak text is under 4.5:1.
        let v = egui::Visuals::dark();
        assert!(contrast(v.weak_text_color(), v.panel_fill) < 4.5);
    }
}
