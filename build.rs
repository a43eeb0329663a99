//! Embeds build facts the program reports about itself (the `--version` line and bundle
//! manifests name the exact build that signed an artifact).
use std::process::Command;

fn main() {
    let commit = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .unwrap_or_default();
    println!("cargo:rustc-env=COUNTERSIGN_GIT_COMMIT={commit}");
    let target = std::env::var("TARGET").unwrap_or_default();
    println!("cargo:rustc-env=COUNTERSIGN_TARGET={target}");
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=build.rs");
    windows_resources();
}

/// On Windows, Explorer, the taskbar and the installer show the icon and the version
/// information embedded in the .exe; the window's own icon is set at run time on every
/// system. Needs the Windows SDK's resource compiler (rc.exe), which every MSVC toolchain has.
fn windows_resources() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("windows") {
        return;
    }
    println!("cargo:rerun-if-changed=resources/countersign.ico");
    let mut res = winresource::WindowsResource::new();
    res.set_icon("resources/countersign.ico")
        .set("ProductName", "Countersign")
        .set("FileDescription", "Countersign: sign Atlassian Data Center apps for UPM")
        .set("CompanyName", "Countersign")
        .set("LegalCopyright", "MIT OR Apache-2.0")
        .set("OriginalFilename", "countersign.exe");
    if let Err(e) = res.compile() {
        // A release without its icon and version would look like an unknown program.
        eprintln!(
            "The Windows icon and version information could not be embedded: {e}. Install the Windows SDK (it brings rc.exe)."
        );
        #[allow(clippy::exit)] // a build script fails by its exit status, after saying why
        std::process::exit(1);
    }
}
