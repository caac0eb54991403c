package dev.entente.protocol;

/** A frame that cannot be read: too large, or not a valid message. The session must end. */
public final class FrameException extends RuntimeException {
    private final SessionMessages.Error.Code code;

    public FrameException(SessionMessages.Error.Code code, String message) {
        super(message);
        this.code = code;
    }

    public FrameException(SessionMessages.Error.Code code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    public SessionMessages.Error.Code code() {
        return code;
    }
}
