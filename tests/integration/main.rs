//! Countersign's integration tests, one binary: the real `countersign` binary and the
//! library's core, checked by independent verifiers (openssl, the JDK) and against the real
//! keychain. One module per area. A test that needs an outside tool asks
//! `common::have_tool`: without it the test skips with a printed reason on a laptop, and fails
//! when `CI` is set.
//!
//! The window's own flows are unit tests of the binary (`src/gui/tests/`), since the library
//! holds no interface code. `keychain_restart` kills the session's keyring daemon: it takes the
//! keychain alone (`Keychain::alone`), so no other test sees the daemon die.
// Tests assert by panicking, and build hostile archives byte by byte with deliberate casts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::cast_possible_truncation)]

#[path = "../common/mod.rs"]
#[macro_use]
mod common;

mod archive_limits;
mod certificates;
mod cli_bad_input;
mod cli_sign;
mod crash_kill;
mod file_modes;
mod fuzz_regressions;
mod history;
mod hostile_archives;
mod interop_jdk;
mod interop_openssl;
mod keychain;
mod keychain_restart;
mod rotation;
mod truststore_presence;
mod truststore_swap;
mod verify_companions;
#[cfg(feature = "gui")]
mod window_wine;
#[cfg(feature = "gui")]
mod window_x11;
