//! A failure as the command line reports it: one sentence (the core's, with the command
//! line's hint) and an exit status.

use countersign::atomic::WriteError;
use countersign::batch::BatchError;
use countersign::bundle::BundleError;
use countersign::history::HistoryError;
use countersign::keys::KeyError;
use countersign::keystore::KeyStoreError;
use countersign::signer::SignerError;
use countersign::truststore::{PackageError, TrustStoreError};

use super::hints::{self, Hint};

/// A failure as the command line reports it: one sentence and an exit status.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub code: u8,
}

impl Failure {
    pub(crate) fn bad_input(message: impl ToString) -> Self {
        Failure { message: message.to_string(), code: 2 }
    }
}

impl Failure {
    /// A core error with the command line's hint for it: exit status 1 when a check refused
    /// (`rejected`), else 2.
    fn explained(e: &(impl std::fmt::Display + Hint), rejected: bool) -> Self {
        Failure { message: hints::explain(e), code: if rejected { 1 } else { 2 } }
    }
}

impl From<BundleError> for Failure {
    fn from(e: BundleError) -> Self {
        Failure::explained(&e, e.is_rejection())
    }
}

/// Core errors that are never a check's refusal: exit status 2, with the hint.
macro_rules! bad_input_errors {
    ($($error:ty),* $(,)?) => {
        $(impl From<$error> for Failure {
            fn from(e: $error) -> Self {
                Failure::explained(&e, false)
            }
        })*
    };
}

bad_input_errors!(
    KeyError,
    KeyStoreError,
    SignerError,
    TrustStoreError,
    WriteError,
    PackageError,
    HistoryError
);

impl From<BatchError> for Failure {
    fn from(e: BatchError) -> Self {
        Failure::explained(&e, e.is_rejection())
    }
}
