//! What a view asks of the window as a whole: another view, a reload, a notice, a key
//! chosen. Views and finished jobs push actions onto a queue; the app applies them in one
//! place after drawing, so that no view reaches into another view's state.

use std::path::PathBuf;

use super::View;
use super::failure::{Failure, explain};
use super::notices::Notice;

/// One request to the window as a whole.
#[derive(Debug)]
pub enum Action {
    /// Shows another view.
    ShowView(View),
    /// Ends the first-run setup (done or skipped) and shows `View`.
    FinishSetup(View),
    /// Reads the key list again (a key or its certificates changed).
    ReloadKeys,
    /// Reads the signing history again.
    ReloadHistory,
    /// Shows a sentence across the top of the window.
    Notify(Notice),
    /// Makes the named key the one chosen in the Keys and Certificates views.
    SelectKey(String),
    /// Opens the "Replace a key" page on the named key.
    ReplaceKey(String),
    /// Checks a signed bundle in the Verify view.
    VerifyBundle(PathBuf),
    /// Shows a folder in the system's file manager (off the UI thread; a failure is said).
    OpenFolder(PathBuf),
}

/// The actions pushed since the app last applied them, in order.
#[derive(Debug, Default)]
pub struct Actions {
    queue: Vec<Action>,
}

impl Actions {
    pub fn push(&mut self, action: Action) {
        self.queue.push(action);
    }

    /// Shows the outcome of something that went well.
    pub fn success(&mut self, text: impl Into<String>) {
        self.push(Action::Notify(Notice::success(text)));
    }

    /// Shows the outcome of something that failed, in its own words.
    pub fn failure(&mut self, text: impl Into<String>) {
        self.push(Action::Notify(Notice::failure(text)));
    }

    /// Shows a failure, explained with what to do in the window.
    pub fn failed(&mut self, failure: &Failure) {
        self.failure(explain(failure));
    }

    /// Everything pushed so far, leaving the queue empty.
    pub fn take(&mut self) -> Vec<Action> {
        std::mem::take(&mut self.queue)
    }
}
