//! Opening the window: the viewport, the renderers tried in turn, and how a window that cannot
//! open is reported (on a terminal, or in a message box where there is none).

use std::process::ExitCode;

use eframe::egui;

use super::*;

/// The window's icon, from `resources/`.
const ICON_PNG: &[u8] = include_bytes!("../../resources/countersign.png");

/// The renderers to try, in order. Windows first tries wgpu (DX12, which has a software
/// adapter, so the window opens in a remote desktop session or a VM without GPU drivers where
/// only OpenGL 1.1 exists), then OpenGL; elsewhere OpenGL (glow) serves.
#[cfg(target_os = "windows")]
const RENDERERS: &[eframe::Renderer] = &[eframe::Renderer::Wgpu, eframe::Renderer::Glow];
#[cfg(not(target_os = "windows"))]
const RENDERERS: &[eframe::Renderer] = &[eframe::Renderer::Glow];

/// Opens the window and runs until it is closed.
pub fn run() -> ExitCode {
    let mut viewport = egui::ViewportBuilder::default()
        .with_title("Countersign")
        .with_app_id("countersign")
        .with_inner_size([980.0, 700.0])
        .with_min_inner_size([640.0, 480.0]);
    match eframe::icon_data::from_png_bytes(ICON_PNG) {
        Ok(icon) => viewport = viewport.with_icon(Arc::new(icon)),
        Err(e) => eprintln!("countersign: the window icon could not be read ({e}); continuing without it"),
    }
    let mut failures = Vec::new();
    for &renderer in RENDERERS {
        let options = eframe::NativeOptions { viewport: viewport.clone(), renderer, ..Default::default() };
        let config = Config::from_environment();
        let report =
            std::env::var_os(STARTUP_REPORT_ENV).is_some() || std::env::var_os(SMOKE_TEST_ENV).is_some();
        let app = Box::new(move |cc: &eframe::CreationContext<'_>| -> Result<Box<dyn eframe::App>, _> {
            if report {
                eprintln!("countersign: drawing with {}", renderer_in_use(cc));
            }
            Ok(Box::new(App::new(config)))
        });
        match eframe::run_native("Countersign", options, app) {
            Ok(()) => return ExitCode::SUCCESS,
            Err(e) => {
                if report {
                    eprintln!("countersign: {renderer} could not draw the window ({e})");
                }
                failures.push(format!("{renderer}: {e}"));
            }
        }
    }
    let message = format!(
        "Countersign could not open its window ({}). Everything it does can be done from the command line instead: run `countersign --help` in a terminal.",
        failures.join("; ")
    );
    eprintln!("countersign: {message}");
    tell_without_a_terminal(&message);
    ExitCode::from(2)
}

/// What draws the window: the wgpu adapter (its name, graphics API and kind: a software
/// one such as WARP or llvmpipe says "Cpu"), or the OpenGL renderer. What a smoke test
/// prints, so that a run on a machine without a GPU shows which fallback it got.
fn renderer_in_use(cc: &eframe::CreationContext<'_>) -> String {
    #[cfg(target_os = "windows")]
    if let Some(state) = &cc.wgpu_render_state {
        let info = state.adapter.get_info();
        return format!(
            "wgpu on {:?}: {} ({:?} device, driver {} {})",
            info.backend, info.name, info.device_type, info.driver, info.driver_info
        );
    }
    match &cc.gl {
        Some(gl) => {
            use eframe::glow::HasContext as _;
            // SAFETY: glGetString of two constant names on the context eframe just made
            // current for this thread; glow copies the strings it returns.
            #[allow(unsafe_code)]
            let (renderer, version) = unsafe {
                (
                    gl.get_parameter_string(eframe::glow::RENDERER),
                    gl.get_parameter_string(eframe::glow::VERSION),
                )
            };
            format!("OpenGL: {renderer} ({version})")
        }
        None => "an unknown renderer".to_owned(),
    }
}

/// Where a window program may have no terminal to print to (started from the Start menu,
/// Finder or Explorer), a message box says it too.
#[cfg(any(target_os = "windows", target_os = "macos"))]
fn tell_without_a_terminal(message: &str) {
    if std::env::var_os(SMOKE_TEST_ENV).is_some() {
        return;
    }
    let _ = rfd::MessageDialog::new()
        .set_level(rfd::MessageLevel::Error)
        .set_title("Countersign")
        .set_description(message)
        .set_buttons(rfd::MessageButtons::Ok)
        .show();
}

#[cfg(not(any(target_os = "windows", target_os = "macos")))]
fn tell_without_a_terminal(_message: &str) {}
