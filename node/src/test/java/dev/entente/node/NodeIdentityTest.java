package dev.entente.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NodeIdentityTest {
    final Clock clock = Clock.fixed(Instant.parse("2026-11-22T00:00:00Z"), ZoneOffset.UTC);

    @Test
    void aNewIdentityIsAnEcP256SelfSignedCertificateValidFor180Days(@TempDir Path dir) throws Exception {
        NodeIdentity id = NodeIdentity.create(dir, "site-a", NodeIdentity.DEFAULT_VALIDITY, clock);
        assertEquals("EC", id.certificate().getPublicKey().getAlgorithm());
        assertTrue(id.certificate().getPublicKey().toString().contains("secp256r1") || id.certificate().getPublicKey().toString().contains("1.2.840.10045.3.1.7"),
                id.certificate().getPublicKey().toString());
        assertEquals(Instant.parse("2027-05-21T00:00:00Z"), id.notAfter());
        assertEquals("site-a", id.name());
        id.certificate().verify(id.certificate().getPublicKey());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("key.pem"))));
        assertTrue(id.certificatePem().startsWith("-----BEGIN CERTIFICATE-----"));
    }

    @Test
    void anIdentityLoadsBackAndRenewalKeepsTheKeySoPinsHold(@TempDir Path dir) {
        NodeIdentity id = NodeIdentity.create(dir, "site-b", Duration.ofDays(1), clock);
        NodeIdentity loaded = NodeIdentity.load(dir);
        assertEquals(id.certificate(), loaded.certificate());
        NodeIdentity renewed = loaded.renew(NodeIdentity.DEFAULT_VALIDITY, Clock.offset(clock, Duration.ofDays(10)));
        assertNotEquals(id.certificate(), renewed.certificate());
        assertEquals(id.publicKeyFingerprint(), renewed.publicKeyFingerprint());
        assertEquals(renewed.certificate(), NodeIdentity.load(dir).certificate());
        assertTrue(renewed.notAfter().isAfter(id.notAfter()));
    }

    @Test
    void aSecondIdentityInTheSameDirectoryIsRefused(@TempDir Path dir) {
        NodeIdentity.create(dir, "one", NodeIdentity.DEFAULT_VALIDITY, clock);
        IdentityException e = assertThrows(IdentityException.class, () -> NodeIdentity.create(dir, "two", NodeIdentity.DEFAULT_VALIDITY, clock));
        assertTrue(e.getMessage().contains("already exists"), e.getMessage());
    }

    @Test
    void aMissingOrMismatchedIdentityIsReportedClearly(@TempDir Path dir) throws Exception {
        IdentityException missing = assertThrows(IdentityException.class, () -> NodeIdentity.load(dir.resolve("none")));
        assertTrue(missing.getMessage().contains("entente init"), missing.getMessage());
        NodeIdentity.create(dir.resolve("x"), "x", NodeIdentity.DEFAULT_VALIDITY, clock);
        NodeIdentity.create(dir.resolve("y"), "y", NodeIdentity.DEFAULT_VALIDITY, clock);
        Files.copy(dir.resolve("y/cert.pem"), dir.resolve("x/cert.pem"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        IdentityException mismatch = assertThrows(IdentityException.class, () -> NodeIdentity.load(dir.resolve("x")));
        assertTrue(mismatch.getMessage().contains("does not belong"), mismatch.getMessage());
        IdentityException garbage = assertThrows(IdentityException.class, () -> NodeIdentity.parseCertificate("hello", "agreements[0].certificate"));
        assertTrue(garbage.getMessage().contains("agreements[0].certificate"), garbage.getMessage());
    }
}
