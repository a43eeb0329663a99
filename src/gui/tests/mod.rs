//! The window's tests, one per user flow, driven headlessly with egui_kittest against the real
//! core and an in-memory keychain (`MemoryKeychain`), so that they need no daemon. The tests
//! about the keychain itself (`race`, `secrets_scan`) use the real one. They live with the binary because the window does: the library
//! holds no interface code. Helpers shared with the integration tests come from
//! `tests/common/` (`crate::common`).
// Tests assert by panicking, and build hostile archives byte by byte with deliberate casts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::cast_possible_truncation)]

mod first_use;
mod flows;
mod harness;
mod keys_view;
mod race;
mod rotation;
mod secrets_scan;
