package dev.pipelab.scenario;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonNodePath;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;

/**
 * Validates a scenario tree against {@code scenario.schema.json} and translates each of the validator's
 * findings into a located {@link ScenarioError} in the house style ({@code must be >= 1, got 0}); the
 * validator's own wording never reaches a user.
 */
final class SchemaCheck {

    /** Where the schema lives on the class path. */
    static final String SCHEMA_RESOURCE = "/dev/pipelab/scenario/scenario.schema.json";

    private static final JsonNode SCHEMA_JSON = readSchema();
    private static final JsonSchema SCHEMA =
            JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(SCHEMA_JSON);

    private SchemaCheck() {}

    /** The schema as a tree (for docs and tests). */
    static JsonNode schemaJson() {
        return SCHEMA_JSON.deepCopy();
    }

    static List<ScenarioError> check(JsonNode tree, ScenarioSource source) {
        Set<ValidationMessage> found = SCHEMA.validate(tree);
        Set<String> enumPaths = new HashSet<>();
        for (ValidationMessage m : found) {
            if ("enum".equals(m.getType())) {
                enumPaths.add(path(m.getInstanceLocation()));
            }
        }
        List<ScenarioError> errors = new ArrayList<>();
        for (ValidationMessage m : found) {
            String path = path(m.getInstanceLocation());
            if ("type".equals(m.getType()) && enumPaths.contains(path)) {
                continue; // "must be one of ..." already says it, with the allowed names
            }
            errors.add(translate(m, path, source));
        }
        return errors;
    }

    private static ScenarioError translate(ValidationMessage m, String path, ScenarioSource source) {
        JsonNode value = m.getInstanceNode();
        JsonNode rule = m.getSchemaNode();
        switch (m.getType()) {
            case "type":
                return source.errorAt(path, "must be " + expected(rule) + ", got " + Values.describe(value));
            case "enum":
                return source.errorAt(path, "must be one of " + names(rule) + ", got " + Values.quoted(value));
            case "minimum":
                return source.errorAt(path, "must be >= " + Values.number(rule) + ", got " + Values.number(value));
            case "exclusiveMinimum":
                return source.errorAt(path, "must be > " + Values.number(rule) + ", got " + Values.number(value));
            case "maximum":
                return source.errorAt(path, "must be <= " + Values.number(rule) + ", got " + Values.number(value));
            case "exclusiveMaximum":
                return source.errorAt(path, "must be < " + Values.number(rule) + ", got " + Values.number(value));
            case "minItems":
                return source.errorAt(path, "must have at least " + rule.asInt() + " "
                        + (rule.asInt() == 1 ? "entry" : "entries") + ", got " + value.size());
            case "minLength":
                return source.errorAt(path, "must not be empty");
            case "required": {
                String key = property(m);
                return source.error(ScenarioSource.child(path, key), path, false, "is required");
            }
            case "additionalProperties": {
                String key = property(m);
                return source.error(path, ScenarioSource.child(path, key), true,
                        "unknown key '" + key + "' (allowed: " + allowed(m) + ")");
            }
            default:
                return source.errorAt(path, "does not match the schema's '" + m.getType() + "' rule, got "
                        + Values.describe(value));
        }
    }

    /** {@code "integer"} -> {@code an integer}; {@code ["number", "array"]} -> {@code a number or a list of numbers}. */
    private static String expected(JsonNode type) {
        if (type.isArray()) {
            Set<String> kinds = StreamSupport.stream(type.spliterator(), false).map(JsonNode::asText).collect(Collectors.toSet());
            if (kinds.equals(Set.of("number", "array"))) {
                return "a number or a list of numbers";
            }
            return StreamSupport.stream(type.spliterator(), false).map(t -> kind(t.asText())).collect(Collectors.joining(" or "));
        }
        return kind(type.asText());
    }

    private static String kind(String type) {
        switch (type) {
            case "integer": return "an integer";
            case "number": return "a number";
            case "string": return "a string";
            case "boolean": return "true or false";
            case "object": return "a mapping";
            case "array": return "a list";
            default: return type;
        }
    }

    private static String names(JsonNode enumeration) {
        return StreamSupport.stream(enumeration.spliterator(), false).map(JsonNode::asText).collect(Collectors.joining(", "));
    }

    private static String property(ValidationMessage m) {
        if (m.getProperty() != null) {
            return m.getProperty();
        }
        Object[] args = m.getArguments();
        return args != null && args.length > 0 ? String.valueOf(args[0]) : "?";
    }

    /** The keys the mapping at the error's schema location allows, in schema order. */
    private static String allowed(ValidationMessage m) {
        String location = m.getSchemaLocation().toString();
        int hash = location.indexOf('#');
        String pointer = hash < 0 ? "" : location.substring(hash + 1);
        if (pointer.endsWith("/additionalProperties")) {
            pointer = pointer.substring(0, pointer.length() - "/additionalProperties".length());
        }
        JsonNode properties = SCHEMA_JSON.at(pointer).path("properties");
        List<String> keys = new ArrayList<>();
        for (Iterator<String> it = properties.fieldNames(); it.hasNext(); ) {
            keys.add(it.next());
        }
        return String.join(", ", keys);
    }

    /** {@code $.costs.forwardSeconds[2]} as {@code costs.forwardSeconds[2]}. */
    static String path(JsonNodePath at) {
        String path = "";
        for (int i = 0; i < at.getNameCount(); i++) {
            Object e = at.getElement(i);
            path = e instanceof Integer index ? ScenarioSource.item(path, index) : ScenarioSource.child(path, String.valueOf(e));
        }
        return path;
    }

    private static JsonNode readSchema() {
        try (InputStream in = SchemaCheck.class.getResourceAsStream(SCHEMA_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the class path lacks " + SCHEMA_RESOURCE);
            }
            return new ObjectMapper().readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
