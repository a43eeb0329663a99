//! What background jobs send back: typed results, one variant per kind, applied on the UI
//! thread by `App::apply` and handed to the view that owns them. Errors stay typed until a
//! view shows them.

use super::failure::Failure;
use super::{KeyRow, certificates, first_run, history, keys, replace, sign, trust_store, verify};

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
    History(history::Message),
    TrustStore(trust_store::Message),
    Replace(replace::Message),
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
    history => History,
    trust_store => TrustStore,
    replace => Replace,
);
