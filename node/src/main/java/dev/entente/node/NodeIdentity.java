package dev.entente.node;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.HexFormat;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A node's identity: an EC P-256 key pair and a self-signed certificate (no CA; peers pin it),
 * kept in a directory as {@code key.pem} (readable by its owner only) and {@code cert.pem}.
 * Renewing issues a new certificate for the same key, so pins, which compare the public key,
 * stay valid.
 */
public final class NodeIdentity {
    public static final Duration DEFAULT_VALIDITY = Duration.ofDays(180);
    static final String KEY_FILE = "key.pem";
    static final String CERT_FILE = "cert.pem";

    private final Path directory;
    private final PrivateKey privateKey;
    private final X509Certificate certificate;

    private NodeIdentity(Path directory, PrivateKey privateKey, X509Certificate certificate) {
        this.directory = directory;
        this.privateKey = privateKey;
        this.certificate = certificate;
    }

    /** Makes a new key pair and certificate for node {@code name} in {@code directory}. */
    public static NodeIdentity create(Path directory, String name, Duration validity, Clock clock) {
        if (Files.exists(directory.resolve(KEY_FILE))) {
            throw new IdentityException("an identity already exists in " + directory + ": use it, renew its certificate, or remove it first");
        }
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
            KeyPair pair = g.generateKeyPair();
            X509Certificate cert = selfSign(name, pair, validity, clock);
            Files.createDirectories(directory);
            writePrivate(directory.resolve(KEY_FILE), pem(new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(pair.getPrivate(), null)));
            writeAtomically(directory.resolve(CERT_FILE), pem(cert));
            return new NodeIdentity(directory, pair.getPrivate(), cert);
        } catch (GeneralSecurityException e) {
            throw new IdentityException("cannot make a P-256 key pair: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new IdentityException("cannot write the identity to " + directory + ": " + e.getMessage(), e);
        }
    }

    /** Loads the identity kept in {@code directory}. */
    public static NodeIdentity load(Path directory) {
        Path keyFile = directory.resolve(KEY_FILE);
        Path certFile = directory.resolve(CERT_FILE);
        if (!Files.exists(keyFile) || !Files.exists(certFile)) {
            throw new IdentityException("no identity in " + directory + " (expected " + KEY_FILE + " and " + CERT_FILE + "): run 'entente init' first");
        }
        try {
            PrivateKey key;
            try (PEMParser p = new PEMParser(Files.newBufferedReader(keyFile, StandardCharsets.UTF_8))) {
                Object o = p.readObject();
                if (o instanceof PrivateKeyInfo info) {
                    key = new JcaPEMKeyConverter().getPrivateKey(info);
                } else if (o instanceof org.bouncycastle.openssl.PEMKeyPair kp) {
                    key = new JcaPEMKeyConverter().getKeyPair(kp).getPrivate();
                } else {
                    throw new IdentityException(keyFile + " does not hold an unencrypted private key (PKCS#8 PEM)");
                }
            }
            X509Certificate cert = parseCertificate(Files.readString(certFile, StandardCharsets.UTF_8), certFile.toString());
            NodeIdentity id = new NodeIdentity(directory, key, cert);
            id.checkKeyMatches();
            return id;
        } catch (IOException e) {
            throw new IdentityException("cannot read the identity in " + directory + ": " + e.getMessage(), e);
        }
    }

    /** Issues a new certificate for the same key, valid from now for {@code validity}. */
    public NodeIdentity renew(Duration validity, Clock clock) {
        try {
            KeyPair pair = new KeyPair(certificate.getPublicKey(), privateKey);
            X509Certificate cert = selfSign(name(), pair, validity, clock);
            writeAtomically(directory.resolve(CERT_FILE), pem(cert));
            return new NodeIdentity(directory, privateKey, cert);
        } catch (GeneralSecurityException | IOException e) {
            throw new IdentityException("cannot renew the certificate in " + directory + ": " + e.getMessage(), e);
        }
    }

    /** Parses one PEM certificate, as pinned in a configuration. */
    public static X509Certificate parseCertificate(String pem, String source) {
        try (PEMParser p = new PEMParser(new StringReader(pem))) {
            Object o = p.readObject();
            if (!(o instanceof X509CertificateHolder holder)) {
                throw new IdentityException(source + " does not hold a PEM certificate (-----BEGIN CERTIFICATE-----)");
            }
            return new JcaX509CertificateConverter().getCertificate(holder);
        } catch (IOException | CertificateException e) {
            throw new IdentityException(source + " does not hold a valid certificate: " + e.getMessage(), e);
        }
    }

    private static X509Certificate selfSign(String name, KeyPair pair, Duration validity, Clock clock)
            throws GeneralSecurityException, IOException {
        Instant now = clock.instant();
        X500Name subject = new X500Name("CN=" + name.replace(",", "\\,") + ",O=Entente");
        byte[] serial = new byte[16];
        new SecureRandom().nextBytes(serial);
        serial[0] &= 0x7F;
        JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject, new BigInteger(serial),
                Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(validity)), subject, pair.getPublic());
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
        b.addExtension(Extension.extendedKeyUsage, false,
                new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
        try {
            return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate())));
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException("cannot sign with the node key", e);
        }
    }

    private void checkKeyMatches() {
        try {
            java.security.Signature s = java.security.Signature.getInstance("SHA256withECDSA");
            s.initSign(privateKey);
            byte[] probe = "entente identity check".getBytes(StandardCharsets.UTF_8);
            s.update(probe);
            byte[] sig = s.sign();
            s.initVerify(certificate.getPublicKey());
            s.update(probe);
            if (!s.verify(sig)) {
                throw new IdentityException("the key in " + directory.resolve(KEY_FILE) + " does not belong to the certificate in "
                        + directory.resolve(CERT_FILE) + ": restore the matching pair, or make a new identity");
            }
        } catch (GeneralSecurityException e) {
            throw new IdentityException("cannot check the identity in " + directory + ": " + e.getMessage(), e);
        }
    }

    private static String pem(Object o) throws IOException {
        StringWriter w = new StringWriter();
        try (JcaPEMWriter pw = new JcaPEMWriter(w)) {
            pw.writeObject(o);
        }
        return w.toString();
    }

    private static void writePrivate(Path file, String content) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } else {
            Files.createFile(tmp);
        }
        Files.writeString(tmp, content, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static void writeAtomically(Path file, String content) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, content, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    public PrivateKey privateKey() {
        return privateKey;
    }

    public X509Certificate certificate() {
        return certificate;
    }

    /** The node name the certificate was issued to. */
    public String name() {
        return nameOf(certificate);
    }

    /** The node name a certificate was issued to (its CN). */
    public static String nameOf(X509Certificate certificate) {
        String dn = certificate.getSubjectX500Principal().getName();
        for (String part : dn.split("(?<!\\\\),")) {
            if (part.startsWith("CN=")) {
                return part.substring(3).replace("\\,", ",");
            }
        }
        return dn;
    }

    public String certificatePem() {
        try {
            return pem(certificate);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** SHA-256 of the certificate's public key (SubjectPublicKeyInfo), in hex: what pins compare. */
    public String publicKeyFingerprint() {
        return publicKeyFingerprint(certificate);
    }

    public static String publicKeyFingerprint(X509Certificate cert) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(cert.getPublicKey().getEncoded()));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JVM lacks SHA-256", e);
        }
    }

    public Instant notAfter() {
        return certificate.getNotAfter().toInstant();
    }
}
