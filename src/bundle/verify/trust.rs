//! The checks against the trust store: finding the signer among its certificates when none
//! came with the signature, and whether it trusts the signer as UPM would. Apart, because
//! they read a trust store and the other checks do not.

use super::checks::Found;
use super::{Checklist, Outcome, VerifyInput};
use crate::bundle::BundleError;
use crate::certs::Certificate;
use crate::progress::Progress;
use crate::signing::{self, Signature};
use crate::truststore::TrustStore;

/// No certificate came with the signature: UPM tries the trust store's certificates, and so
/// does this; the first whose key verifies the signature is the signer.
pub(super) fn search_trust_store(
    list: &mut Checklist,
    input: &VerifyInput<'_>,
    signature: Option<&Signature>,
    found: &mut Found,
    progress: &Progress,
) -> Result<(), BundleError> {
    let (Some(store), Some(sig)) = (input.truststore, signature) else {
        if input.truststore.is_none() {
            list.push(
                "certificate",
                "Certificate present",
                Outcome::Fail,
                "no certificate was given, and no trust store to look in",
                Some("Give the vendor's certificate or the customer's trust store."),
            );
        }
        return Ok(());
    };
    let mut last_reason = "the trust store holds no certificate with a usable key".to_owned();
    for (file, cert) in store.certificates() {
        let Ok(key) = cert.public_key(&file.display().to_string()) else { continue };
        let checked = signing::verify_file(input.artifact, &key, sig, progress)?;
        found.artifact_sha256 = Some(crate::hex::lower(&checked.sha256));
        if checked.valid {
            found.chain = vec![cert.clone()];
            found.chain_name = file.display().to_string();
            found.trusted_by = Some(file.display().to_string());
            found.signature_result = Some(Ok(()));
            return Ok(());
        }
        last_reason = checked.reason.unwrap_or_default();
    }
    found.signature_result =
        Some(Err(format!("no certificate in {} verifies it ({last_reason})", store.dir.display())));
    Ok(())
}

/// The trust store must hold the signing certificate itself.
///
/// UPM's upload takes the app and its signature (the Base64 text), and no source says it
/// takes the signer's certificate too: UPM can only use the certificates already in its
/// trust store. So trust resting on a certificate that came only with the bundle (the
/// signer's own, issued by a CA that the trust store holds) is a warning, not a pass.
pub(super) fn trust_check(
    list: &mut Checklist,
    input: &VerifyInput<'_>,
    signer: Option<&Certificate>,
    found: &mut Found,
) {
    let title = "Trust store holds the signing certificate";
    let Some(store) = input.truststore else {
        if signer.is_some() {
            list.push(
                "trust-store",
                title,
                Outcome::Skipped,
                "no trust store given: the customer's UPM must have this certificate in upmconfig/truststore/",
                None,
            );
        }
        return;
    };
    let trust = match &found.trusted_by {
        Some(file) => Trust::Signer(file.clone()),
        None => find_trust(store, &found.chain),
    };
    match (trust, signer) {
        (Trust::Signer(file), _) => {
            list.push("trust-store", title, Outcome::Pass, format!("{file} is the signing certificate"), None);
            found.trusted_by = Some(file);
        }
        (Trust::IssuerOnly { file, issued }, Some(cert)) => {
            list.push(
                "trust-store",
                title,
                Outcome::Warn,
                format!("only {file}, which issued \"{issued}\", is in the trust store; the signing certificate ({}) came with the signature, and UPM's upload takes only the app and its signature", cert.subject()),
                Some("Put the signing certificate itself (the .crt that came with this signature) into upmconfig/truststore/, beside its issuer."),
            );
            found.trusted_by = Some(file);
        }
        (_, Some(_)) => list.push(
            "trust-store",
            title,
            Outcome::Fail,
            format!("no certificate in {} is this certificate or issued it", store.dir.display()),
            Some("Copy the vendor's .crt into upmconfig/truststore/ (see INSTALL.md for the permissions UPM needs)."),
        ),
        (_, None) => list.push(
            "trust-store",
            title,
            Outcome::Fail,
            format!("no certificate in {} verifies this signature", store.dir.display()),
            Some("Copy the vendor's .crt into upmconfig/truststore/."),
        ),
    }
}

/// How the trust store stands to a signer's chain.
enum Trust {
    /// This trust-store file holds the signing certificate itself.
    Signer(String),
    /// This file holds only a certificate above the signer: one that issued `issued` (a
    /// subject), of the chain or not.
    IssuerOnly {
        file: String,
        issued: String,
    },
    Missing,
}

/// The signing certificate (the chain's first) in the trust store, or else the trust-store
/// file that holds a certificate of the chain above it or that issued one of the chain.
fn find_trust(store: &TrustStore, chain: &[Certificate]) -> Trust {
    let Some(signer) = chain.first() else { return Trust::Missing };
    if let Some((file, _)) = store.certificates().find(|(_, anchor)| *anchor == signer) {
        return Trust::Signer(file.display().to_string());
    }
    for (i, cert) in chain.iter().enumerate() {
        for (file, anchor) in store.certificates() {
            // The store holds this certificate of the chain (above the signer), which issued
            // the one before it; or it holds the issuer of this one.
            let issued = if anchor == cert {
                chain[..i].last()
            } else {
                cert.verify_issued_by(anchor).is_ok().then_some(cert)
            };
            if let Some(issued) = issued {
                return Trust::IssuerOnly { file: file.display().to_string(), issued: issued.subject() };
            }
        }
    }
    Trust::Missing
}
