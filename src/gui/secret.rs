//! Passphrase fields that leave no copies behind.
//!
//! egui's `TextEdit` keeps copies of what is typed: its undo history (in egui's memory, per
//! field) and a copy of the previous text every frame, both freed without being wiped; a
//! growing `String` leaves its old allocations behind too. A passphrase instead goes into a
//! [`SecretText`]: one allocation of fixed size, never moved or grown, wiped when cleared and
//! when dropped. [`secret_field`] edits it directly from the frame's input events and draws
//! only dots, so neither egui's memory nor its text layout ever holds the passphrase.

use eframe::egui::{self, Event, Key, Sense, Ui};
use zeroize::{Zeroize, Zeroizing};

/// Secret text in a fixed buffer that is wiped on [`clear`](SecretText::clear) and on drop.
pub struct SecretText {
    bytes: Box<[u8]>,
    len: usize,
}

impl SecretText {
    /// Bytes a passphrase may take (UTF-8): far beyond any passphrase a person types.
    pub const CAPACITY: usize = 1024;

    pub fn new() -> Self {
        SecretText { bytes: vec![0; Self::CAPACITY].into_boxed_slice(), len: 0 }
    }

    pub fn as_str(&self) -> &str {
        // Only whole `&str`s are appended and only whole characters removed, so the bytes
        // are always UTF-8; an empty string is the safe answer should that ever be broken.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }

    pub fn char_count(&self) -> usize {
        self.as_str().chars().count()
    }

    /// Appends `text`, or nothing and `false` when it would not fit.
    pub fn push_str(&mut self, text: &str) -> bool {
        let end = self.len + text.len();
        if end > self.bytes.len() {
            return false;
        }
        self.bytes[self.len..end].copy_from_slice(text.as_bytes());
        self.len = end;
        true
    }

    /// Removes the last character.
    pub fn pop(&mut self) {
        let Some(last) = self.as_str().chars().next_back() else { return };
        let start = self.len - last.len_utf8();
        self.bytes[start..self.len].zeroize();
        self.len = start;
    }

    /// Wipes the whole buffer.
    pub fn clear(&mut self) {
        self.bytes.zeroize();
        self.len = 0;
    }

    #[cfg(test)]
    /// True when the buffer is empty and every byte of it is zero: what a test checks after
    /// a passphrase was used.
    pub fn is_wiped(&self) -> bool {
        self.len == 0 && self.bytes.iter().all(|b| *b == 0)
    }

    /// A copy for a background job, in one allocation of exactly its size (so it is never
    /// reallocated), wiped when the job drops it.
    pub fn to_zeroizing(&self) -> Zeroizing<String> {
        let mut copy = String::with_capacity(self.len);
        copy.push_str(self.as_str());
        Zeroizing::new(copy)
    }
}

impl Default for SecretText {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for SecretText {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl PartialEq for SecretText {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

/// What happened in a [`secret_field`] this frame.
pub struct SecretResponse {
    /// Enter was pressed in the field.
    pub submitted: bool,
    /// Typing was refused because the buffer is full.
    pub overflowed: bool,
}

/// A passphrase field: its label in front (its accessible name), dots for what is typed.
/// Typing and pasting append, Backspace removes the last character (with Ctrl or Cmd, all of
/// them), Enter submits, Escape leaves the field.
pub fn secret_field(ui: &mut Ui, label: &str, value: &mut SecretText) -> SecretResponse {
    ui.horizontal(|ui| {
        let l = ui.label(label);
        let id = ui.make_persistent_id(("secret-field", label));
        let height = ui.text_style_height(&egui::TextStyle::Body) + 2.0 * ui.spacing().button_padding.y;
        let (rect, _) = ui.allocate_exact_size(egui::vec2(240.0, height), Sense::hover());
        let response = ui.interact(rect, id, Sense::click()).labelled_by(l.id);
        if response.clicked() {
            response.request_focus();
        }
        let focused = response.has_focus();
        let (mut submitted, mut overflowed) = (false, false);
        if focused {
            // Read the events in place: cloning them would copy what was typed.
            ui.input(|input| {
                for event in &input.events {
                    match event {
                        Event::Text(text) | Event::Paste(text) => overflowed |= !value.push_str(text),
                        Event::Ime(egui::ImeEvent::Commit(text)) => overflowed |= !value.push_str(text),
                        Event::Key { key: Key::Backspace, pressed: true, modifiers, .. } => {
                            if modifiers.command || modifiers.ctrl {
                                value.clear();
                            } else {
                                value.pop();
                            }
                        }
                        Event::Key { key: Key::Enter, pressed: true, .. } => submitted = true,
                        _ => {}
                    }
                }
            });
        }
        let dots = "\u{2022}".repeat(value.char_count());
        response.widget_info(|| egui::WidgetInfo::text_edit(ui.is_enabled(), "", &dots, ""));
        ui.ctx().accesskit_node_builder(id, |node| node.set_role(egui::accesskit::Role::PasswordInput));

        let visuals = ui.style().interact_selectable(&response, focused);
        let stroke = if focused { ui.visuals().selection.stroke } else { visuals.bg_stroke };
        let painter = ui.painter_at(rect);
        painter.rect(
            rect,
            visuals.corner_radius,
            ui.visuals().extreme_bg_color,
            stroke,
            egui::StrokeKind::Inside,
        );
        let text_pos = rect.left_center() + egui::vec2(ui.spacing().button_padding.x, 0.0);
        let galley = painter.layout_no_wrap(
            dots,
            egui::TextStyle::Body.resolve(ui.style()),
            ui.visuals().text_color(),
        );
        let caret_x = text_pos.x + galley.size().x + 1.0;
        painter.galley(text_pos - egui::vec2(0.0, galley.size().y / 2.0), galley, ui.visuals().text_color());
        if focused {
            // A steady caret: a blinking one would repaint forever while the field is focused.
            let half = ui.text_style_height(&egui::TextStyle::Body) / 2.0;
            painter.vline(
                caret_x,
                (rect.center().y - half)..=(rect.center().y + half),
                ui.visuals().text_cursor.stroke,
            );
        }
        SecretResponse { submitted, overflowed }
    })
    .inner
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_removes_and_wipes_in_one_buffer() {
        let mut s = SecretText::new();
        let storage = s.bytes.as_ptr();
        assert!(s.push_str("pässwörd"));
        s.pop();
        assert_eq!(s.as_str(), "pässwör");
        assert!(!s.push_str(&"x".repeat(SecretText::CAPACITY)), "an overflow is refused whole");
        assert_eq!(s.as_str(), "pässwör");
        assert_eq!(s.bytes.as_ptr(), storage, "never reallocated");
        assert_eq!(&*s.to_zeroizing(), "pässwör");
        s.clear();
        assert!(s.is_wiped());
    }
}
