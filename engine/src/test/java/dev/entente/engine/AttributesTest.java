package dev.entente.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import java.util.List;
import org.junit.jupiter.api.Test;

class AttributesTest {
    @Test
    void attributesPrintTheirValuesAsTextOrHexNotAsProtobufObjects() {
        Attributes a = Attributes.builder().text("name", "alice").text("mail", "a@x")
                .bytes("key", List.of(ByteString.copyFrom(new byte[] {(byte) 0xff, 0x01}))).build();
        assertEquals("{key=[0xff01], mail=[a@x], name=[alice]}", a.toString());
    }
}
