package dev.entente.testkit;

import dev.entente.engine.Attributes;
import dev.entente.engine.Schema;

/**
 * Identity-like entries as an identity server stores them: a unique name, a display name, a mail
 * address and three group memberships, about 300 bytes as a change record.
 */
public final class IdentityEntries {
    public static final String NAMESPACE = "people";

    private IdentityEntries() {
    }

    public static Schema schema() {
        return Schema.builder().unique("name").set("memberof").build();
    }

    public static Attributes entry(String prefix, long n) {
        String user = String.format("%s%07d", prefix, n);
        return Attributes.builder()
                .text("name", user)
                .text("displayname", "User " + user + " of the Example Organisation")
                .text("mail", user + "@mail.example.org")
                .text("memberof",
                        group(n % 97), group(n % 89 + 100), group(n % 83 + 200))
                .build();
    }

    private static String group(long g) {
        return String.format("cn=group-%04d,ou=groups,dc=example,dc=org", g);
    }
}
