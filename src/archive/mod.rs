//! What a `.jar` or `.obr` is: a bounded look inside the zip for what identifies the app.
//!
//! Reading is bounded everywhere, since artifacts come from anywhere: the number of
//! entries, the size of each descriptor read (whatever its header claims), and the size of
//! the main jar extracted from an OBR. Nothing is extracted to disk except that one inner
//! jar, into an anonymous temporary file.

use std::fs::File;
use std::io::{self, Read, Seek};
use std::path::{Path, PathBuf};

use serde::Serialize;

mod descriptor;

pub use descriptor::{Descriptor, Manifest};

/// More entries than this is refused, by the count the zip's end record gives, before the
/// directory is parsed (about 250 bytes of memory per entry: 120 MiB at the limit). The
/// biggest real apps (fat jars bundling libraries) have a few hundred thousand at most; a
/// hostile zip can claim millions.
pub const MAX_ENTRIES: usize = 500_000;
/// `atlassian-plugin.xml` larger than this (inflated) is refused.
pub const MAX_DESCRIPTOR_BYTES: u64 = 4 << 20;
/// `META-INF/MANIFEST.MF` larger than this (inflated) is refused.
pub const MAX_MANIFEST_BYTES: u64 = 1 << 20;
/// The main jar inside an OBR larger than this (inflated) is refused.
pub const MAX_INNER_JAR_BYTES: u64 = 2 << 30;

/// Where the app descriptor sits inside a jar.
pub const DESCRIPTOR_PATH: &str = "atlassian-plugin.xml";
/// Where the jar's manifest (with the OSGi headers) sits inside a jar.
pub const MANIFEST_PATH: &str = "META-INF/MANIFEST.MF";

/// Why an artifact could not be inspected; each message names the file and what to do.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// Nothing exists at the path.
    #[error("{} does not exist. Check the path.", .0.display())]
    Missing(PathBuf),
    /// The path is a folder, not a file.
    #[error("{} is a folder. Give the .jar or .obr file itself.", .0.display())]
    IsFolder(PathBuf),
    /// The file is 0 bytes long.
    #[error("{} is empty (0 bytes). The build may have failed; rebuild the app and sign the new file.", .0.display())]
    Empty(PathBuf),
    /// The file, or a temporary file for an OBR's inner jar, could not be opened, read or written.
    #[error("Could not read {}: {source}.", .path.display())]
    Read {
        /// The artifact being inspected.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The file is not a zip and does not start like one either.
    #[error("{} is not a zip archive, so it is not a .jar or .obr. Check that you picked the built app (target/*.jar or *.obr).", .0.display())]
    NotAZip(PathBuf),
    /// The file starts like a zip, but its structure is broken or cut off.
    #[error("{} is damaged or truncated ({detail}). Copy or download it again.", .path.display())]
    Damaged {
        /// The artifact being inspected.
        path: PathBuf,
        /// What is wrong, as a phrase (the zip reader's words, or "its end is missing").
        detail: String,
    },
    /// The zip (or an OBR's inner jar) lists more than [`MAX_ENTRIES`] entries.
    #[error("{} has {entries} entries, more than the {max} Countersign reads. It is not an app Countersign can check.", .path.display(), max = MAX_ENTRIES)]
    TooManyEntries {
        /// The artifact being inspected.
        path: PathBuf,
        /// How many entries the zip lists (`usize::MAX` if more than that).
        entries: usize,
    },
    /// An entry inflates to more than its limit, whatever its header claims; likely a zip bomb.
    #[error("{}: {entry} inflates to more than {limit} bytes; this looks like a zip bomb, not an app.", .path.display())]
    TooLarge {
        /// The artifact being inspected.
        path: PathBuf,
        /// The entry's name in the zip; `inner.jar!/name` for one inside an OBR's main jar.
        entry: String,
        /// The limit it went over, in inflated bytes.
        limit: u64,
    },
    /// An entry could not be read or inflated, or `atlassian-plugin.xml` is not a valid descriptor.
    #[error("{}: {entry} cannot be read ({detail}).", .path.display())]
    Entry {
        /// The artifact being inspected.
        path: PathBuf,
        /// The entry's name in the zip; `inner.jar!/name` for one inside an OBR's main jar.
        entry: String,
        /// What went wrong, as a phrase.
        detail: String,
    },
}

/// Which of the two kinds of artifact a file is; serialized as `jar` or `obr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ArtifactKind {
    /// A plain jar: the app itself.
    Jar,
    /// An OBR: a zip with the app's main jar at its top level and dependencies in
    /// sub-folders; told by its `.obr` extension or an `obr.xml` inside.
    Obr,
}

/// What identifies an artifact, read from inside it.
#[derive(Debug, Clone, Serialize)]
pub struct AppInfo {
    /// The artifact's path, as given.
    pub path: PathBuf,
    /// The last component of `path` (lossily made UTF-8); empty if the path has none.
    pub file_name: String,
    /// The artifact's size in bytes.
    pub size: u64,
    /// Whether it is a jar or an OBR.
    pub kind: ArtifactKind,
    /// Entries in the archive (the outer one, for an OBR).
    pub entries: usize,
    /// For an OBR: the name of the main jar inside it that was read.
    pub main_jar: Option<String>,
    /// `atlassian-plugin.xml`, when present.
    pub descriptor: Option<Descriptor>,
    /// `META-INF/MANIFEST.MF` main section, when present.
    pub manifest: Option<Manifest>,
    /// Things a person should know before shipping this file.
    pub warnings: Vec<String>,
}

impl AppInfo {
    /// The plugin key as UPM sees it: the descriptor's `key`, else the manifest's
    /// `Atlassian-Plugin-Key`, else `Bundle-SymbolicName`.
    pub fn plugin_key(&self) -> Option<&str> {
        self.descriptor
            .as_ref()
            .and_then(|d| d.key.as_deref())
            .or_else(|| self.manifest.as_ref().and_then(|m| m.atlassian_plugin_key.as_deref()))
            .or_else(|| self.manifest.as_ref().and_then(|m| m.bundle_symbolic_name.as_deref()))
    }

    /// The app's display name: the descriptor's `name`, else the manifest's `Bundle-Name`.
    pub fn name(&self) -> Option<&str> {
        self.descriptor
            .as_ref()
            .and_then(|d| d.name.as_deref())
            .or_else(|| self.manifest.as_ref().and_then(|m| m.bundle_name.as_deref()))
    }

    /// The app's version: the descriptor's `<plugin-info><version>`, else `Bundle-Version`.
    pub fn version(&self) -> Option<&str> {
        self.descriptor
            .as_ref()
            .and_then(|d| d.version.as_deref())
            .or_else(|| self.manifest.as_ref().and_then(|m| m.bundle_version.as_deref()))
    }

    /// The vendor's name from the descriptor's `<plugin-info><vendor>`; manifests have none.
    pub fn vendor(&self) -> Option<&str> {
        self.descriptor.as_ref().and_then(|d| d.vendor.as_deref())
    }

    /// True when the file carries what UPM needs to treat it as an app.
    pub fn is_atlassian_app(&self) -> bool {
        self.descriptor.is_some() || self.manifest.as_ref().is_some_and(|m| m.atlassian_plugin_key.is_some())
    }
}

/// Looks inside the artifact at `path`.
pub fn inspect(path: &Path) -> Result<AppInfo, ArchiveError> {
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => ArchiveError::Missing(path.to_path_buf()),
        _ => ArchiveError::Read { path: path.to_path_buf(), source: e },
    })?;
    if meta.is_dir() {
        return Err(ArchiveError::IsFolder(path.to_path_buf()));
    }
    let file = File::open(path).map_err(|source| ArchiveError::Read { path: path.to_path_buf(), source })?;
    inspect_reader(file, path)
}

/// Looks inside an artifact already open as `reader` (a file, or bytes in memory). `path`
/// only names it: in messages, and by its extension (`.obr` or not). `inspect` comes
/// through here, and so does the fuzz target (`fuzz/fuzz_targets/archive.rs`), so what is
/// fuzzed is what reads a user's file.
pub fn inspect_reader<R: Read + Seek>(mut reader: R, path: &Path) -> Result<AppInfo, ArchiveError> {
    let read_error = |source| ArchiveError::Read { path: path.to_path_buf(), source };
    let size = reader.seek(io::SeekFrom::End(0)).map_err(read_error)?;
    if size == 0 {
        return Err(ArchiveError::Empty(path.to_path_buf()));
    }
    // A zip (even one with a stub in front) has a local file header near its start; this
    // tells a damaged zip from something that is not a zip at all.
    let mut head = [0u8; 4];
    reader.rewind().map_err(read_error)?;
    let starts_like_zip = reader.read_exact(&mut head).is_ok() && head == *b"PK\x03\x04";
    reader.rewind().map_err(read_error)?;
    let listed_entries = directory_entry_count(&mut reader, size);
    reader.rewind().map_err(read_error)?;
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let extension = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();

    if let Some(listed) = listed_entries
        && listed > MAX_ENTRIES as u64
    {
        let entries = usize::try_from(listed).unwrap_or(usize::MAX);
        return Err(ArchiveError::TooManyEntries { path: path.to_path_buf(), entries });
    }
    let mut outer = open_zip(reader, path, starts_like_zip)?;
    let mut warnings = Vec::new();
    if let Some(listed) = listed_entries
        && listed > outer.len() as u64
    {
        // The zip crate keeps one entry per name; the directory listed more.
        warnings.push(format!(
            "{file_name} lists {listed} entries but has only {} different names: some names appear more than once, and tools disagree on which copy counts (UPM may read another atlassian-plugin.xml than the one shown here). Rebuild the app.",
            outer.len()
        ));
    }
    let is_obr = extension == "obr" || outer.index_for_name("obr.xml").is_some();
    let (kind, main_jar, descriptor, manifest) = if is_obr {
        let (main_jar, descriptor, manifest) = inspect_obr(&mut outer, path, &mut warnings)?;
        (ArtifactKind::Obr, main_jar, descriptor, manifest)
    } else {
        let (descriptor, manifest) = read_identity(&mut outer, path, "")?;
        (ArtifactKind::Jar, None, descriptor, manifest)
    };
    if !matches!(extension.as_str(), "jar" | "obr") {
        warnings
            .push(format!("{file_name} does not end in .jar or .obr; UPM's upload expects one of those."));
    }
    let info = AppInfo {
        path: path.to_path_buf(),
        file_name,
        size,
        kind,
        entries: outer.len(),
        main_jar,
        descriptor,
        manifest,
        warnings,
    };
    Ok(with_identity_warnings(info))
}

/// The number of entries the end-of-central-directory record lists (its zip64 form where
/// the classic one says 0xFFFF), read from the end of the file without parsing the
/// directory; `None` where it cannot be told. The zip crate parses every directory entry up
/// front (about 250 bytes of memory each), so this count is checked before it does.
fn directory_entry_count<R: Read + Seek>(reader: &mut R, size: u64) -> Option<u64> {
    let tail_len = size.min(65_557);
    let tail_start = size - tail_len;
    reader.seek(io::SeekFrom::Start(tail_start)).ok()?;
    let mut tail = vec![0u8; tail_len as usize];
    reader.read_exact(&mut tail).ok()?;
    let at = tail.windows(4).rposition(|w| w == b"PK\x05\x06")?;
    let count = tail.get(at + 10..at + 12)?;
    let count = u16::from_le_bytes([count[0], count[1]]);
    if count != u16::MAX {
        return Some(u64::from(count));
    }
    // Zip64: a locator just before the classic record gives the zip64 record's offset, from
    // the start of the zip, which a prepended stub moves; the record (56 bytes without
    // extensions) normally sits just before the locator. Try both.
    let locator = tail.get(at.checked_sub(20)?..at)?;
    if &locator[..4] != b"PK\x06\x07" {
        return None;
    }
    let offset = u64::from_le_bytes(locator[8..16].try_into().ok()?);
    let locator_pos = tail_start + (at as u64) - 20;
    let just_before_locator = locator_pos.checked_sub(56);
    for candidate in [Some(offset), just_before_locator].into_iter().flatten() {
        let mut record = [0u8; 40];
        if reader.seek(io::SeekFrom::Start(candidate)).is_ok()
            && reader.read_exact(&mut record).is_ok()
            && &record[..4] == b"PK\x06\x06"
        {
            return Some(u64::from_le_bytes(record[32..40].try_into().ok()?));
        }
    }
    None
}

/// The longest identity field (key, name, version, vendor) kept whole. Real ones are a few
/// dozen characters; a descriptor is small but its attributes are not limited, and every
/// field read here ends up in a bundle's manifest, which readers cap at 1 MiB.
pub const MAX_IDENTITY_CHARS: usize = 1024;

/// Cuts `field` to [`MAX_IDENTITY_CHARS`], saying so in `warnings`.
fn shorten(field: &mut Option<String>, what: &str, warnings: &mut Vec<String>) {
    let Some(value) = field else { return };
    let chars = value.chars().count();
    if chars <= MAX_IDENTITY_CHARS {
        return;
    }
    let cut: String = value.chars().take(MAX_IDENTITY_CHARS).collect();
    warnings.push(format!(
        "The {what} is {chars} characters long (a damaged or hostile app?); Countersign shows and records only its first {MAX_IDENTITY_CHARS}."
    ));
    *value = cut + "…";
}

fn with_identity_warnings(mut info: AppInfo) -> AppInfo {
    if let Some(d) = info.descriptor.as_mut() {
        for (field, what) in [
            (&mut d.key, "plugin key in atlassian-plugin.xml"),
            (&mut d.name, "app name in atlassian-plugin.xml"),
            (&mut d.version, "version in atlassian-plugin.xml"),
            (&mut d.vendor, "vendor name in atlassian-plugin.xml"),
            (&mut d.vendor_url, "vendor URL in atlassian-plugin.xml"),
            (&mut d.plugins_version, "plugins-version in atlassian-plugin.xml"),
        ] {
            shorten(field, what, &mut info.warnings);
        }
    }
    if let Some(m) = info.manifest.as_mut() {
        for (field, what) in [
            (&mut m.bundle_symbolic_name, "Bundle-SymbolicName in MANIFEST.MF"),
            (&mut m.bundle_version, "Bundle-Version in MANIFEST.MF"),
            (&mut m.bundle_name, "Bundle-Name in MANIFEST.MF"),
            (&mut m.atlassian_plugin_key, "Atlassian-Plugin-Key in MANIFEST.MF"),
        ] {
            shorten(field, what, &mut info.warnings);
        }
    }
    if !info.is_atlassian_app() {
        info.warnings.push(format!(
            "{} has no atlassian-plugin.xml and no Atlassian-Plugin-Key in its manifest: it is not an Atlassian app, and UPM will not install it. It can still be signed.",
            info.file_name
        ));
    } else if info.plugin_key().is_none() {
        info.warnings.push("The app has no plugin key in its descriptor or manifest.".into());
    }
    if let Some(key) = info.descriptor.as_ref().and_then(|d| d.key.as_deref())
        && key.contains("${")
    {
        info.warnings.push(format!(
            "The plugin key \"{key}\" is an unresolved build property: this looks like a source file, not a built app."
        ));
    }
    info
}

fn open_zip<R: Read + Seek>(
    reader: R,
    path: &Path,
    starts_like_zip: bool,
) -> Result<zip::ZipArchive<R>, ArchiveError> {
    let archive = zip::ZipArchive::new(reader).map_err(|e| zip_error(path, e, starts_like_zip))?;
    if archive.len() > MAX_ENTRIES {
        return Err(ArchiveError::TooManyEntries { path: path.to_path_buf(), entries: archive.len() });
    }
    Ok(archive)
}

fn zip_error(path: &Path, e: zip::result::ZipError, starts_like_zip: bool) -> ArchiveError {
    use zip::result::ZipError;
    match e {
        ZipError::Io(source) => ArchiveError::Read { path: path.to_path_buf(), source },
        ZipError::InvalidArchive(detail)
            if detail.contains("central directory") || detail.contains("Could not find") =>
        {
            // No end-of-central-directory record at all: not a zip, or cut off at the end.
            if starts_like_zip {
                ArchiveError::Damaged { path: path.to_path_buf(), detail: "its end is missing".into() }
            } else {
                ArchiveError::NotAZip(path.to_path_buf())
            }
        }
        other => {
            if starts_like_zip {
                ArchiveError::Damaged { path: path.to_path_buf(), detail: other.to_string() }
            } else {
                ArchiveError::NotAZip(path.to_path_buf())
            }
        }
    }
}

/// Reads an entry whole, refusing more than `limit` bytes whatever the header claims.
fn read_entry<R: Read + Seek>(
    archive: &mut zip::ZipArchive<R>,
    index: usize,
    limit: u64,
    path: &Path,
    label: &str,
) -> Result<Vec<u8>, ArchiveError> {
    let mut entry = archive.by_index(index).map_err(|e| ArchiveError::Entry {
        path: path.to_path_buf(),
        entry: label.to_owned(),
        detail: e.to_string(),
    })?;
    let mut out = Vec::new();
    entry.by_ref().take(limit + 1).read_to_end(&mut out).map_err(|e| ArchiveError::Entry {
        path: path.to_path_buf(),
        entry: label.to_owned(),
        detail: e.to_string(),
    })?;
    if out.len() as u64 > limit {
        return Err(ArchiveError::TooLarge { path: path.to_path_buf(), entry: label.to_owned(), limit });
    }
    Ok(out)
}

/// Reads the descriptor and manifest of a jar; `prefix` names where the jar sits (for an
/// OBR's inner jar) in messages.
fn read_identity<R: Read + Seek>(
    archive: &mut zip::ZipArchive<R>,
    path: &Path,
    prefix: &str,
) -> Result<(Option<Descriptor>, Option<Manifest>), ArchiveError> {
    let descriptor = match archive.index_for_name(DESCRIPTOR_PATH) {
        Some(i) => {
            let label = format!("{prefix}{DESCRIPTOR_PATH}");
            let bytes = read_entry(archive, i, MAX_DESCRIPTOR_BYTES, path, &label)?;
            Some(Descriptor::parse(&bytes).map_err(|detail| ArchiveError::Entry {
                path: path.to_path_buf(),
                entry: label,
                detail,
            })?)
        }
        None => None,
    };
    let manifest = match archive.index_for_name(MANIFEST_PATH) {
        Some(i) => {
            let label = format!("{prefix}{MANIFEST_PATH}");
            let bytes = read_entry(archive, i, MAX_MANIFEST_BYTES, path, &label)?;
            Some(Manifest::parse(&bytes))
        }
        None => None,
    };
    Ok((descriptor, manifest))
}

type ObrIdentity = (Option<String>, Option<Descriptor>, Option<Manifest>);

/// An OBR holds the app's main jar at its top level (dependencies sit in sub-folders);
/// its identity is that jar's.
fn inspect_obr<R: Read + Seek>(
    outer: &mut zip::ZipArchive<R>,
    path: &Path,
    warnings: &mut Vec<String>,
) -> Result<ObrIdentity, ArchiveError> {
    let top_level_jars: Vec<(usize, String)> = (0..outer.len())
        .filter_map(|i| outer.name_for_index(i).and_then(Result::ok).map(|n| (i, n.into_owned())))
        .filter(|(_, n)| n.to_ascii_lowercase().ends_with(".jar") && !n.trim_start_matches('/').contains('/'))
        .collect();
    if top_level_jars.is_empty() {
        warnings
            .push("This OBR has no jar at its top level, so the app inside could not be identified.".into());
        return Ok((None, None, None));
    }
    let mut first_found: Option<ObrIdentity> = None;
    for (index, name) in &top_level_jars {
        let mut temp =
            tempfile::tempfile().map_err(|source| ArchiveError::Read { path: path.to_path_buf(), source })?;
        {
            let mut entry = outer.by_index(*index).map_err(|e| ArchiveError::Entry {
                path: path.to_path_buf(),
                entry: name.clone(),
                detail: e.to_string(),
            })?;
            let copied =
                io::copy(&mut entry.by_ref().take(MAX_INNER_JAR_BYTES + 1), &mut temp).map_err(|e| {
                    ArchiveError::Entry {
                        path: path.to_path_buf(),
                        entry: name.clone(),
                        detail: e.to_string(),
                    }
                })?;
            if copied > MAX_INNER_JAR_BYTES {
                return Err(ArchiveError::TooLarge {
                    path: path.to_path_buf(),
                    entry: name.clone(),
                    limit: MAX_INNER_JAR_BYTES,
                });
            }
        }
        temp.rewind().map_err(|source| ArchiveError::Read { path: path.to_path_buf(), source })?;
        let mut inner = match zip::ZipArchive::new(temp) {
            Ok(a) if a.len() <= MAX_ENTRIES => a,
            Ok(a) => {
                return Err(ArchiveError::TooManyEntries { path: path.to_path_buf(), entries: a.len() });
            }
            Err(e) => {
                warnings.push(format!("{name} inside the OBR is not a readable jar ({e})."));
                continue;
            }
        };
        let (descriptor, manifest) = read_identity(&mut inner, path, &format!("{name}!/"))?;
        let found = (Some(name.clone()), descriptor, manifest);
        if found.1.is_some() {
            return Ok(found);
        }
        first_found.get_or_insert(found);
    }
    Ok(first_found.unwrap_or((None, None, None)))
}
