//! The real window on a real X server: the built binary opens on its own Xvfb, draws, stays
//! up, sits idle without repainting, and closes when the window system asks it to, running
//! its exit hook. Prints the figures a person would want (time to the first frame, idle CPU,
//! frames drawn) and leaves a screenshot in `target/window-screenshot.png`.
//!
//! Timings and CPU are printed, never asserted (tests do not assert on timings); the number of
//! frames drawn over the idle period is a count and is asserted.
// Linux only: it needs an X server (Xvfb).
#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::common::*;

const FIRST_FRAME_TIMEOUT: Duration = Duration::from_secs(90);
const IDLE: Duration = Duration::from_secs(10);
/// A window that repaints only on input draws a handful of frames while nothing happens; one
/// that repaints continuously draws hundreds in the idle period alone.
const MAX_FRAMES: u64 = 100;

#[test]
fn window_opens_idles_and_closes_on_x11() {
    if !have_x11_tools() {
        return;
    }

    let x = Xvfb::start();
    let home = tempdir();
    let mut cmd = bin();
    cmd.env_remove("WAYLAND_DISPLAY")
        .env("COUNTERSIGN_HOME", home.path())
        .env("COUNTERSIGN_KEYCHAIN_SERVICE", fresh_service_name())
        .current_dir(home.path());
    let spawned = Instant::now();
    let (mut app, stderr) = App::launch(cmd, &x);

    // Launch to first frame, from spawn to the line the app prints after drawing it.
    let first = stderr.wait_for("first frame drawn", FIRST_FRAME_TIMEOUT);
    let first_frame_ms = spawned.elapsed().as_millis();
    assert!(
        first.is_some(),
        "no first frame within {FIRST_FRAME_TIMEOUT:?}; exit: {:?}; stderr:\n{}",
        app.child.try_wait(),
        stderr.all()
    );
    let first = first.unwrap();
    println!("first frame: {first_frame_ms} ms from spawn (the app says: {})", first.trim());

    let window = x
        .find_window("Countersign")
        .unwrap_or_else(|| panic!("no window named Countersign; stderr:\n{}", stderr.all()));
    let geometry = x.run_ok("xdotool", &["getwindowgeometry", &window]);
    println!("window {window}: {}", geometry.split_whitespace().collect::<Vec<_>>().join(" "));

    thread::sleep(Duration::from_secs(2));
    assert!(
        app.child.try_wait().unwrap().is_none(),
        "the app exited 2 s after its first frame; stderr:\n{}",
        stderr.all()
    );
    the_screenshot_shows_a_window(&x);
    idles_without_exiting(&x, &mut app, &stderr);
    closes_on_request_having_drawn_few_frames(&x, &window, app, stderr);
}

/// Screenshot, checked against the bare desktop taken before the app started.
fn the_screenshot_shows_a_window(x: &Xvfb) {
    let shot = screenshot_path();
    x.screenshot(&shot);
    let colours: u64 = convert_format(&shot, "%k").parse().unwrap();
    let deviation: f64 = convert_format(&shot, "%[fx:standard_deviation]").parse().unwrap();
    let screen_pixels = x.width * x.height;
    let changed = differing_pixels(&x.background, &shot);
    println!(
        "screenshot: {} ({colours} colours, standard deviation {deviation:.3}, {changed} of {screen_pixels} pixels differ from the bare desktop)",
        shot.display()
    );
    assert!(
        colours > 16,
        "the screenshot has only {colours} colours: the window drew nothing ({})",
        shot.display()
    );
    assert!(deviation > 0.0, "the screenshot is one flat colour ({})", shot.display());
    // The window is 980 x 700; a quarter of that is far more than any cursor or stray pixel.
    assert!(
        changed > 980 * 700 / 4,
        "only {changed} pixels differ from the bare desktop: no window covers it ({})",
        shot.display()
    );
}

/// Idle: no input for IDLE; CPU from /proc, in clock ticks, printed; the app still runs.
fn idles_without_exiting(x: &Xvfb, app: &mut App, stderr: &StderrLines) {
    let pid = app.child.id();
    let before = cpu_ticks(pid);
    let xvfb_before = cpu_ticks(x.child.id());
    thread::sleep(IDLE);
    let idle_ticks = cpu_ticks(pid) - before;
    let xvfb_ticks = cpu_ticks(x.child.id()) - xvfb_before;
    // SAFETY: sysconf takes a constant and touches no memory of ours.
    #[allow(unsafe_code)]
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let percent = |ticks: u64| ticks as f64 / (IDLE.as_secs_f64() * hz) * 100.0;
    println!("idle CPU over {} s: {idle_ticks} ticks ({:.1} %)", IDLE.as_secs(), percent(idle_ticks));
    println!("  (Xvfb over the same {} s: {xvfb_ticks} ticks, {:.1} %)", IDLE.as_secs(), percent(xvfb_ticks));
    assert!(app.child.try_wait().unwrap().is_none(), "the app exited while idle; stderr:\n{}", stderr.all());
}

/// Close it as a window manager would: WM_DELETE_WINDOW, so eframe shuts down and runs
/// on_exit; it exits cleanly, having drawn fewer than MAX_FRAMES frames.
fn closes_on_request_having_drawn_few_frames(x: &Xvfb, window: &str, mut app: App, stderr: StderrLines) {
    let pid = app.child.id();
    let how = match x.close_window(window) {
        Ok(()) => "WM_DELETE_WINDOW",
        Err(e) => {
            println!(
                "WM_DELETE_WINDOW could not be sent ({e}); falling back to SIGTERM, which skips on_exit"
            );
            // SAFETY: kill takes plain integers; the pid is our own child, not yet reaped.
            #[allow(unsafe_code)]
            unsafe {
                libc::kill(pid as libc::pid_t, libc::SIGTERM)
            };
            "SIGTERM"
        }
    };
    let status = app.wait_timeout(Duration::from_secs(30));
    let err = stderr.finish();
    let status =
        status.unwrap_or_else(|| panic!("the app did not exit within 30 s of {how}; stderr:\n{err}"));
    println!("closed with {how}: {status}");
    assert!(status.success(), "the app exited with {status} after {how}; stderr:\n{err}");
    let frames: u64 = err
        .lines()
        .find_map(|l| l.strip_prefix("countersign: ")?.strip_suffix(" frames drawn")?.parse().ok())
        .unwrap_or_else(|| panic!("no `N frames drawn` line on exit (on_exit did not run?); stderr:\n{err}"));
    println!("frames drawn in all: {frames}");
    let unexpected: Vec<&str> = err.lines().filter(|l| !l.starts_with("countersign: ")).collect();
    if !unexpected.is_empty() {
        println!("other stderr lines:\n{}", unexpected.join("\n"));
    }
    assert!(!err.contains("panicked"), "the app panicked; stderr:\n{err}");
    assert!(
        frames < MAX_FRAMES,
        "{frames} frames drawn over a run of about {} s without input: the window repaints while idle",
        IDLE.as_secs() + 2
    );
}

/// Every view, in the light and the dark theme, photographed from the real window: the
/// pictures a reviewer looks at, in `target/screenshots/<view>-<theme>.png`. The window opens
/// on a store with a key, a certificate and one signing, so no view is empty.
#[test]
fn every_view_is_photographed_in_light_and_dark() {
    if !have_x11_tools() {
        return;
    }
    let Some(f) = Fixture::stored("acme") else { return };
    let f = f.self_signed(&["--cn", "Acme Support", "--org", "Acme Software Ltd"]).jar(
        "big-widget-2.1.jar",
        "com.acme.widget",
        "2.1.0",
        20_000,
    );
    let jar = f.path().join("big-widget-2.1.jar");
    SignCmd::new(&f).jar(&jar).args(&["--note", "ACME-42 for Globex"]).ok();
    let k = f.keychain();

    let x = Xvfb::start();
    let dir = screenshot_path().with_file_name("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let mut taken = Vec::new();
    for view in ["sign", "keys", "certificates", "verify", "history", "trust-store", "replace-a-key"] {
        for theme in ["light", "dark"] {
            let mut cmd = k.cmd(&k.home(), &k.service, &[]);
            cmd.env_remove("WAYLAND_DISPLAY")
                .env("COUNTERSIGN_VIEW", view)
                .env("COUNTERSIGN_THEME", theme)
                .current_dir(k.path());
            let (mut app, stderr) = App::launch(cmd, &x);
            let idle = stderr.wait_for("idle after", FIRST_FRAME_TIMEOUT);
            assert!(idle.is_some(), "{view}/{theme}: the window never settled; stderr:\n{}", stderr.all());
            let window = x.find_window("Countersign").expect("the window");
            let shot = dir.join(format!("{view}-{theme}.png"));
            // The window says it is idle once its frame is drawn; the X server may show it a
            // moment later (the buffer swap), so a blank picture is taken again, a few times.
            let mut colours = 0;
            for _ in 0..50 {
                x.screenshot_window(&window, &shot);
                colours = convert_format(&shot, "%k").parse().unwrap();
                if colours > 16 {
                    break;
                }
                thread::sleep(Duration::from_millis(100));
            }
            assert!(colours > 16, "{}: only {colours} colours, the window drew nothing", shot.display());
            let mean: f64 = convert_format(&shot, "%[fx:mean]").parse().unwrap();
            // A light window is mostly light, a dark one mostly dark: the theme took.
            match theme {
                "light" => {
                    assert!(mean > 0.6, "{}: mean brightness {mean:.2} for the light theme", shot.display())
                }
                _ => assert!(mean < 0.4, "{}: mean brightness {mean:.2} for the dark theme", shot.display()),
            }
            x.close_window(&window).unwrap();
            let status = app.wait_timeout(Duration::from_secs(30)).expect("the window closes");
            let err = stderr.finish();
            assert!(
                status.success() && !err.contains("panicked"),
                "{view}/{theme}: {status}; stderr:\n{err}"
            );
            taken.push(format!("{} (mean {mean:.2})", shot.display()));
        }
    }
    println!("screenshots:\n  {}", taken.join("\n  "));
}

/// Xvfb, xwd, xdotool and ImageMagick: what every test of the real window needs.
pub(crate) fn have_x11_tools() -> bool {
    have_tool("Xvfb", "-help")
        && have_tool("xwd", "-version")
        && have_tool("xdotool", "--version")
        && have_imagemagick()
}

/// ImageMagick's `convert`. Some images put a stand-in of that name on the PATH that only
/// converts PNG for display, so being able to run `convert` is not enough.
pub(crate) fn have_imagemagick() -> bool {
    if !have_tool("convert", "-version") {
        return false;
    }
    let out = Command::new("convert").arg("-version").output().unwrap();
    let real = out.status.success() && String::from_utf8_lossy(&out.stdout).contains("ImageMagick");
    if !real {
        let msg = "`convert` is not ImageMagick's; this test needs ImageMagick (Debian package imagemagick)";
        if std::env::var_os("CI").is_some() {
            panic!("{msg} (CI is set, so a missing tool is a failure: .ci/run installs it)");
        }
        skipped(msg);
    }
    real
}

pub(crate) fn screenshot_path() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("window-screenshot.png")
}

/// `convert FILE -format FORMAT info:`, trimmed.
pub(crate) fn convert_format(image: &Path, format: &str) -> String {
    let out = Command::new("convert").arg(image).args(["-format", format, "info:"]).output().unwrap();
    assert!(out.status.success(), "convert {format} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// How many pixels differ between two images of the same size.
fn differing_pixels(a: &Path, b: &Path) -> u64 {
    // `compare` writes the metric to stderr and exits 1 when the images differ.
    let out = Command::new("compare").args(["-metric", "AE"]).arg(a).arg(b).arg("null:").output().unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    let first = text.split_whitespace().next().unwrap_or("");
    first.parse::<f64>().unwrap_or_else(|_| panic!("compare printed no pixel count: {text}")) as u64
}

/// utime + stime of a process, in clock ticks (fields 14 and 15 of /proc/PID/stat).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // The command name (field 2) is in parentheses and may hold spaces; count from after it.
    let rest = &stat[stat.rfind(')').unwrap() + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3.
    fields[14 - 3].parse::<u64>().unwrap() + fields[15 - 3].parse::<u64>().unwrap()
}

/// The app's process, killed if the test ends before it exits.
pub(crate) struct App {
    pub(crate) child: Child,
}

impl App {
    /// Starts the window `cmd` on `x`'s display with its startup report on, its stderr read
    /// line by line.
    pub(crate) fn launch(mut cmd: Command, x: &Xvfb) -> (Self, StderrLines) {
        cmd.env("DISPLAY", &x.display)
            .env("COUNTERSIGN_STARTUP_REPORT", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut app = App { child: cmd.spawn().expect("the window starts") };
        let stderr = StderrLines::read(app.child.stderr.take().unwrap());
        (app, stderr)
    }

    pub(crate) fn wait_timeout(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let end = Instant::now() + limit;
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return Some(s);
            }
            if Instant::now() > end {
                return None;
            }
            thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for App {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The app's stderr, read line by line on a thread.
pub(crate) struct StderrLines {
    rx: mpsc::Receiver<String>,
    seen: std::cell::RefCell<String>,
    reader: Option<thread::JoinHandle<()>>,
}

impl StderrLines {
    pub(crate) fn read(stderr: impl Read + Send + 'static) -> Self {
        let (tx, rx) = mpsc::channel();
        let reader = thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        StderrLines { rx, seen: Default::default(), reader: Some(reader) }
    }

    fn take(&self, line: String) -> String {
        let mut seen = self.seen.borrow_mut();
        seen.push_str(&line);
        seen.push('\n');
        line
    }

    /// The first line containing `needle`, waiting up to `limit`.
    pub(crate) fn wait_for(&self, needle: &str, limit: Duration) -> Option<String> {
        let end = Instant::now() + limit;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(line) => {
                    let line = self.take(line);
                    if line.contains(needle) {
                        return Some(line);
                    }
                }
                Err(_) => return None,
            }
        }
    }

    /// Everything read so far (without waiting).
    pub(crate) fn all(&self) -> String {
        while let Ok(line) = self.rx.try_recv() {
            self.take(line);
        }
        self.seen.borrow().clone()
    }

    /// Everything, once the process has closed its stderr.
    pub(crate) fn finish(mut self) -> String {
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        self.all()
    }
}

/// A private X server on a free display, killed when dropped.
pub(crate) struct Xvfb {
    child: Child,
    pub(crate) display: String,
    width: u64,
    height: u64,
    /// A screenshot of the bare desktop, before any window.
    background: PathBuf,
    _dir: tempfile::TempDir,
}

impl Xvfb {
    pub(crate) fn start() -> Self {
        let (width, height) = (1280, 800);
        let dir = tempdir();
        let log = std::fs::File::create(dir.path().join("xvfb.log")).unwrap();
        // -displayfd: Xvfb picks a free display and writes its number to that descriptor.
        let mut child = Command::new("Xvfb")
            .args(["-displayfd", "1", "-screen", "0", &format!("{width}x{height}x24"), "-nolisten", "tcp"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("Xvfb starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let number = rx.recv_timeout(Duration::from_secs(30)).ok().filter(|l| !l.trim().is_empty());
        let mut x = Xvfb {
            child,
            display: String::new(),
            width,
            height,
            background: dir.path().join("background.png"),
            _dir: dir,
        };
        let number = number.unwrap_or_else(|| {
            let log = std::fs::read_to_string(x._dir.path().join("xvfb.log")).unwrap_or_default();
            panic!("Xvfb gave no display number within 30 s: {log}")
        });
        x.display = format!(":{}", number.trim());
        println!("Xvfb on display {}", x.display);
        let background = x.background.clone();
        x.screenshot(&background);
        x
    }

    pub(crate) fn command(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env("DISPLAY", &self.display).env_remove("WAYLAND_DISPLAY");
        c
    }

    /// Runs a tool against this display, asserting success; returns stdout.
    pub(crate) fn run_ok(&self, program: &str, args: &[&str]) -> String {
        let out = self.command(program).args(args).output().unwrap();
        assert!(out.status.success(), "{program} {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The id of the first window whose name matches, waiting up to 30 s.
    pub(crate) fn find_window(&self, name: &str) -> Option<String> {
        let mut child = self
            .command("xdotool")
            .args(["search", "--sync", "--name", name])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let end = Instant::now() + Duration::from_secs(30);
        while child.try_wait().unwrap().is_none() {
            if Instant::now() > end {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            thread::sleep(Duration::from_millis(50));
        }
        let mut out = String::new();
        child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
        out.lines().next().map(|l| l.trim().to_owned()).filter(|l| !l.is_empty())
    }

    /// The whole screen as PNG.
    pub(crate) fn screenshot(&self, png: &Path) {
        self.xwd_as_png(&["-root"], png);
    }

    /// One window as PNG.
    pub(crate) fn screenshot_window(&self, window: &str, png: &Path) {
        self.xwd_as_png(&["-id", window], png);
    }

    /// `xwd` of what `which` names, as PNG.
    fn xwd_as_png(&self, which: &[&str], png: &Path) {
        let xwd = png.with_extension("xwd");
        self.run_ok("xwd", &[which, &["-silent", "-out", xwd.to_str().unwrap()]].concat());
        let out = Command::new("convert")
            .arg(format!("xwd:{}", xwd.display()))
            .arg(format!("png:{}", png.display()))
            .output()
            .unwrap();
        assert!(out.status.success(), "convert xwd to png failed: {}", String::from_utf8_lossy(&out.stderr));
        let _ = std::fs::remove_file(xwd);
    }

    /// Asks the window to close the way a window manager's close button does: a
    /// WM_PROTOCOLS/WM_DELETE_WINDOW client message. (This Xvfb has no window manager, and
    /// Debian 12's xdotool has no `windowquit`; its `windowclose` destroys the window
    /// under the app instead, which winit does not survive.)
    pub(crate) fn close_window(&self, window: &str) -> Result<(), String> {
        let window: u64 = window.parse().map_err(|e| format!("window id {window}: {e}"))?;
        xlib::send_delete_window(&self.display, window)
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Just enough Xlib, loaded at run time, to send one client message.
// Xlib through dlopen: the only way to send WM_DELETE_WINDOW without a window manager.
#[allow(unsafe_code)]
mod xlib {
    use std::ffi::{CStr, CString, c_char, c_int, c_long, c_ulong, c_void};

    #[repr(C)]
    struct ClientMessage {
        kind: c_int,
        serial: c_ulong,
        send_event: c_int,
        display: *mut c_void,
        window: c_ulong,
        message_type: c_ulong,
        format: c_int,
        data: [c_long; 5],
    }

    /// XEvent is a union padded to 24 longs.
    #[repr(C)]
    union Event {
        client: std::mem::ManuallyDrop<ClientMessage>,
        pad: [c_long; 24],
    }

    const CLIENT_MESSAGE: c_int = 33;
    const NO_EVENT_MASK: c_long = 0;

    type OpenDisplay = unsafe extern "C" fn(*const c_char) -> *mut c_void;
    type InternAtom = unsafe extern "C" fn(*mut c_void, *const c_char, c_int) -> c_ulong;
    type SendEvent = unsafe extern "C" fn(*mut c_void, c_ulong, c_int, c_long, *mut Event) -> c_int;
    type Flush = unsafe extern "C" fn(*mut c_void) -> c_int;
    type CloseDisplay = unsafe extern "C" fn(*mut c_void) -> c_int;

    unsafe fn symbol<T: Copy>(lib: *mut c_void, name: &CStr) -> Result<T, String> {
        let f = unsafe { libc::dlsym(lib, name.as_ptr()) };
        if f.is_null() {
            return Err(format!("libX11 has no {name:?}"));
        }
        Ok(unsafe { std::mem::transmute_copy::<*mut c_void, T>(&f) })
    }

    pub fn send_delete_window(display: &str, window: u64) -> Result<(), String> {
        unsafe {
            let lib = libc::dlopen(c"libX11.so.6".as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL);
            if lib.is_null() {
                return Err("libX11.so.6 could not be loaded".into());
            }
            let open: OpenDisplay = symbol(lib, c"XOpenDisplay")?;
            let intern: InternAtom = symbol(lib, c"XInternAtom")?;
            let send: SendEvent = symbol(lib, c"XSendEvent")?;
            let flush: Flush = symbol(lib, c"XFlush")?;
            let close: CloseDisplay = symbol(lib, c"XCloseDisplay")?;
            let name = CString::new(display).unwrap();
            let dpy = open(name.as_ptr());
            if dpy.is_null() {
                return Err(format!("XOpenDisplay({display}) failed"));
            }
            let protocols = intern(dpy, c"WM_PROTOCOLS".as_ptr(), 0);
            let delete = intern(dpy, c"WM_DELETE_WINDOW".as_ptr(), 0);
            let mut event = Event { pad: [0; 24] };
            event.client = std::mem::ManuallyDrop::new(ClientMessage {
                kind: CLIENT_MESSAGE,
                serial: 0,
                send_event: 1,
                display: dpy,
                window: window as c_ulong,
                message_type: protocols,
                format: 32,
                data: [delete as c_long, 0, 0, 0, 0], // CurrentTime
            });
            let sent = send(dpy, window as c_ulong, 0, NO_EVENT_MASK, &mut event);
            flush(dpy);
            close(dpy);
            if sent == 0 { Err("XSendEvent failed".into()) } else { Ok(()) }
        }
    }
}
