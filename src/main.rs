//! The `countersign` binary: the two faces over the library's core, the command line (`cli`)
//! and the window (`gui`). With no arguments the command line opens the window.

// Windows release builds are GUI programs, so that opening the window from the Start menu or
// Explorer shows no console beside it. The command line then attaches to the console it was
// started from (below); pipes and redirections are inherited either way.
#![cfg_attr(all(windows, feature = "gui", not(debug_assertions)), windows_subsystem = "windows")]

// Test helpers shared with the integration tests in tests/ (the window's tests use them).
#[cfg(all(test, feature = "gui"))]
#[path = "../tests/common/mod.rs"]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::cast_possible_truncation)]
#[macro_use]
mod common;

mod cli;
#[cfg(feature = "gui")]
mod gui;

fn main() -> std::process::ExitCode {
    #[cfg(all(windows, feature = "gui", not(debug_assertions)))]
    if std::env::args_os().nth(1).is_some() {
        attach_to_parent_console();
    }
    cli::run(std::env::args_os())
}

/// A GUI program has no console of its own: write to the one of whoever started it (cmd,
/// PowerShell), where there is one. Without it, a command line run from a terminal would
/// print nothing.
#[cfg(all(windows, feature = "gui", not(debug_assertions)))]
fn attach_to_parent_console() {
    use windows_sys::Win32::System::Console::{ATTACH_PARENT_PROCESS, AttachConsole};
    // SAFETY: a plain Win32 call without pointers; it fails harmlessly when the parent has no
    // console (started from Explorer) or this process already has one.
    #[allow(unsafe_code)]
    unsafe {
        AttachConsole(ATTACH_PARENT_PROCESS);
    }
}
