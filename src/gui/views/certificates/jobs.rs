//! The Certificates view's background jobs: making or renewing a certificate, writing a
//! request, importing what the CA issued, and saving the certificate for customers. Each
//! asks for its path (typed, or from a dialog) on the job's thread.

use std::path::PathBuf;

use super::{CertificatesView, Imported, Message};
use crate::gui::KeyRow;
use crate::gui::context::ViewContext;
use crate::gui::failure::Failure;
use crate::gui::widgets;
use countersign::certs::{Certificate, Subject};

impl CertificatesView {
    /// Makes a self-signed certificate for key `name` with `subject`, or (`None`) renews its
    /// current one. `copy`: a customer's copy of the current certificate to look at first.
    pub(super) fn self_sign(
        cx: &mut ViewContext,
        name: &str,
        subject: Option<Subject>,
        days: u32,
        copy: Option<(PathBuf, Certificate)>,
    ) {
        let store = cx.store();
        let key = name.to_owned();
        cx.jobs.spawn("making a certificate", move || {
            let renew = subject.is_none();
            let stale_copy = copy.and_then(|(copy, current)| {
                let holds_current = countersign::atomic::read_small(&copy, 1 << 20)
                    .ok()
                    .and_then(|b| Certificate::all_from_file_bytes(&b, "crt").ok())
                    .is_some_and(|chain| chain.first().is_some_and(|c| c == &current));
                holds_current.then(|| (key.clone(), copy))
            });
            let result = store.and_then(|s| {
                let cert = match &subject {
                    Some(subject) => s.self_sign(&key, subject, days, widgets::now())?,
                    None => s.renew(&key, days, widgets::now())?.0,
                };
                Ok(Box::new(cert))
            });
            Message::Made { renew, result, stale_copy }
        });
    }

    pub(super) fn save_request(&self, cx: &mut ViewContext, row: &KeyRow, subject: Subject) {
        let store = cx.store();
        let dialogs = cx.dialogs();
        let typed = self.request_path.path();
        let name = row.record.name.clone();
        let suggested = format!("{}.csr", row.record.file_stem());
        cx.jobs.spawn("writing a certificate request", move || {
            let save = || -> Result<Option<PathBuf>, Failure> {
                let Some((path, replace)) =
                    dialogs.save_target(typed, "Save the certificate request", &suggested)?
                else {
                    return Ok(None);
                };
                let csr = store?.signing_request(&name, &subject)?;
                countersign::atomic::write_file(&path, csr.as_bytes(), replace)?;
                Ok(Some(path))
            };
            Message::RequestSaved(save())
        });
    }

    pub(super) fn import(&self, cx: &mut ViewContext, name: &str) {
        let store = cx.store();
        let dialogs = cx.dialogs();
        let typed = self.issued_path.path();
        let key = name.to_owned();
        cx.jobs.spawn("importing a certificate", move || {
            let import = || -> Result<Option<Imported>, Failure> {
                let Some(path) = dialogs.open_target(
                    typed,
                    "Choose the certificate your CA issued",
                    &["crt", "pem", "cer", "der"],
                )?
                else {
                    return Ok(None);
                };
                let chain = store?.import_certificate(&key, &path)?;
                Ok(Some(Imported { key, chain }))
            };
            Message::Imported(import())
        });
    }

    pub(super) fn save_certificate(&self, cx: &mut ViewContext, row: &KeyRow, chain: Vec<Certificate>) {
        let dialogs = cx.dialogs();
        let typed = self.customer_path.path();
        let suggested = format!("{}.crt", row.record.file_stem());
        cx.jobs.spawn("saving a certificate", move || {
            let save = || -> Result<Option<PathBuf>, Failure> {
                let Some((path, replace)) =
                    dialogs.save_target(typed, "Save the certificate for customers", &suggested)?
                else {
                    return Ok(None);
                };
                let pem: String = chain.iter().map(Certificate::to_pem).collect();
                countersign::atomic::write_file(&path, pem.as_bytes(), replace)?;
                Ok(Some(path))
            };
            Message::CertificateSaved(save())
        });
    }
}
