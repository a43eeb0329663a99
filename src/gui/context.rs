//! What a view gets to work with while it draws or applies a finished job: the key list to
//! read, the way to start jobs and the queue of actions for the window as a whole. It holds
//! no other view, so a view cannot reach into another's state.

use countersign::keystore::KeyStore;

use super::actions::Actions;
use super::failure::Failure;
use super::worker::Jobs;
use super::{Config, Dialogs, KeyRow};

pub struct ViewContext<'a> {
    /// The stored keys as last loaded (empty while loading).
    pub keys: &'a [KeyRow],
    /// The keys could not be read (no keychain): the window says so once, above the view.
    pub keys_failed: bool,
    /// The keys are being read for the first time (nothing loaded yet): "no keys" would be
    /// premature.
    pub keys_loading: bool,
    /// The key chosen in the Keys and Certificates views; changed with `Action::SelectKey`.
    pub selected_key: Option<&'a str>,
    pub config: &'a Config,
    pub jobs: Jobs<'a>,
    pub actions: &'a mut Actions,
}

impl ViewContext<'_> {
    /// The key store for a job to take along, or why there is none.
    pub fn store(&self) -> Result<KeyStore, Failure> {
        self.config.store.clone().map_err(Failure::NoKeyStore)
    }

    /// The dialogs for a job to take along (dialogs run on the job's thread).
    pub fn dialogs(&self) -> Dialogs {
        self.config.dialogs.clone()
    }

    /// Why `name` cannot be given to a new key: a key of that name is listed. `None` when it is
    /// free (the core still checks, ignoring case, when the key is made).
    pub fn name_taken(&self, name: &str) -> Option<String> {
        self.key(name).map(|_| format!("A key named \"{name}\" exists already."))
    }

    /// The stored key named `name`, as last loaded.
    pub fn key(&self, name: &str) -> Option<&KeyRow> {
        self.keys.iter().find(|r| r.record.name == name)
    }
}
