package dev.entente.engine;

import java.util.regex.Pattern;

/** The rules for namespace and attribute names, checked where a name enters the engine. */
final class Names {
    /** The rule for namespace names, as a readable statement; {@link #valid} is what runs. */
    static final Pattern NAMESPACE = Pattern.compile("[a-z0-9][a-z0-9_.-]{0,63}");
    /** The rule for attribute names, as a readable statement; {@link #valid} is what runs. */
    static final Pattern ATTRIBUTE = Pattern.compile("[A-Za-z][A-Za-z0-9_.-]{0,127}");

    private Names() {
    }

    /**
     * The same rules as the patterns, checked by hand: names are checked on every decoded record,
     * where a regular expression per attribute was a measurable share of the apply path (about a
     * fifth of decoding a batch). A property test checks that this and the patterns agree.
     */
    static boolean valid(String name, int max, boolean attribute) {
        int n = name.length();
        if (n == 0 || n > max) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            char c = name.charAt(i);
            boolean letter = attribute ? (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') : (c >= 'a' && c <= 'z');
            boolean digit = c >= '0' && c <= '9';
            boolean ok = i == 0 ? letter || (!attribute && digit) : letter || digit || c == '_' || c == '.' || c == '-';
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    static String checkNamespace(String name) {
        if (name == null || !valid(name, 64, false)) {
            throw new InvalidWriteException("invalid namespace name '" + name
                    + "': use 1 to 64 of a-z, 0-9, '_', '.', '-', starting with a letter or digit");
        }
        return name;
    }

    static String checkAttribute(String name) {
        if (name == null || !valid(name, 128, true)) {
            throw new InvalidWriteException("invalid attribute name '" + name
                    + "': use 1 to 128 of A-Z, a-z, 0-9, '_', '.', '-', starting with a letter");
        }
        return name;
    }
}
