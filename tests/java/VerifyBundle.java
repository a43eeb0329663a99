// An independent verifier in the JDK: checks a Countersign bundle the way a Java program
// (such as UPM) would, with nothing from Countersign.
//
// Usage: java VerifyBundle.java ARTIFACT SIG_FILE CERT_FILE
// Prints VERIFIED and exits 0, or prints REJECTED with the reason and exits 1.
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Base64;

public class VerifyBundle {
    public static void main(String[] args) throws Exception {
        Path artifact = Path.of(args[0]);
        // The .sig is one line of standard Base64; the MIME decoder also takes wrapped text.
        byte[] signature = Base64.getMimeDecoder().decode(Files.readString(Path.of(args[1])).trim());
        X509Certificate cert;
        try (InputStream in = Files.newInputStream(Path.of(args[2]))) {
            cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
        try {
            cert.checkValidity();
            // A self-signed certificate pinned in a trust store is its own anchor: its
            // signature must verify under its own key, and PKIX must accept the path
            // [cert] under the anchor cert.
            cert.verify(cert.getPublicKey());
            java.security.cert.PKIXParameters params = new java.security.cert.PKIXParameters(
                    java.util.Set.of(new java.security.cert.TrustAnchor(cert, null)));
            params.setRevocationEnabled(false);
            java.security.cert.CertPathValidator.getInstance("PKIX").validate(
                    CertificateFactory.getInstance("X.509").generateCertPath(java.util.List.of(cert)), params);
        } catch (Exception e) {
            System.out.println("REJECTED certificate: " + e);
            System.exit(1);
        }
        Signature verifier = Signature.getInstance("Ed25519");
        verifier.initVerify(cert.getPublicKey());
        try (InputStream in = Files.newInputStream(artifact)) {
            byte[] buffer = new byte[1 << 16];
            int n;
            while ((n = in.read(buffer)) > 0) {
                verifier.update(buffer, 0, n);
            }
        }
        if (!verifier.verify(signature)) {
            System.out.println("REJECTED signature does not match " + artifact);
            System.exit(1);
        }
        String curve = ((java.security.interfaces.EdECKey) cert.getPublicKey()).getParams().getName();
        System.out.println("VERIFIED " + cert.getSubjectX500Principal() + " " + curve);
    }
}
