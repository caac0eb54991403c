package dev.entente.protocol;

import java.util.regex.Pattern;

/**
 * Text a peer chose (a name in its Hello, the message of its Error frame) before it reaches a
 * log, an audit line or a status page: names must look like node names, other text is bounded
 * and has its control characters escaped, so a peer can neither forge a log line nor grow the
 * logs by sending long text.
 */
public final class PeerText {
    /** What a node name is: 1 to 64 letters, digits, {@code _ . -}, starting with a letter or digit. */
    public static final Pattern NODE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");
    /** The most of a peer's message that is kept. */
    public static final int MAX_MESSAGE_CHARS = 2048;

    private PeerText() {
    }

    public static boolean isNodeName(String s) {
        return s != null && NODE_NAME.matcher(s).matches();
    }

    /** A peer's message, escaped and cut to {@link #MAX_MESSAGE_CHARS}. */
    public static String message(String s) {
        return quote(s, MAX_MESSAGE_CHARS);
    }

    /**
     * {@code s} with control and non-ASCII-printable characters written as {@code \\uXXXX} (a
     * backslash as {@code \\\\}), cut to {@code max} characters of the original with a note of
     * how many more there were.
     */
    public static String quote(String s, int max) {
        if (s == null) {
            return "";
        }
        int n = Math.min(s.length(), max);
        StringBuilder sb = new StringBuilder(n + 16);
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c == '\\') {
                sb.append("\\\\");
            } else if (c < 0x20 || c == 0x7f || Character.isISOControl(c) || Character.getType(c) == Character.FORMAT
                    || Character.isSurrogate(c) || Character.getType(c) == Character.LINE_SEPARATOR
                    || Character.getType(c) == Character.PARAGRAPH_SEPARATOR) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        if (s.length() > max) {
            sb.append("... (").append(s.length() - max).append(" more characters)");
        }
        return sb.toString();
    }

    /** How a name a peer gave reads in a message: itself when it is a node name, else quoted and cut to 64. */
    public static String name(String s) {
        return isNodeName(s) ? s : "\"" + quote(s, 64) + "\"";
    }
}
