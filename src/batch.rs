//! Signing one or many artifacts into bundles, on all cores: the call both faces make.
//!
//! Where each bundle goes is decided here, once, for the window and the command line alike
//! (see [`Layout`]); every bundle that goes into a folder of its own holds a copy of the app,
//! so that the folder is everything the customer needs and `verify` passes on it. The jobs
//! run on as many threads as the machine has cores, each with the flat memory of one
//! signing (a few one-MiB buffers), and each reports into its own [`Progress`].

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use time::OffsetDateTime;

use crate::bundle::{self, BundleError, CertificateInput, SignRequest, SignedBundle};
use crate::history::{Entry, History};
use crate::keys::PrivateKey;
use crate::keystore::KeyStore;
use crate::progress::Progress;

/// Where the bundles go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layout {
    /// Next to the artifact, in its own folder (which holds the app already). One artifact
    /// only: two in one folder would share `manifest.json`.
    Beside,
    /// This folder is the bundle, made (with its parents) if missing, and gets a copy of
    /// the app. One artifact only.
    Into(PathBuf),
    /// Each artifact gets a folder of its own, `<name>-bundle`, with a copy of the app,
    /// under this folder (made if missing), or else next to the artifact. Two artifacts of
    /// the same name get `<name>-bundle` and `<name>-bundle-2`.
    FolderEach(Option<PathBuf>),
}

/// What to do when a bundle folder of that name exists already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Refuse (the person asked for no replacing).
    Refuse,
    /// Replace the bundle's files (asked for explicitly).
    Replace,
    /// Use the next free name: `<name>-bundle-2`, `-3`, …
    NextFree,
}

/// Everything one batch needs; the artifacts are signed with the same key and certificate.
pub struct BatchRequest<'a> {
    /// The `.jar` and `.obr` files to sign, each into a bundle of its own.
    pub artifacts: &'a [PathBuf],
    /// The private key every artifact is signed with.
    pub key: &'a PrivateKey,
    /// The signer's certificate (and chain) for every bundle; `None` makes bundles without a `.crt`.
    pub certificate: Option<&'a CertificateInput>,
    /// Where the bundles go.
    pub layout: Layout,
    /// Free text for the customer, recorded in every manifest; `None` or blank for none.
    pub note: Option<String>,
    /// Also write `<stem>-signed.zip` into each bundle.
    pub zip: bool,
    /// What to do where a bundle folder of the planned name exists already.
    pub existing: Existing,
    /// The signing time that every manifest records, and that certificates are checked at.
    pub now: OffsetDateTime,
}

/// Why one artifact of a batch got no bundle; the other artifacts are not affected.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// Several artifacts were given for a layout that holds one ([`Layout::Beside`] or [`Layout::Into`]).
    #[error(
        "{count} apps were given, but a bundle folder holds one app: give an output folder, and each app gets a folder of its own in it."
    )]
    OneFolderForMany {
        /// How many artifacts were given.
        count: usize,
    },
    /// The planned folder holds a bundle's `manifest.json` already, and [`Existing::Refuse`] was asked for.
    #[error("{} is a bundle of another signing already (it holds manifest.json). Choose another output folder, or replace it explicitly.", .0.display())]
    BundleExists(PathBuf),
    /// With [`Existing::NextFree`], every name from `<stem>-bundle` to `<stem>-bundle-999` is taken.
    #[error("{} holds 999 bundles of {stem} already. Choose another output folder.", .dir.display())]
    NoFreeName {
        /// The folder the bundle folders go in.
        dir: PathBuf,
        /// The artifact's file name without its extension.
        stem: String,
    },
    /// The bundle folder, or one of its missing parents, could not be created.
    #[error("Could not create the folder {}: {source}. Choose another output folder.", .path.display())]
    CreateFolder {
        /// The bundle folder being made.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The output folder, or the bundle folder planned in it, exists as a file.
    #[error("The output folder {} is a file. Choose a folder.", .0.display())]
    NotAFolder(PathBuf),
    /// Signing the artifact into its bundle failed.
    #[error(transparent)]
    Bundle(#[from] BundleError),
}

impl BatchError {
    /// True when the input was fine but a check refused it (exit status 1 rather than 2).
    pub fn is_rejection(&self) -> bool {
        matches!(self, BatchError::Bundle(e) if e.is_rejection())
    }
}

/// One artifact's place in a batch.
struct Plan {
    out_dir: Option<PathBuf>,
    include_artifact: bool,
    overwrite: bool,
}

/// Decides every artifact's bundle folder (or why it has none) before anything is signed.
fn plan(req: &BatchRequest<'_>) -> Vec<Result<Plan, BatchError>> {
    let overwrite = req.existing == Existing::Replace;
    let count = req.artifacts.len();
    match &req.layout {
        Layout::Beside | Layout::Into(_) if count > 1 => {
            (0..count).map(|_| Err(BatchError::OneFolderForMany { count })).collect()
        }
        Layout::Beside => vec![Ok(Plan { out_dir: None, include_artifact: false, overwrite })],
        Layout::Into(dir) => vec![Ok(Plan { out_dir: Some(dir.clone()), include_artifact: true, overwrite })],
        Layout::FolderEach(base) => {
            let mut taken: Vec<PathBuf> = Vec::new();
            req.artifacts
                .iter()
                .map(|artifact| {
                    let base = base.clone().unwrap_or_else(|| parent_of(artifact));
                    if base.exists() && !base.is_dir() {
                        return Err(BatchError::NotAFolder(base));
                    }
                    let dir = folder_for(artifact, &base, req.existing, &taken)?;
                    taken.push(dir.clone());
                    Ok(Plan { out_dir: Some(dir), include_artifact: true, overwrite })
                })
                .collect()
        }
    }
}

/// The bundle folder a signing with [`Layout::FolderEach`] under `base` would use for
/// `artifact` if it held no bundle yet, and whether it holds one: what a face asks before
/// signing again, to offer replacing it or keeping both.
pub fn earlier_bundle(artifact: &Path, base: Option<&Path>) -> Option<PathBuf> {
    let base = base.map(Path::to_path_buf).unwrap_or_else(|| parent_of(artifact));
    let stem = artifact.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "app".into());
    let dir = base.join(format!("{stem}-bundle"));
    dir.join(bundle::manifest::FILE_NAME).exists().then_some(dir)
}

fn parent_of(artifact: &Path) -> PathBuf {
    artifact
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// `<stem>-bundle` under `base`, unless this batch took that name already (then `-2`, …),
/// or it exists and `existing` says to move on.
fn folder_for(
    artifact: &Path,
    base: &Path,
    existing: Existing,
    taken: &[PathBuf],
) -> Result<PathBuf, BatchError> {
    let stem = artifact.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "app".into());
    for dir in crate::atomic::numbered_names(base, &format!("{stem}-bundle"), "") {
        if taken.contains(&dir) {
            continue;
        }
        let is_bundle = dir.join(bundle::manifest::FILE_NAME).exists();
        match existing {
            Existing::NextFree if dir.exists() => continue,
            Existing::Refuse if is_bundle => return Err(BatchError::BundleExists(dir)),
            _ => return Ok(dir),
        }
    }
    Err(BatchError::NoFreeName { dir: base.to_path_buf(), stem })
}

/// Makes `dir` and any missing parents; returns the ones it made, outermost first, so that
/// a failed signing can take them away again.
fn make_folders(dir: &Path) -> Result<Vec<PathBuf>, BatchError> {
    let mut missing: Vec<PathBuf> = dir
        .ancestors()
        .take_while(|d| !d.as_os_str().is_empty() && !d.exists())
        .map(Path::to_path_buf)
        .collect();
    missing.reverse();
    std::fs::create_dir_all(dir)
        .map_err(|source| BatchError::CreateFolder { path: dir.to_path_buf(), source })?;
    Ok(missing)
}

/// Removes the folders [`make_folders`] made, innermost first, where they are still empty.
fn remove_made(made: &[PathBuf]) {
    for dir in made.iter().rev() {
        if std::fs::remove_dir(dir).is_err() {
            break;
        }
    }
}

/// Signs one planned artifact; a folder made for it is taken away again if it fails.
fn sign_planned(
    req: &BatchRequest<'_>,
    artifact: &Path,
    plan: &Plan,
    progress: &Progress,
) -> Result<SignedBundle, BatchError> {
    let made = match &plan.out_dir {
        Some(dir) if dir.exists() && !dir.is_dir() => return Err(BatchError::NotAFolder(dir.clone())),
        Some(dir) => make_folders(dir)?,
        None => Vec::new(),
    };
    let request = SignRequest {
        artifact,
        key: req.key,
        certificate: req.certificate,
        out_dir: plan.out_dir.clone(),
        note: req.note.clone(),
        include_artifact: plan.include_artifact,
        zip: req.zip,
        overwrite: plan.overwrite,
        now: req.now,
    };
    bundle::sign_artifact(&request, progress).map_err(|e| {
        // The core leaves nothing of a failed signing; the folders made for it go too.
        remove_made(&made);
        BatchError::from(e)
    })
}

/// Signs every artifact of `req`, as many at once as the machine has cores. `progress`
/// holds one handle per artifact (cancelling one stops that one); `on_done` hears each
/// result as soon as it is there, from the thread that made it. Returns the results in the
/// order of `req.artifacts`: a bad artifact fails alone, the others still get their bundles.
pub fn sign_many(
    req: &BatchRequest<'_>,
    progress: &[Progress],
    on_done: impl Fn(usize, &Result<SignedBundle, BatchError>) + Sync,
) -> Vec<Result<SignedBundle, BatchError>> {
    let count = req.artifacts.len();
    // The jobs, handed out in order, each exactly once: an artifact with its plan.
    let jobs = Mutex::new(req.artifacts.iter().zip(plan(req)).enumerate());
    // Each result with its artifact's index, in the order they finished.
    let finished: Mutex<Vec<(usize, Result<SignedBundle, BatchError>)>> =
        Mutex::new(Vec::with_capacity(count));
    let threads = std::thread::available_parallelism().map_or(1, usize::from).clamp(1, count.max(1));
    let fallback = Progress::new();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let Some((i, (artifact, planned))) = lock(&jobs).next() else { break };
                    let progress = progress.get(i).unwrap_or(&fallback);
                    let result = planned.and_then(|plan| sign_planned(req, artifact, &plan, progress));
                    on_done(i, &result);
                    lock(&finished).push((i, result));
                }
            });
        }
    });
    // Every job ran and pushed its result (a panic in one makes the scope panic too), so
    // sorted by index these are one result per artifact, in the order of `req.artifacts`.
    let mut finished = finished.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
    finished.sort_unstable_by_key(|(i, _)| *i);
    finished.into_iter().map(|(_, result)| result).collect()
}

/// Locks the job list or the results; a panic in another job does not make them unusable.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The bookkeeping after a signing: the stored key's last use, and the history entry.
/// Neither may fail the signing, whose bundle is written: what failed comes back as
/// sentences to show beside the result. `override_compromised`: the key was marked
/// compromised and signed because the person said they know; the entry records it.
pub fn record(
    signed: &SignedBundle,
    stored_key: Option<(&KeyStore, &str)>,
    history: &History,
    override_compromised: bool,
) -> Vec<String> {
    let mut warnings = Vec::new();
    if let Some((store, name)) = stored_key
        && let Err(e) = store.touch(name)
    {
        warnings.push(format!("The key's last-used date could not be saved: {e}"));
    }
    let entry =
        Entry { override_compromised, ..Entry::from_signed(signed, stored_key.map(|(_, name)| name)) };
    if let Err(e) = history.record(&entry) {
        // Its own sentence says it ("Could not add to the signing history …").
        warnings.push(e.to_string());
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(plans: &[Result<Plan, BatchError>]) -> Vec<String> {
        plans
            .iter()
            .map(|p| {
                p.as_ref()
                    .ok()
                    .and_then(|p| p.out_dir.clone())
                    .map(|d| d.display().to_string())
                    .unwrap_or_else(|| "error".into())
            })
            .collect()
    }

    #[test]
    fn each_artifact_gets_its_own_folder_and_same_names_do_not_clash() {
        let dir = tempfile::tempdir().unwrap();
        let key = PrivateKey::generate(crate::keys::Algorithm::Ed25519).unwrap();
        let artifacts =
            [PathBuf::from("a/app.jar"), PathBuf::from("b/app.jar"), PathBuf::from("a/other.jar")];
        let out = dir.path().join("out");
        let req = BatchRequest {
            artifacts: &artifacts,
            key: &key,
            certificate: None,
            layout: Layout::FolderEach(Some(out.clone())),
            note: None,
            zip: false,
            existing: Existing::Refuse,
            now: OffsetDateTime::now_utc(),
        };
        let expect = |n: &str| out.join(n).display().to_string();
        assert_eq!(
            names(&plan(&req)),
            vec![expect("app-bundle"), expect("app-bundle-2"), expect("other-bundle")]
        );
        // An existing bundle is refused, unless the next free name is asked for.
        std::fs::create_dir_all(out.join("app-bundle")).unwrap();
        std::fs::write(out.join("app-bundle").join(bundle::manifest::FILE_NAME), "{}").unwrap();
        assert!(matches!(plan(&req)[0], Err(BatchError::BundleExists(_))));
        let next = BatchRequest { existing: Existing::NextFree, ..req };
        assert_eq!(names(&plan(&next))[..2], [expect("app-bundle-2"), expect("app-bundle-3")]);
    }

    #[test]
    fn one_folder_is_refused_for_several_artifacts() {
        let key = PrivateKey::generate(crate::keys::Algorithm::Ed25519).unwrap();
        let artifacts = [PathBuf::from("a.jar"), PathBuf::from("b.jar")];
        let req = BatchRequest {
            artifacts: &artifacts,
            key: &key,
            certificate: None,
            layout: Layout::Into(PathBuf::from("out")),
            note: None,
            zip: false,
            existing: Existing::Refuse,
            now: OffsetDateTime::now_utc(),
        };
        assert!(plan(&req).iter().all(|p| matches!(p, Err(BatchError::OneFolderForMany { count: 2 }))));
    }
}
