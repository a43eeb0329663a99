//! Background work for the window. A job runs on its own thread and sends back a closure
//! that applies its result to the app on the UI thread, then asks for a repaint: the window
//! never waits on the keychain, a dialog or a large file.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, Sender, channel};

use eframe::egui;

use super::App;

type Apply = Box<dyn FnOnce(&mut App) + Send>;

/// What a job sends back: partial results while it runs, and its one final result.
enum Message {
    Update(Apply),
    Finished(Apply),
}

pub struct Worker {
    tx: Sender<Message>,
    rx: Receiver<Message>,
    /// Jobs started whose result has not been applied yet.
    pending: usize,
}

/// A running job's way to hand over partial results (one signed file of a batch), applied
/// on the UI thread as they come, each with a repaint.
pub struct Updates {
    tx: Sender<Message>,
    repaint: egui::Context,
}

impl Updates {
    pub fn send(&self, apply: impl FnOnce(&mut App) + Send + 'static) {
        let _ = self.tx.send(Message::Update(Box::new(apply)));
        self.repaint.request_repaint();
    }
}

impl Default for Worker {
    fn default() -> Self {
        let (tx, rx) = channel();
        Worker { tx, rx, pending: 0 }
    }
}

impl Worker {
    /// Runs `work` on a new thread; `done` gets its result on the UI thread. `what` names the
    /// job in the sentence shown if it panics ("… while {what}").
    pub fn spawn<T: Send + 'static>(
        &mut self,
        ctx: &egui::Context,
        what: &'static str,
        work: impl FnOnce() -> T + Send + 'static,
        done: impl FnOnce(&mut App, T) + Send + 'static,
    ) {
        self.spawn_with_updates(ctx, what, move |_| work(), done);
    }

    /// [`spawn`](Self::spawn) for a job that also hands over partial results on the way.
    pub fn spawn_with_updates<T: Send + 'static>(
        &mut self,
        ctx: &egui::Context,
        what: &'static str,
        work: impl FnOnce(&Updates) -> T + Send + 'static,
        done: impl FnOnce(&mut App, T) + Send + 'static,
    ) {
        let tx = self.tx.clone();
        let repaint = ctx.clone();
        let updates = Updates { tx: tx.clone(), repaint: ctx.clone() };
        let job = move || {
            let apply: Apply = match catch_unwind(AssertUnwindSafe(|| work(&updates))) {
                Ok(value) => Box::new(move |app: &mut App| done(app, value)),
                Err(_) => Box::new(move |app: &mut App| {
                    app.actions.push(super::Action::Notify(super::notices::Notice::internal(format!(
                        "Countersign hit an internal error while {what}. Nothing was left half-written; try again, and report it if it repeats."
                    ))))
                }),
            };
            // The window may be closing; then nobody needs the result.
            let _ = tx.send(Message::Finished(apply));
            repaint.request_repaint();
        };
        self.pending += 1;
        if let Err(e) = std::thread::Builder::new().name(format!("countersign: {what}")).spawn(job) {
            let message = format!(
                "Countersign could not start work ({what}): {e}. Close other programs and try again."
            );
            let _ = self.tx.send(Message::Finished(Box::new(move |app: &mut App| {
                app.actions.push(super::Action::Notify(super::notices::Notice::internal(message)))
            })));
        }
    }

    /// Results that arrived since the last frame, to apply in order.
    pub fn finished(&mut self) -> Vec<Apply> {
        self.rx
            .try_iter()
            .map(|message| match message {
                Message::Update(apply) => apply,
                Message::Finished(apply) => {
                    self.pending = self.pending.saturating_sub(1);
                    apply
                }
            })
            .collect()
    }

    pub fn pending(&self) -> usize {
        self.pending
    }
}
