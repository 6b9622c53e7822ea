package dev.pipelab.scenario;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.util.OptionalInt;

/** How a tree value reads in a message and as a number; every method is total (no value makes it throw). */
final class Values {

    private Values() {}

    /**
     * A value as a type error shows it: strings in double quotes, numbers and booleans as written, a mapping
     * or a list by its kind ({@code "eight"}, {@code 2.5}, {@code a list}).
     */
    static String describe(JsonNode v) {
        if (v == null || v.isMissingNode() || v.isNull()) {
            return "an empty value";
        }
        if (v.isObject()) {
            return "a mapping";
        }
        if (v.isArray()) {
            return "a list";
        }
        if (v.isTextual()) {
            return "\"" + v.textValue() + "\"";
        }
        if (v.isNumber()) {
            return number(v);
        }
        return v.asText();
    }

    /** A value as an enum error shows it: strings in single quotes, anything else as {@link #describe}. */
    static String quoted(JsonNode v) {
        return v != null && v.isTextual() ? "'" + v.textValue() + "'" : describe(v);
    }

    /** A number without a spurious {@code .0} (70e9 reads {@code 70000000000}, 0.5 reads {@code 0.5}). */
    static String number(JsonNode v) {
        if (v.isIntegralNumber() || !Double.isFinite(v.doubleValue())) {
            return v.asText();
        }
        BigDecimal d = v.decimalValue().stripTrailingZeros();
        return d.scale() <= 0 && d.precision() - d.scale() <= 18 ? d.toBigInteger().toString() : d.toPlainString();
    }

    /** The value as an int when it is a whole number in int range ({@code 8} or {@code 8.0}). */
    static OptionalInt integer(JsonNode v) {
        if (v == null || !v.isNumber()) {
            return OptionalInt.empty();
        }
        if (v.isIntegralNumber()) {
            return v.canConvertToInt() ? OptionalInt.of(v.intValue()) : OptionalInt.empty();
        }
        double d = v.doubleValue();
        return d == Math.rint(d) && Math.abs(d) <= Integer.MAX_VALUE ? OptionalInt.of((int) d) : OptionalInt.empty();
    }

    /** The value as an int when it is a whole number >= 1 (a count the schema would accept). */
    static OptionalInt count(JsonNode v) {
        OptionalInt i = integer(v);
        return i.isPresent() && i.getAsInt() >= 1 ? i : OptionalInt.empty();
    }

    /** The node at a dotted path of plain keys, or a missing node. */
    static JsonNode at(JsonNode root, String path) {
        JsonNode n = root;
        for (String key : path.split("\\.")) {
            n = n.path(key);
        }
        return n;
    }
}
