//! What the window asks of the desktop: file dialogs and showing a folder. Behind a trait so
//! that tests answer in place of a person (rfd reports "nothing chosen" both when the
//! person cancels and when the portal is broken, so tests must never call it).
//!
//! Every method is called on a worker thread, never on the UI thread: a dialog that takes
//! a minute to answer does not freeze the window.

use std::path::{Path, PathBuf};

pub trait Desktop: Send + Sync {
    /// Files to sign (several at once are signed as a queue).
    fn pick_artifacts(&self) -> Vec<PathBuf>;
    /// One file to open, described by `title` (a key, a certificate, a signature).
    fn pick_file(&self, title: &str, extensions: &[&str]) -> Option<PathBuf>;
    fn pick_folder(&self, title: &str) -> Option<PathBuf>;
    /// Where to save a new file; the dialog itself asks before replacing one.
    fn save_file(&self, title: &str, suggested_name: &str) -> Option<PathBuf>;
    /// Shows a folder in the file manager.
    fn open_folder(&self, path: &Path) -> Result<(), String>;
}

/// The platform's own dialogs (rfd) and file manager.
pub struct NativeDesktop;

// rfd's async dialogs, waited on here: this runs on a worker thread, and the async form is
// the one that may be started from a thread other than the main one on every platform.
impl Desktop for NativeDesktop {
    fn pick_artifacts(&self) -> Vec<PathBuf> {
        let dialog = rfd::AsyncFileDialog::new()
            .set_title("Choose apps to sign")
            .add_filter("Atlassian apps (.jar, .obr)", &["jar", "obr"])
            .add_filter("All files", &["*"]);
        pollster::block_on(dialog.pick_files())
            .unwrap_or_default()
            .into_iter()
            .map(|h| h.path().to_path_buf())
            .collect()
    }

    fn pick_file(&self, title: &str, extensions: &[&str]) -> Option<PathBuf> {
        let mut dialog = rfd::AsyncFileDialog::new().set_title(title);
        if !extensions.is_empty() {
            dialog = dialog.add_filter(extensions.join(", "), extensions);
        }
        pollster::block_on(dialog.add_filter("All files", &["*"]).pick_file()).map(|h| h.path().to_path_buf())
    }

    fn pick_folder(&self, title: &str) -> Option<PathBuf> {
        pollster::block_on(rfd::AsyncFileDialog::new().set_title(title).pick_folder())
            .map(|h| h.path().to_path_buf())
    }

    fn save_file(&self, title: &str, suggested_name: &str) -> Option<PathBuf> {
        pollster::block_on(
            rfd::AsyncFileDialog::new().set_title(title).set_file_name(suggested_name).save_file(),
        )
        .map(|h| h.path().to_path_buf())
    }

    fn open_folder(&self, path: &Path) -> Result<(), String> {
        let program = if cfg!(target_os = "macos") {
            "open"
        } else if cfg!(target_os = "windows") {
            "explorer"
        } else {
            "xdg-open"
        };
        std::process::Command::new(program)
            .arg(path)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map(drop)
            .map_err(|e| {
                format!(
                    "The folder {} could not be shown ({program}: {e}). Open it in your file manager.",
                    path.display()
                )
            })
    }
}
