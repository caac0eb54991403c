package dev.entente.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** The hand-written name check says exactly what the readable patterns say. */
class NamesProperties {

    @Provide
    Arbitrary<String> names() {
        // mostly near-valid names: the characters the rules allow, and a few they do not
        return Arbitraries.strings().withChars("aZz09_.-A/ é").ofMinLength(0).ofMaxLength(140);
    }

    @Property(tries = 2000)
    void theHandWrittenCheckAgreesWithTheNamespacePattern(@ForAll("names") String name) {
        assertEquals(Names.NAMESPACE.matcher(name).matches(), Names.valid(name, 64, false), "'" + name + "'");
    }

    @Property(tries = 2000)
    void theHandWrittenCheckAgreesWithTheAttributePattern(@ForAll("names") String name) {
        assertEquals(Names.ATTRIBUTE.matcher(name).matches(), Names.valid(name, 128, true), "'" + name + "'");
    }

    @Example
    void boundaries() {
        assertEquals(true, Names.valid("a".repeat(64), 64, false));
        assertEquals(false, Names.valid("a".repeat(65), 64, false));
        assertEquals(true, Names.valid("0ns", 64, false));
        assertEquals(false, Names.valid("0attr", 128, true));
        assertEquals(false, Names.valid("Upper", 64, false));
        assertEquals(true, Names.valid("memberOf", 128, true));
    }
}
