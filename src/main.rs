//! The `countersign` binary: everything happens in the library.
fn main() -> std::process::ExitCode {
    countersign::cli::run(std::env::args_os())
}
