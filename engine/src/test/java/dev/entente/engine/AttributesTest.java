package dev.entente.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class AttributesTest {
    @Test
    void attributesPrintTheirValuesAsTextOrHexNotAsProtobufObjects() {
        Attributes a = Attributes.builder().text("name", "alice").text("mail", "a@x")
                .bytes("key", new byte[] {(byte) 0xff, 0x01}).build();
        assertEquals("{key=[0xff01], mail=[a@x], name=[alice]}", a.toString());
    }
}
