//! Small pieces every view uses: labelled fields (so each has an accessible name), banners
//! and badges in colours that read in both light and dark mode.

use std::path::{Path, PathBuf};

use eframe::egui::{self, Color32, Response, RichText, Ui};
use time::OffsetDateTime;

use countersign::certs::ValidityState;

use super::desktop::{DialogAnswer, NoDialog};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Good,
    Warn,
    Bad,
    Info,
}

pub fn colour(ui: &Ui, tone: Tone) -> Color32 {
    colour_in(ui.visuals(), tone)
}

/// The text colour of `tone` in these visuals (see `theme.rs` for their contrast).
pub fn colour_in(visuals: &egui::Visuals, tone: Tone) -> Color32 {
    match tone {
        Tone::Good if visuals.dark_mode => Color32::from_rgb(110, 200, 120),
        Tone::Good => Color32::from_rgb(15, 110, 35),
        Tone::Warn => visuals.warn_fg_color,
        Tone::Bad => visuals.error_fg_color,
        Tone::Info => visuals.text_color(),
    }
}

/// How wide a text field is where there is room: wide enough for a long path or name.
const FIELD_WIDTH: f32 = 360.0;
/// Narrower than this a field is no use; the layout overflows instead.
const MIN_FIELD_WIDTH: f32 = 120.0;

/// A text field with its label in front; the label is its accessible name. It narrows to
/// fit a narrow column (the Keys view's detail panel) rather than run out of it.
pub fn field(ui: &mut Ui, label: &str, value: &mut String, hint: &str) -> Response {
    ui.horizontal(|ui| {
        let l = ui.label(label);
        let width = ui.available_width().clamp(MIN_FIELD_WIDTH, FIELD_WIDTH);
        ui.add(egui::TextEdit::singleline(value).hint_text(hint).desired_width(width)).labelled_by(l.id)
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

/// A path the person types, or chooses with the dialog button beside it. A dialog that could
/// not be shown says so under the field, and what was typed stays.
#[derive(Debug, Default)]
pub struct PathField {
    pub text: String,
    problem: Option<String>,
    /// Drawn as the first control of its view (see [`first_control`]).
    first: bool,
    /// The text last looked up on disk, and whether something is there: looked up when the
    /// text changes, not every frame.
    looked_up: Option<(String, bool)>,
}

/// What happened to a [`PathField`] this frame.
#[derive(Debug, Default, Clone, Copy)]
pub struct PathEvents {
    /// The text changed.
    pub changed: bool,
    /// Enter was pressed in the field.
    pub submitted: bool,
    /// The dialog button was pressed.
    pub browse: bool,
}

impl PathField {
    /// The typed path, if any.
    pub fn path(&self) -> Option<PathBuf> {
        Some(self.text.trim()).filter(|t| !t.is_empty()).map(PathBuf::from)
    }

    pub fn set(&mut self, path: &Path) {
        self.text = path.display().to_string();
        self.problem = None;
    }

    pub fn clear(&mut self) {
        self.text.clear();
        self.problem = None;
    }

    /// Whether something is at the typed path (looked up once per text).
    fn exists(&mut self) -> Option<bool> {
        let path = self.path()?;
        match &self.looked_up {
            Some((text, there)) if *text == self.text => Some(*there),
            _ => {
                let there = path.exists();
                self.looked_up = Some((self.text.clone(), there));
                Some(there)
            }
        }
    }

    /// Says, as it is typed, that nothing is at a path that is to be read.
    pub fn warn_if_missing(&mut self, ui: &mut Ui) {
        if self.exists() == Some(false) {
            ui.label(RichText::new("Nothing is at this path yet.").color(colour(ui, Tone::Warn)));
        }
    }

    /// Says, as it is typed, that a file is already at a path that is to be written: a typed
    /// path is never replaced.
    pub fn warn_if_taken(&mut self, ui: &mut Ui) {
        if self.exists() == Some(true) {
            ui.label(
                RichText::new(
                    "A file is there already, and a typed path is never replaced: choose another name.",
                )
                .color(colour(ui, Tone::Warn)),
            );
        }
    }

    /// Takes a dialog's answer: a path fills the field, a cancel changes nothing, and a
    /// desktop without dialogs is said under the field.
    pub fn chosen(&mut self, answer: DialogAnswer) {
        match answer {
            Ok(Some(path)) => self.set(&path),
            Ok(None) => {}
            Err(e) => self.no_dialog(&e),
        }
    }

    pub fn no_dialog(&mut self, e: &NoDialog) {
        self.problem = Some(e.to_string());
    }

    /// Draws `label`, the field and the dialog button named `button`.
    pub fn ui(&mut self, ui: &mut Ui, label: &str, hint: &str, button: &str) -> PathEvents {
        let mut events = PathEvents::default();
        ui.vertical(|ui| {
            events = ui
                .horizontal(|ui| {
                    let l = ui.label(label);
                    self.field(ui, l.id, hint, button)
                })
                .inner;
            self.problem_ui(ui);
        });
        events
    }

    /// [`ui`](Self::ui) for the first control of a view: it takes the focus when the view opens.
    pub fn ui_first(&mut self, ui: &mut Ui, label: &str, hint: &str, button: &str) -> PathEvents {
        self.first = true;
        let events = self.ui(ui, label, hint, button);
        self.first = false;
        events
    }

    /// Draws the field and its dialog button without a label of their own, named by the
    /// label `label_id` (the first column of a grid).
    pub fn ui_labelled_by(
        &mut self,
        ui: &mut Ui,
        label_id: egui::Id,
        hint: &str,
        button: &str,
    ) -> PathEvents {
        ui.vertical(|ui| {
            let events = ui.horizontal(|ui| self.field(ui, label_id, hint, button)).inner;
            self.problem_ui(ui);
            events
        })
        .inner
    }

    fn problem_ui(&self, ui: &mut Ui) {
        if let Some(problem) = &self.problem {
            ui.label(RichText::new(problem).color(colour(ui, Tone::Warn)));
        }
    }

    fn field(&mut self, ui: &mut Ui, label_id: egui::Id, hint: &str, button: &str) -> PathEvents {
        let mut events = PathEvents::default();
        {
            // The button keeps its room beside the field: the field narrows first.
            let button_width = egui::WidgetText::from(button)
                .into_galley(ui, Some(egui::TextWrapMode::Extend), f32::INFINITY, egui::TextStyle::Button)
                .size()
                .x
                + 2.0 * ui.spacing().button_padding.x
                + ui.spacing().item_spacing.x;
            let width = (ui.available_width() - button_width).clamp(MIN_FIELD_WIDTH, FIELD_WIDTH);
            let field = ui
                .add(egui::TextEdit::singleline(&mut self.text).hint_text(hint).desired_width(width))
                .labelled_by(label_id);
            if self.first {
                first_control(ui, &field);
            }
            events.changed = field.changed();
            events.submitted = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            events.browse = ui.button(button).clicked();
        }
        if events.changed {
            self.problem = None;
        }
        events
    }
}

/// The accent fill of a view's primary button: white text on it has a contrast of 6.5:1.
pub const ACCENT: Color32 = Color32::from_rgb(0, 90, 190);

/// The one primary (accent-coloured) button of a view. Disabled, it looks disabled and says
/// why beside it and in its tooltip (`why_not` is asked only then).
pub fn primary<S: AsRef<str>>(
    ui: &mut Ui,
    enabled: bool,
    text: &str,
    why_not: impl FnOnce() -> S,
) -> Response {
    primary_saying(ui, enabled, text, why_not, true)
}

/// [`primary`], with the reason it is disabled beside it only when `say_beside`: where the
/// view already shows that reason (a banner above), the button gives it only to the pointer and
/// to a screen reader, so that the screen says each problem once.
pub fn primary_saying<S: AsRef<str>>(
    ui: &mut Ui,
    enabled: bool,
    text: &str,
    why_not: impl FnOnce() -> S,
    say_beside: bool,
) -> Response {
    let button = if enabled {
        egui::Button::new(RichText::new(text).strong().color(Color32::WHITE)).fill(ACCENT)
    } else {
        egui::Button::new(RichText::new(text).strong())
    };
    let response = ui.add_enabled(enabled, button);
    if enabled {
        return response;
    }
    let why = why_not();
    if say_beside {
        ui.label(RichText::new(why.as_ref()).color(ui.visuals().weak_text_color()));
    }
    response.disabled_because(why.as_ref())
}

/// Why a control is disabled, for everyone: the tooltip for the pointer, and the accessible
/// description for a screen reader, which otherwise announces only "dimmed".
pub trait DisabledBecause {
    /// When the control is disabled, says `why` in its tooltip and accessible description.
    #[must_use]
    fn disabled_because(self, why: &str) -> Self;
}

impl DisabledBecause for Response {
    fn disabled_because(self, why: &str) -> Self {
        if self.enabled() {
            return self;
        }
        if self.ctx.has_accesskit_node(self.id) {
            self.ctx.accesskit_node_builder(self.id, |node| node.set_description(why));
        }
        self.on_disabled_hover_text(why)
    }
}

/// Where the "a view was just opened" flag lives in egui's memory.
fn opened_flag() -> egui::Id {
    egui::Id::unique("countersign-view-opened")
}

/// Marks that a view was just opened: its first control takes the keyboard focus, so that Tab
/// starts in the view's content rather than in the navigation bar.
pub fn view_opened(ctx: &egui::Context) {
    ctx.data_mut(|d| d.insert_temp(opened_flag(), true));
}

/// Gives `response` the keyboard focus if it is the first control of a view just opened.
pub fn first_control(ui: &Ui, response: &Response) {
    if ui.ctx().data_mut(|d| d.remove_temp::<bool>(opened_flag())).unwrap_or(false) {
        response.request_focus();
    }
}

/// A heading inside a view: larger than body text, with a rule above, so that a page reads
/// as sections.
pub fn section(ui: &mut Ui, title: &str) {
    ui.add_space(8.0);
    ui.separator();
    ui.label(RichText::new(title).strong().size(16.0));
}

/// A time from an index or history (RFC 3339, UTC) as people read it: `2026-12-01 15:45 UTC`.
pub fn when(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..16)) {
        (Some(day), Some(time)) if rfc3339.ends_with('Z') => format!("{day} {time} UTC"),
        _ => rfc3339.to_owned(),
    }
}
