//! The Windows build's real window, under Wine on this Linux machine: a key is made in Wine's
//! Credential Manager by the Windows command line, the window opens on a private Xvfb (with
//! openbox, which gives it the keyboard), a jar is typed into the Sign view's path field as a
//! Windows path (drive letter, backslashes) and signed with Ctrl+Enter; the bundle it wrote is
//! then verified by the Linux binary and by openssl, and its text files must have Unix line
//! endings as on every system. The renderer Wine gave the window is printed, and the window is
//! photographed into `target/screenshots/wine-sign.png`.
//!
//! Needs the Windows build and a Wine prefix: `.ci/run` makes both and names them in
//! `COUNTERSIGN_WINDOWS_EXE` and `COUNTERSIGN_WINEPREFIX` (without them the test skips, and
//! fails under CI).
#![cfg(target_os = "linux")]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use base64ct::{Base64, Encoding};

use crate::common::*;
use crate::window_x11::{App, StderrLines, Xvfb, convert_format, have_x11_tools, screenshot_path};

const EXE_ENV: &str = "COUNTERSIGN_WINDOWS_EXE";
const PREFIX_ENV: &str = "COUNTERSIGN_WINEPREFIX";

/// The Windows executable and the Wine prefix to run it in, or why not (skipped, or a
/// failure under CI).
fn windows_build() -> Option<(PathBuf, PathBuf)> {
    let given = std::env::var_os(EXE_ENV).zip(std::env::var_os(PREFIX_ENV));
    let Some((exe, prefix)) = given.map(|(e, p)| (PathBuf::from(e), PathBuf::from(p))) else {
        let msg = format!(
            "{EXE_ENV} and {PREFIX_ENV} are not set: this test runs the Windows build under Wine, which .ci/run makes"
        );
        assert!(std::env::var_os("CI").is_none(), "{msg}");
        skipped(&msg);
        return None;
    };
    assert!(exe.is_file(), "{EXE_ENV}: {} is not a file", exe.display());
    assert!(prefix.is_dir(), "{PREFIX_ENV}: {} is not a Wine prefix", prefix.display());
    Some((exe, prefix))
}

/// `path` as the Windows program sees it: Wine maps `/` to drive `Z:`.
fn windows_path(path: &Path) -> String {
    format!("Z:{}", path.display().to_string().replace('/', "\\"))
}

/// The Windows build run by Wine in `prefix`, with this test's data folder and keychain service.
fn wine(exe: &Path, prefix: &Path, home: &Path, service: &str) -> Command {
    let mut c = Command::new("wine");
    c.arg(exe)
        .env("WINEPREFIX", prefix)
        .env("WINEDEBUG", "-all")
        .env("COUNTERSIGN_HOME", windows_path(home))
        .env("COUNTERSIGN_KEYCHAIN_SERVICE", service)
        .env_remove("COUNTERSIGN_TEST_UNDER_WINE");
    c
}

#[test]
fn the_windows_window_signs_a_typed_path_under_wine() {
    let Some((exe, prefix)) = windows_build() else { return };
    if !(have_tool("wine", "--version")
        && have_tool("openbox", "--version")
        && have_x11_tools()
        && openssl_available())
    {
        return;
    }
    let dir = tempdir();
    let d = dir.path();
    let home = d.join("home");
    let service = fresh_service_name();
    let windows = |args: &[&str]| {
        let out = wine(&exe, &prefix, &home, &service).args(args).current_dir(d).output().unwrap();
        let (code, stdout, stderr) = decode(out);
        assert_eq!(code, 0, "wine countersign.exe {args:?}: {stdout}{stderr}");
        stdout
    };

    // A key in Wine's Credential Manager and its certificate, by the Windows command line.
    windows(&["keys", "generate", "--name", "acme"]);
    windows(&["cert", "self-sign", "acme", "--cn", "Acme Support", "--org", "Acme Software Ltd"]);
    let jar = d.join("widget-2.1.jar");
    make_app_jar(&jar, "com.acme.widget", "2.1.0", 200_000);

    let x = Xvfb::start();
    let mut openbox = x
        .command("openbox")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut cmd = wine(&exe, &prefix, &home, &service);
    cmd.current_dir(d);
    let (mut app, stderr) = App::launch(cmd, &x);
    let idle = stderr.wait_for("idle after", Duration::from_secs(120));
    assert!(idle.is_some(), "the window under Wine never settled; stderr:\n{}", stderr.all());
    let report = stderr.all();
    let renderer = report.lines().find_map(|l| l.strip_prefix("countersign: drawing with ")).unwrap_or("?");
    println!("under Wine the window draws with {renderer}");
    for line in report.lines().filter(|l| l.contains("could not draw the window")) {
        println!("  before that: {line}");
    }

    // The visible one: when wgpu could not draw, its window was made and then dropped for
    // OpenGL's, which can still be listed for a moment.
    let window = visible_window(&x, "^Countersign$")
        .unwrap_or_else(|| panic!("no visible window; stderr:\n{}", stderr.all()));
    type_the_path_and_sign(&x, &window, &jar);
    let bundle = d.join("widget-2.1-bundle");
    photograph_once_signed(&x, &window, &bundle, &stderr);
    x.close_window(&window).unwrap();
    let status = app.wait_timeout(Duration::from_secs(60));
    let err = stderr.finish();
    assert!(status.is_some_and(|s| s.success()), "{status:?}; stderr:\n{err}");
    assert!(!err.contains("panicked"), "{err}");
    let _ = openbox.kill();
    let _ = openbox.wait();
    the_linux_build_and_openssl_verify_it(d, &bundle);
}

/// Into the path field, which comes just before its Add button in the Tab order (two Tabs
/// reach Add, one back is the field), the jar's Windows path; then, once the file card
/// appears, Ctrl+Enter signs.
fn type_the_path_and_sign(x: &Xvfb, window: &str, jar: &Path) {
    x.run_ok("xdotool", &["windowactivate", "--sync", window]);
    x.run_ok("xdotool", &["key", "--window", window, "--delay", "150", "Tab", "Tab", "shift+Tab"]);
    x.run_ok("xdotool", &["type", "--window", window, "--delay", "20", &windows_path(jar)]);
    x.run_ok("xdotool", &["key", "--window", window, "--delay", "150", "Return"]);
    // The file card appears once the app is looked into; then Ctrl+Enter signs.
    thread::sleep(Duration::from_secs(2));
    x.run_ok("xdotool", &["key", "--window", window, "ctrl+Return"]);
}

/// Waits up to 120 s for the bundle's manifest, then photographs the window (which says it
/// is signed) into `target/screenshots/wine-sign.png`.
fn photograph_once_signed(x: &Xvfb, window: &str, bundle: &Path, stderr: &StderrLines) {
    let manifest = bundle.join("manifest.json");
    let start = Instant::now();
    let shot = screenshot_path().with_file_name("screenshots").join("wine-sign.png");
    std::fs::create_dir_all(shot.parent().unwrap()).unwrap();
    while !manifest.exists() {
        if start.elapsed() > Duration::from_secs(120) {
            x.screenshot_window(window, &shot);
            panic!(
                "no bundle at {} within 120 s (the window: {}); stderr:\n{}",
                bundle.display(),
                shot.display(),
                stderr.all()
            );
        }
        thread::sleep(Duration::from_millis(200));
    }
    // The card says it is signed: a moment for the frame, then its picture.
    thread::sleep(Duration::from_secs(2));
    x.screenshot_window(window, &shot);
    let colours: u64 = convert_format(&shot, "%k").parse().unwrap();
    assert!(colours > 16, "{}: only {colours} colours", shot.display());
    println!("screenshot: {} ({colours} colours)", shot.display());
}

/// What the Windows build wrote, checked by the Linux build and by openssl; its text files
/// have Unix line endings.
fn the_linux_build_and_openssl_verify_it(d: &Path, bundle: &Path) {
    let (code, out, err) = run(&["verify", &bundle.display().to_string()], d);
    assert_eq!(code, 0, "the Linux build verifies the Windows build's bundle: {out}{err}");
    let sig = Base64::decode_vec(std::fs::read_to_string(bundle.join("widget-2.1.jar.sig")).unwrap().trim())
        .unwrap();
    std::fs::write(d.join("sig.bin"), sig).unwrap();
    let crt = std::fs::read_dir(bundle)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "crt"))
        .expect("a certificate in the bundle");
    let public = openssl(&["x509", "-in", &crt.display().to_string(), "-pubkey", "-noout"], d);
    std::fs::write(d.join("pub.pem"), public).unwrap();
    assert!(
        openssl_verifies(d, "pub.pem", &bundle.join("widget-2.1.jar").display().to_string(), "sig.bin"),
        "openssl verifies the Windows build's signature"
    );
    for text in ["INSTALL.md", "manifest.json"] {
        let bytes = std::fs::read(bundle.join(text)).unwrap();
        assert!(!bytes.contains(&b'\r'), "{text} from the Windows build has CR line endings");
    }
    println!("the Windows build's bundle: {:?}", listing(bundle));
}

/// The last visible window whose name matches, waiting up to 60 s.
fn visible_window(x: &Xvfb, name: &str) -> Option<String> {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(60) {
        let out = x.command("xdotool").args(["search", "--onlyvisible", "--name", name]).output().ok()?;
        if let Some(w) = String::from_utf8_lossy(&out.stdout).lines().last() {
            return Some(w.trim().to_owned());
        }
        thread::sleep(Duration::from_millis(200));
    }
    None
}
