//! What background jobs send back: typed results, one variant per kind, applied on the UI
//! thread by `App::apply` and handed to the view that owns them. Errors stay typed until a
//! view shows them.

use countersign::archive::ArchiveError;
use countersign::atomic::WriteError;
use countersign::bundle::BundleError;
use countersign::certs::CertError;
use countersign::history::HistoryError;
use countersign::keys::KeyError;
use countersign::keystore::KeyStoreError;
use countersign::signing::SignError;
use countersign::truststore::{PackageError, TrustStoreError};

use super::{
    KeyRow, certificates, first_run, history_view, keys, replace_view, sign, truststore_view, verify,
};

/// One result of background work.
#[derive(Debug)]
pub enum Message {
    /// The key list, read with the keychain's word on each key. `generation` tells a slow
    /// load from a newer one.
    KeysLoaded {
        generation: u64,
        result: Result<Vec<KeyRow>, Failure>,
    },
    /// A folder was shown in the file manager, or why not (in the desktop's words).
    FolderOpened(Result<(), String>),
    /// A job panicked while doing `what`.
    JobPanicked {
        what: &'static str,
    },
    /// No thread could be started for `what`.
    JobNotStarted {
        what: &'static str,
        error: std::io::Error,
    },
    FirstRun(first_run::Message),
    Keys(keys::Message),
    Certificates(certificates::Message),
    Sign(sign::Message),
    Verify(verify::Message),
    History(history_view::Message),
    TrustStore(truststore_view::Message),
    Replace(replace_view::Message),
}

/// Why something the window asked of the core failed: the core's own error, shown in its
/// own words.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// There is no key store (no data folder, no keychain), in the words of whoever opened
    /// the window.
    #[error("{0}")]
    NoKeyStore(String),
    #[error(transparent)]
    KeyStore(#[from] KeyStoreError),
    #[error(transparent)]
    Signer(#[from] countersign::signer::SignerError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Certificate(#[from] CertError),
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error(transparent)]
    Bundle(#[from] BundleError),
    #[error(transparent)]
    History(#[from] HistoryError),
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error(transparent)]
    Sign(#[from] SignError),
    #[error(transparent)]
    TrustStore(#[from] TrustStoreError),
    #[error(transparent)]
    Package(#[from] PackageError),
    #[error(transparent)]
    Rotation(#[from] countersign::rotation::RotationError),
    /// One file of a batch failed: the batch only lends its error while it reports the
    /// result, so its sentence is what is kept.
    #[error("{0}")]
    BatchItem(String),
    /// No file dialog could be shown; the path is to be typed.
    #[error(transparent)]
    NoDialog(#[from] super::desktop::NoDialog),
    #[error("Verification was cancelled.")]
    VerificationCancelled,
}

macro_rules! view_messages {
    ($($view:ident => $variant:ident),* $(,)?) => {
        $(impl From<$view::Message> for Message {
            fn from(message: $view::Message) -> Self {
                Message::$variant(message)
            }
        })*
    };
}

view_messages!(
    first_run => FirstRun,
    keys => Keys,
    certificates => Certificates,
    sign => Sign,
    verify => Verify,
    history_view => History,
    truststore_view => TrustStore,
    replace_view => Replace,
);
