//! Countersign's core: keys, signing, archive inspection, certificates, bundles and the
//! trust store. Nothing here knows about a window or a terminal; the GUI and the command
//! line are two faces over these calls, and live with the binary (`src/main.rs`).
#![forbid(unsafe_code)]

pub mod archive;
pub mod atomic;
pub mod batch;
pub mod bundle;
pub mod certs;
pub mod hex;
pub mod history;
pub mod keys;
pub mod keystore;
pub mod overview;
pub mod pem;
pub mod progress;
pub mod resign;
pub mod rotation;
pub mod signer;
pub mod signing;
pub mod truststore;

/// The version printed by `--version` and written into every manifest.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// `--version` text: the version, and the commit and target it was built from.
pub const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("COUNTERSIGN_GIT_COMMIT"),
    " ",
    env!("COUNTERSIGN_TARGET"),
    ")"
);
