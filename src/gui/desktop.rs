//! What the window asks of the desktop: file dialogs and showing a folder. Behind a trait so
//! that tests answer in place of a person (rfd reports "nothing chosen" both when the
//! person cancels and when the portal is broken, so tests must never call it).
//!
//! Every method is called on a worker thread, never on the UI thread: a dialog that takes
//! a minute to answer does not freeze the window.
//!
//! A desktop may have no file dialog at all (no XDG desktop portal and no zenity: common on
//! tiling and minimal desktops). Then a dialog says so ([`NoDialog`]) instead of looking
//! cancelled, and every choice in the window also has a field to type the path into.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// What a dialog is for.
#[derive(Debug, Clone, Copy)]
pub enum DialogKind<'a> {
    /// Apps to sign: several files at once.
    Artifacts,
    /// One existing file, of one of these extensions (empty: any).
    OpenFile { extensions: &'a [&'a str] },
    /// One existing folder.
    Folder,
    /// Where to save a new file; the dialog itself asks before replacing one.
    Save { suggested_name: &'a str },
}

/// One dialog to show: its title, what it is for, and the folder it starts in.
#[derive(Debug, Clone, Copy)]
pub struct DialogRequest<'a> {
    pub title: &'a str,
    pub kind: DialogKind<'a>,
    pub start: &'a Path,
}

/// No file dialog could be shown on this desktop. `reason` is the desktop's own word, for
/// the log; the person is told to type the path instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("No file dialog is available on this desktop; type the path in the field instead.")]
pub struct NoDialog {
    pub reason: String,
}

/// What a dialog for one path answered: the path chosen, nothing (cancelled), or no dialog
/// at all. Every view gets it back as `Message::PathChosen(field, answer)`, naming which of
/// its path fields asked, and hands it to that field ([`PathField::chosen`]).
///
/// [`PathField::chosen`]: super::widgets::PathField::chosen
pub type DialogAnswer = Result<Option<PathBuf>, NoDialog>;

pub trait Desktop: Send + Sync {
    /// Shows a dialog and returns what was chosen: nothing when the person cancelled.
    fn choose(&self, request: &DialogRequest<'_>) -> Result<Vec<PathBuf>, NoDialog>;
    /// Shows a folder in the file manager.
    fn open_folder(&self, path: &Path) -> Result<(), String>;
}

/// The dialogs as the views use them: each starts in the folder last used in any dialog
/// (or the user's home), and a dialog that cannot be shown is logged with its reason.
#[derive(Clone)]
pub struct Dialogs {
    desktop: Arc<dyn Desktop>,
    home: PathBuf,
    last_folder: Arc<Mutex<Option<PathBuf>>>,
}

impl Dialogs {
    pub fn new(desktop: Arc<dyn Desktop>, home: PathBuf) -> Self {
        Dialogs { desktop, home, last_folder: Arc::default() }
    }

    fn show(&self, title: &str, kind: DialogKind<'_>) -> Result<Vec<PathBuf>, NoDialog> {
        let remembered = self.last_folder.lock().map(|f| f.clone()).unwrap_or_default();
        let start = remembered.filter(|f| f.is_dir()).unwrap_or_else(|| self.home.clone());
        let chosen = self.desktop.choose(&DialogRequest { title, kind, start: &start });
        match &chosen {
            Ok(paths) => {
                let folder = paths.first().and_then(|p| match kind {
                    DialogKind::Folder => Some(p.clone()),
                    _ => p.parent().map(Path::to_path_buf),
                });
                if let (Some(folder), Ok(mut last)) = (folder, self.last_folder.lock()) {
                    *last = Some(folder);
                }
            }
            Err(e) => eprintln!("countersign: no file dialog for “{title}”: {}", e.reason),
        }
        chosen
    }

    /// Apps to sign (none: cancelled).
    pub fn artifacts(&self) -> Result<Vec<PathBuf>, NoDialog> {
        self.show("Choose apps to sign", DialogKind::Artifacts)
    }

    /// One existing file, titled `title`.
    pub fn open_file(&self, title: &str, extensions: &[&str]) -> DialogAnswer {
        Ok(self.show(title, DialogKind::OpenFile { extensions })?.into_iter().next())
    }

    pub fn folder(&self, title: &str) -> DialogAnswer {
        Ok(self.show(title, DialogKind::Folder)?.into_iter().next())
    }

    /// Where to save a new file (the dialog asked before replacing one).
    pub fn save(&self, title: &str, suggested_name: &str) -> DialogAnswer {
        Ok(self.show(title, DialogKind::Save { suggested_name })?.into_iter().next())
    }

    pub fn open_folder(&self, path: &Path) -> Result<(), String> {
        self.desktop.open_folder(path)
    }

    /// Where to write a new file: the path typed (`typed`), or else the one chosen in a save
    /// dialog. The flag says whether a file there may be replaced: only the dialog asked.
    pub fn save_target(
        &self,
        typed: Option<PathBuf>,
        title: &str,
        suggested_name: &str,
    ) -> Result<Option<(PathBuf, bool)>, NoDialog> {
        match typed {
            Some(path) => Ok(Some((path, false))),
            None => Ok(self.save(title, suggested_name)?.map(|p| (p, true))),
        }
    }

    /// The file to read: the path typed, or else the one chosen in a dialog.
    pub fn open_target(
        &self,
        typed: Option<PathBuf>,
        title: &str,
        extensions: &[&str],
    ) -> Result<Option<PathBuf>, NoDialog> {
        match typed {
            Some(path) => Ok(Some(path)),
            None => self.open_file(title, extensions),
        }
    }

    /// The folder to use: the path typed, or else the one chosen in a dialog.
    pub fn folder_target(&self, typed: Option<PathBuf>, title: &str) -> Result<Option<PathBuf>, NoDialog> {
        match typed {
            Some(path) => Ok(Some(path)),
            None => self.folder(title),
        }
    }
}

/// The platform's own dialogs (rfd, or zenity where no portal exists) and file manager.
pub struct NativeDesktop;

impl Desktop for NativeDesktop {
    fn choose(&self, request: &DialogRequest<'_>) -> Result<Vec<PathBuf>, NoDialog> {
        #[cfg(target_os = "linux")]
        if let Err(no_portal) = linux::portal_available() {
            // rfd would fall back to zenity itself, but untitled and in the working folder,
            // and with no word when zenity is missing too.
            return linux::zenity(std::path::Path::new("zenity"), request, &no_portal);
        }
        Ok(with_rfd(request))
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

/// rfd's async dialogs, waited on here: this runs on a worker thread, and the async form is
/// the one that may be started from a thread other than the main one on every platform.
fn with_rfd(request: &DialogRequest<'_>) -> Vec<PathBuf> {
    let dialog = rfd::AsyncFileDialog::new().set_title(request.title).set_directory(request.start);
    let one = |handle: Option<rfd::FileHandle>| handle.map(|h| h.path().to_path_buf()).into_iter().collect();
    match request.kind {
        DialogKind::Artifacts => {
            let dialog = dialog
                .add_filter("Atlassian apps (.jar, .obr)", &["jar", "obr"])
                .add_filter("All files", &["*"]);
            pollster::block_on(dialog.pick_files())
                .unwrap_or_default()
                .into_iter()
                .map(|h| h.path().to_path_buf())
                .collect()
        }
        DialogKind::OpenFile { extensions } => {
            let dialog = if extensions.is_empty() {
                dialog
            } else {
                dialog.add_filter(extensions.join(", "), extensions)
            };
            one(pollster::block_on(dialog.add_filter("All files", &["*"]).pick_file()))
        }
        DialogKind::Folder => one(pollster::block_on(dialog.pick_folder())),
        DialogKind::Save { suggested_name } => {
            one(pollster::block_on(dialog.set_file_name(suggested_name).save_file()))
        }
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::path::{Path, PathBuf};
    use std::process::{Command, Stdio};

    use super::{DialogKind, DialogRequest, NoDialog};

    const PORTAL: &str = "org.freedesktop.portal.Desktop";

    /// Whether the session bus has (or can start) the XDG desktop portal; if not, why not.
    pub fn portal_available() -> Result<(), String> {
        let bus = zbus::blocking::Connection::session().map_err(|e| format!("no D-Bus session bus ({e})"))?;
        let dbus = zbus::blocking::fdo::DBusProxy::new(&bus).map_err(|e| e.to_string())?;
        let name = zbus::names::BusName::try_from(PORTAL).map_err(|e| e.to_string())?;
        if dbus.name_has_owner(name).unwrap_or(false) {
            return Ok(());
        }
        let activatable = dbus.list_activatable_names().map_err(|e| e.to_string())?;
        if activatable.iter().any(|n| n.as_str() == PORTAL) {
            Ok(())
        } else {
            Err(format!("no XDG desktop portal ({PORTAL}) on the session bus"))
        }
    }

    /// The dialog through zenity, titled and started in `request.start`.
    pub fn zenity(
        program: &Path,
        request: &DialogRequest<'_>,
        no_portal: &str,
    ) -> Result<Vec<PathBuf>, NoDialog> {
        let mut command = Command::new(program);
        command.args(["--file-selection", "--title", request.title]);
        // zenity opens the folder of --filename; a trailing separator names the folder itself.
        let mut start = request.start.as_os_str().to_owned();
        start.push("/");
        match request.kind {
            DialogKind::Artifacts => {
                command.args([
                    "--multiple",
                    "--separator",
                    "\n",
                    "--file-filter",
                    "Atlassian apps | *.jar *.obr",
                ]);
            }
            DialogKind::OpenFile { extensions } if !extensions.is_empty() => {
                let globs: Vec<String> = extensions.iter().map(|e| format!("*.{e}")).collect();
                command.args(["--file-filter", &format!("{} | {}", extensions.join(", "), globs.join(" "))]);
            }
            DialogKind::OpenFile { .. } => {}
            DialogKind::Folder => {
                command.arg("--directory");
            }
            DialogKind::Save { suggested_name } => {
                command.args(["--save", "--confirm-overwrite"]);
                start.push(suggested_name);
            }
        }
        command.arg("--filename").arg(start);
        let output = command.stdin(Stdio::null()).output().map_err(|e| NoDialog {
            reason: format!("{no_portal}, and zenity could not be started ({e})"),
        })?;
        match output.status.code() {
            Some(0) => Ok(String::from_utf8_lossy(&output.stdout)
                .lines()
                .filter(|l| !l.is_empty())
                .map(PathBuf::from)
                .collect()),
            // 1: the person pressed Cancel or closed the dialog, unless GTK found no display.
            Some(1) if !String::from_utf8_lossy(&output.stderr).contains("display") => Ok(Vec::new()),
            _ => Err(NoDialog {
                reason: format!(
                    "{no_portal}, and zenity failed ({}: {})",
                    output.status,
                    String::from_utf8_lossy(&output.stderr).trim()
                ),
            }),
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::path::Path;

    use super::{DialogKind, DialogRequest, linux};

    /// A stand-in for zenity that records its arguments and answers as told.
    ///
    /// A child process writes it, not this one: a file this process holds open for writing is
    /// inherited by any child another test thread forks meanwhile, and running it then fails
    /// with "Text file busy" (ETXTBSY) until that child has exec'd.
    fn fake_zenity(dir: &Path, answer: &str, status: i32) -> std::path::PathBuf {
        let program = dir.join("zenity");
        let args = dir.join("args");
        let script = format!(
            "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > '{}'\nprintf '%s' '{answer}'\nexit {status}\n",
            args.display()
        );
        let written = std::process::Command::new("sh")
            .args(["-c", "printf '%s' \"$1\" > \"$2\" && chmod 755 \"$2\"", "sh", &script])
            .arg(&program)
            .status()
            .unwrap();
        assert!(written.success(), "writing the stand-in zenity: {written}");
        program
    }

    #[test]
    fn zenity_is_titled_starts_in_the_folder_given_and_its_answer_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let program = fake_zenity(dir.path(), "/home/me/acme.csr\n", 0);
        let request = DialogRequest {
            title: "Save the certificate request",
            kind: DialogKind::Save { suggested_name: "acme.csr" },
            start: Path::new("/home/me"),
        };
        let chosen = linux::zenity(&program, &request, "no portal").unwrap();
        assert_eq!(chosen, [Path::new("/home/me/acme.csr")]);
        let args = std::fs::read_to_string(dir.path().join("args")).unwrap();
        let args: Vec<&str> = args.lines().collect();
        for expected in [["--title", "Save the certificate request"], ["--filename", "/home/me/acme.csr"]] {
            assert!(args.windows(2).any(|w| w == expected), "{expected:?} in {args:?}");
        }
        assert!(args.contains(&"--save") && args.contains(&"--confirm-overwrite"), "{args:?}");
    }

    #[test]
    fn a_cancelled_zenity_chooses_nothing_and_a_missing_one_says_no_dialog() {
        let dir = tempfile::tempdir().unwrap();
        let program = fake_zenity(dir.path(), "", 1);
        let request = DialogRequest {
            title: "Choose a folder",
            kind: DialogKind::Folder,
            start: Path::new("/home/me"),
        };
        assert_eq!(linux::zenity(&program, &request, "no portal").unwrap(), Vec::<std::path::PathBuf>::new());
        let args = std::fs::read_to_string(dir.path().join("args")).unwrap();
        assert!(args.lines().any(|a| a == "/home/me/"), "a folder dialog starts inside the folder: {args}");

        let missing = dir.path().join("no-such-zenity");
        let e = linux::zenity(&missing, &request, "no XDG desktop portal").unwrap_err();
        assert!(
            e.reason.starts_with("no XDG desktop portal, and zenity could not be started"),
            "{}",
            e.reason
        );
        assert!(e.to_string().contains("type the path"), "{e}");
    }
}
