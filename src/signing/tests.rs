//! The signing module's unit tests: streaming signatures against one-shot ones, both
//! algorithms, copies and cancellation. In a file of their own to keep the module readable.

use super::stream::CHUNK;
use super::*;
use sha2::{Digest, Sha256};
use std::io::{Read, Seek, SeekFrom, Write};

fn file_with(bytes: &[u8]) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(bytes).unwrap();
    f
}

#[test]
fn streaming_ed25519_equals_the_one_shot_signature() {
    use ed25519_dalek::Signer;
    let data: Vec<u8> = (0..3 * CHUNK + 17).map(|i| u8::try_from(i * 31 % 251).unwrap()).collect();
    let f = file_with(&data);
    let key = PrivateKey::generate(Algorithm::Ed25519).unwrap();
    let PrivateKey::Ed25519(inner) = &key else { unreachable!() };
    let signed = sign_file(f.path(), &key, &Progress::new()).unwrap();
    assert_eq!(signed.signature.as_bytes(), inner.sign(&data).to_bytes());
    assert_eq!(signed.size, data.len() as u64);
    assert_eq!(signed.sha256, <[u8; 32]>::from(Sha256::digest(&data)));
}

#[test]
fn both_algorithms_verify_their_own_and_reject_a_changed_file() {
    for alg in [Algorithm::Ed25519, Algorithm::EcdsaP384] {
        let key = PrivateKey::generate(alg).unwrap();
        let f = file_with(b"some jar bytes");
        let signed = sign_file(f.path(), &key, &Progress::new()).unwrap();
        let ok = verify_file(f.path(), &key.public_key(), &signed.signature, &Progress::new()).unwrap();
        assert!(ok.valid, "{alg}");
        let g = file_with(b"some jar bytez");
        let bad = verify_file(g.path(), &key.public_key(), &signed.signature, &Progress::new()).unwrap();
        assert!(!bad.valid && bad.reason.is_some(), "{alg}");
    }
}

/// Our streamed verification equation agrees with ed25519-dalek's verifier on valid
/// signatures and on every kind of damage: flipped bits in R and in S, S pushed out of
/// range, another key, another message.
#[test]
fn ed25519_verification_agrees_with_ed25519_dalek() {
    use ed25519_dalek::{Signer, Verifier};
    for round in 0..40u32 {
        let key = PrivateKey::generate(Algorithm::Ed25519).unwrap();
        let PrivateKey::Ed25519(inner) = &key else { unreachable!() };
        // The low byte of `i ^ round`: any varied bytes will do.
        let message: Vec<u8> =
            (0..(round * 997) as usize).map(|i| i.to_le_bytes()[0] ^ round.to_le_bytes()[0]).collect();
        let f = file_with(&message);
        let good = inner.sign(&message).to_bytes();
        let mut candidates = vec![good.to_vec()];
        for bit in [0usize, 7, 100, 255, 256, 300, 500, 511] {
            let mut bad = good;
            bad[bit / 8] ^= 1 << (bit % 8);
            candidates.push(bad.to_vec());
        }
        let mut high_s = good;
        high_s[63] |= 0xf0;
        candidates.push(high_s.to_vec());
        let other = PrivateKey::generate(Algorithm::Ed25519).unwrap().public_key();
        for sig in &candidates {
            let arr: [u8; 64] = sig.as_slice().try_into().unwrap();
            let dalek =
                inner.verifying_key().verify(&message, &ed25519_dalek::Signature::from_bytes(&arr)).is_ok();
            let ours = verify_file(f.path(), &key.public_key(), &Signature(sig.clone()), &Progress::new())
                .unwrap()
                .valid;
            assert_eq!(ours, dalek, "round {round}");
            assert!(!verify_file(f.path(), &other, &Signature(sig.clone()), &Progress::new()).unwrap().valid);
        }
        assert!(
            verify_file(f.path(), &key.public_key(), &Signature(good.to_vec()), &Progress::new())
                .unwrap()
                .valid
        );
    }
}

/// Signing while copying: the signature is the one-shot signature of the bytes, the copy
/// holds them, and `between` ran once the copy was whole.
#[test]
fn signing_while_copying_signs_the_bytes_and_copies_them() {
    use ed25519_dalek::Signer;
    let data: Vec<u8> = (0..5 * CHUNK + 3).map(|i| i.to_le_bytes()[0] ^ 0x3c).collect();
    let f = file_with(&data);
    let copy = tempfile::tempfile().unwrap();
    for key in [
        PrivateKey::generate(Algorithm::Ed25519).unwrap(),
        PrivateKey::generate(Algorithm::EcdsaP384).unwrap(),
    ] {
        let mut copied_when_asked = None;
        let progress = Progress::new();
        let signed = sign_copying(
            f.as_file(),
            f.path(),
            &copy,
            &mut || {
                copied_when_asked = Some(copy.metadata().unwrap().len());
                Ok(())
            },
            &key,
            &progress,
        )
        .unwrap();
        assert_eq!(copied_when_asked, Some(data.len() as u64));
        assert_eq!(progress.done(), data.len() as u64 * passes(&key));
        let mut read_back = Vec::new();
        (&copy).seek(SeekFrom::Start(0)).unwrap();
        (&copy).read_to_end(&mut read_back).unwrap();
        assert!(read_back == data, "the copy holds the bytes");
        assert_eq!(signed.sha256, <[u8; 32]>::from(Sha256::digest(&data)));
        if let PrivateKey::Ed25519(inner) = &key {
            assert_eq!(signed.signature.as_bytes(), inner.sign(&data).to_bytes());
        }
        let checked = verify_file(f.path(), &key.public_key(), &signed.signature, &Progress::new()).unwrap();
        assert!(checked.valid);
    }
}

/// A copy that changes between the two Ed25519 passes (another member of a
/// group-writable folder, a bad read) is refused: a signature over two different
/// messages, beside any signature of the first, gives the private key away.
#[test]
fn a_copy_changed_between_the_passes_is_refused_not_signed() {
    use std::io::Write as _;
    let data: Vec<u8> = (0..3 * CHUNK).map(|i| i.to_le_bytes()[0]).collect();
    let f = file_with(&data);
    let copy = tempfile::tempfile().unwrap();
    let key = PrivateKey::generate(Algorithm::Ed25519).unwrap();
    let result = sign_copying(
        f.as_file(),
        f.path(),
        &copy,
        &mut || {
            // Same length, one byte different.
            (&copy).seek(SeekFrom::Start(1000)).unwrap();
            (&copy).write_all(&[data[1000] ^ 1]).unwrap();
            Ok(())
        },
        &key,
        &Progress::new(),
    );
    assert!(matches!(result, Err(SignError::Changed(_))), "{result:?}");
    // The same in place: a file changed between the passes.
    let g = file_with(&data);
    let mut changed = false;
    let in_place = sign_passes(
        g.as_file(),
        None,
        &mut || {
            let mut w = g.as_file();
            w.seek(SeekFrom::Start(5)).unwrap();
            w.write_all(&[data[5] ^ 1]).unwrap();
            changed = true;
            Ok(())
        },
        g.path(),
        &key,
        &Progress::new(),
    );
    assert!(changed && matches!(in_place, Err(SignError::Changed(_))), "{in_place:?}");
}

#[test]
fn a_cancelled_signing_stops_with_cancelled() {
    let key = PrivateKey::generate(Algorithm::Ed25519).unwrap();
    let f = file_with(&[0u8; 10]);
    let p = Progress::new();
    p.cancel();
    assert!(matches!(sign_file(f.path(), &key, &p), Err(SignError::Cancelled)));
}

#[test]
fn progress_counts_both_ed25519_passes() {
    let key = PrivateKey::generate(Algorithm::Ed25519).unwrap();
    let f = file_with(&[1u8; 1000]);
    let p = Progress::new();
    sign_file(f.path(), &key, &p).unwrap();
    assert_eq!((p.done(), p.total()), (2000, 2000));
}

#[test]
fn signature_text_is_decoded_leniently_and_garbage_is_refused() {
    let sig = Signature(vec![0xAB; 64]);
    let text = sig.to_base64();
    assert_eq!(text.len(), 88);
    let wrapped = format!("  {}\r\n{}\n", &text[..40], &text[40..]);
    assert_eq!(Signature::decode(wrapped.as_bytes(), "s").unwrap(), sig);
    assert_eq!(Signature::decode(&[0xAB; 64], "s").unwrap(), sig);
    assert!(matches!(Signature::decode(b" \n", "s"), Err(SignatureTextError::Empty(_))));
    assert!(Signature::decode(b"not a signature at all!", "s").is_err());
}
