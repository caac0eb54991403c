package dev.entente.engine;

import java.util.regex.Pattern;

/** The rules for namespace and attribute names, checked where a name enters the engine. */
final class Names {
    private static final Pattern NAMESPACE = Pattern.compile("[a-z0-9][a-z0-9_.-]{0,63}");
    private static final Pattern ATTRIBUTE = Pattern.compile("[A-Za-z][A-Za-z0-9_.-]{0,127}");

    private Names() {
    }

    static String checkNamespace(String name) {
        if (name == null || !NAMESPACE.matcher(name).matches()) {
            throw new InvalidWriteException("invalid namespace name '" + name
                    + "': use 1 to 64 of a-z, 0-9, '_', '.', '-', starting with a letter or digit");
        }
        return name;
    }

    static String checkAttribute(String name) {
        if (name == null || !ATTRIBUTE.matcher(name).matches()) {
            throw new InvalidWriteException("invalid attribute name '" + name
                    + "': use 1 to 128 of A-Z, a-z, 0-9, '_', '.', '-', starting with a letter");
        }
        return name;
    }
}
