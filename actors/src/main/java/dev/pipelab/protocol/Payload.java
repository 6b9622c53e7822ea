package dev.pipelab.protocol;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * The bytes a message carries (a tensor, a gradient chunk, a weights file), compared by content. Invariant: equal
 * payloads hold equal bytes; it serializes as the bytes alone. Why a record of its own: an array component would make
 * every message that carries one compare by identity, so each would hand-write its equality.
 */
public record Payload(byte[] bytes) {

    /** No bytes: emulated runs carry sizes, not tensors. */
    public static final Payload EMPTY = new Payload(new byte[0]);

    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    public Payload {
        bytes = bytes.clone();
    }

    /** The bytes (a copy: the payload stays immutable). */
    @Override
    @JsonValue
    public byte[] bytes() {
        return bytes.clone();
    }

    public int size() {
        return bytes.length;
    }

    public boolean isEmpty() {
        return bytes.length == 0;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Payload p && Arrays.equals(bytes, p.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
        return "Payload[" + bytes.length + " bytes" + (bytes.length <= 16 ? " " + HexFormat.of().formatHex(bytes) : "") + "]";
    }
}
