package dev.entente.engine;

import dev.entente.engine.error.EntenteException;

/** A value, attribute or transaction is larger than the configured limit. */
public final class LimitExceededException extends EntenteException {
    private final String what;
    private final long size;
    private final long limit;
    private final String setting;

    /** @param setting the {@link EngineOptions} setting that sets the limit */
    public LimitExceededException(String what, long size, long limit, String setting) {
        super(text(what, size, limit, setting));
        this.what = what;
        this.size = size;
        this.limit = limit;
        this.setting = setting;
    }

    /** The {@link EngineOptions} setting that sets the limit. */
    public String setting() {
        return setting;
    }

    /** The message, naming the setting as the embedding program calls it (a node: its configuration's key). */
    public String messageNaming(String settingName) {
        return text(what, size, limit, settingName);
    }

    private static String text(String what, long size, long limit, String setting) {
        return what + " is " + size + " bytes, over the limit of " + limit + " bytes (setting " + setting
                + "): store large data elsewhere and keep a reference, split the transaction, or raise the limit on every node";
    }
}
