//! Background work for the window. A job runs on its own thread and sends back a typed
//! [`Message`] that the app applies on the UI thread, then asks for a repaint: the window
//! never waits on the keychain, a dialog or a large file.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, Sender, channel};

use eframe::egui;

use super::messages::Message;

/// A message on its way back, and whether its job is done with it.
enum Delivery {
    Update(Message),
    Finished(Message),
}

pub struct Worker {
    tx: Sender<Delivery>,
    rx: Receiver<Delivery>,
    /// Jobs started whose result has not been applied yet.
    pending: usize,
}

/// A running job's way to hand over partial results (one signed file of a batch), applied
/// on the UI thread as they come, each with a repaint.
pub struct Updates {
    tx: Sender<Delivery>,
    repaint: egui::Context,
}

impl Updates {
    pub fn send(&self, message: impl Into<Message>) {
        let _ = self.tx.send(Delivery::Update(message.into()));
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
    /// The way to start jobs from a view or a finished job, repainting `ctx` when they end.
    pub fn jobs<'a>(&'a mut self, ctx: &'a egui::Context) -> Jobs<'a> {
        Jobs { worker: self, ctx }
    }

    /// Messages that arrived since the last frame, to apply in order.
    pub fn finished(&mut self) -> Vec<Message> {
        self.rx
            .try_iter()
            .map(|delivery| match delivery {
                Delivery::Update(message) => message,
                Delivery::Finished(message) => {
                    self.pending = self.pending.saturating_sub(1);
                    message
                }
            })
            .collect()
    }

    pub fn pending(&self) -> usize {
        self.pending
    }
}

/// Starts background jobs; each one's result comes back as a [`Message`].
pub struct Jobs<'a> {
    worker: &'a mut Worker,
    ctx: &'a egui::Context,
}

impl Jobs<'_> {
    /// Runs `work` on a new thread; what it returns is applied on the UI thread. `what`
    /// names the job in the sentence shown if it panics ("… while {what}").
    pub fn spawn<M: Into<Message>>(&mut self, what: &'static str, work: impl FnOnce() -> M + Send + 'static) {
        self.spawn_with_updates(what, move |_| work());
    }

    /// [`spawn`](Self::spawn) for a job that also hands over partial results on the way.
    pub fn spawn_with_updates<M: Into<Message>>(
        &mut self,
        what: &'static str,
        work: impl FnOnce(&Updates) -> M + Send + 'static,
    ) {
        let tx = self.worker.tx.clone();
        let repaint = self.ctx.clone();
        let updates = Updates { tx: tx.clone(), repaint: self.ctx.clone() };
        let job = move || {
            let message = match catch_unwind(AssertUnwindSafe(|| work(&updates))) {
                Ok(message) => message.into(),
                Err(_) => Message::JobPanicked { what },
            };
            // The window may be closing; then nobody needs the result.
            let _ = tx.send(Delivery::Finished(message));
            repaint.request_repaint();
        };
        self.worker.pending += 1;
        if let Err(error) = std::thread::Builder::new().name(format!("countersign: {what}")).spawn(job) {
            let _ = self.worker.tx.send(Delivery::Finished(Message::JobNotStarted { what, error }));
        }
    }
}
