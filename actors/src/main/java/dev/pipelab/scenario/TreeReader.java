package dev.pipelab.scenario;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.pipelab.scenario.ScenarioSource.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Reads YAML or JSON text into a Jackson tree while recording the position of every value and key, so that
 * each later error can point at the text; a syntax error becomes a located {@link ScenarioError}, never an
 * exception.
 */
final class TreeReader {

    /** A tree with its positions, or the errors that prevented it; exactly one of the two is meaningful. */
    record Result(Optional<JsonNode> tree, Map<String, Mark> values, Map<String, Mark> keys,
                  List<ScenarioError> errors, Set<String> unusable) {}

    private static final JsonFactory JSON = new JsonFactory();
    private static final YAMLFactory YAML = new YAMLFactory();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private final String source;
    private final Map<String, Mark> values = new HashMap<>();
    private final Map<String, Mark> keys = new HashMap<>();
    private final List<ScenarioError> errors = new ArrayList<>();
    /** Paths whose value was reported while reading and replaced by null; later checks skip them. */
    private final Set<String> unusable = new HashSet<>();

    private TreeReader(String source) {
        this.source = source;
    }

    /**
     * Reads a whole scenario file: it must hold one mapping. JSON is chosen by a {@code .json} name, or by a
     * leading <code>{</code>; in the second case a text that is not JSON is read as YAML (a flow mapping)
     * before its JSON syntax error is reported.
     */
    static Result readFile(String text, String source) {
        boolean jsonByName = source.toLowerCase(Locale.ROOT).endsWith(".json");
        boolean jsonByContent = !jsonByName && text.stripLeading().startsWith("{");
        TreeReader r = new TreeReader(source);
        Optional<JsonNode> tree = r.readDocument(text, jsonByName || jsonByContent);
        if (tree.isEmpty() && jsonByContent) {
            TreeReader yaml = new TreeReader(source);
            Optional<JsonNode> asYaml = yaml.readDocument(text, false);
            if (asYaml.isPresent()) {
                r = yaml;
                tree = asYaml;
            }
        }
        if (tree.isPresent() && !tree.get().isObject()) {
            Mark at = r.values.getOrDefault("", new Mark(1, 1));
            r.errors.add(new ScenarioError(source, at.line(), at.column(), ScenarioError.ROOT,
                    "must be a mapping, got " + Values.describe(tree.get())));
            tree = Optional.empty();
        }
        // a duplicate key is reported but does not stop validation (the later value stands, as in YAML readers)
        return new Result(tree, r.values, r.keys, List.copyOf(r.errors), Set.copyOf(r.unusable));
    }

    /**
     * Reads the value of a {@code --set} as a YAML flow value ({@code 8}, {@code 0.5}, {@code true},
     * {@code [10, 10]}, {@code gelu}); an empty text is null. Syntax problems are reported on {@code path}.
     */
    static Result readValue(String text, String source, String path) {
        TreeReader r = new TreeReader(source);
        if (text.isBlank()) {
            return new Result(Optional.of(NODES.nullNode()), Map.of(), Map.of(), List.of(), Set.of());
        }
        try (JsonParser p = YAML.createParser(text)) {
            if (p.nextToken() == null) {
                return new Result(Optional.of(NODES.nullNode()), Map.of(), Map.of(), List.of(), Set.of());
            }
            JsonNode node = r.read(p, "");
            if (p.nextToken() != null) {
                return failed(source, path, "must be one YAML value, got more than one");
            }
            if (!r.errors.isEmpty()) {
                return failed(source, path, r.errors.get(0).message());
            }
            return new Result(Optional.of(node), Map.of(), Map.of(), List.of(), Set.of());
        } catch (JsonProcessingException e) {
            return failed(source, path, "value is not valid YAML: " + problem(e));
        } catch (IOException | RuntimeException e) {
            return failed(source, path, "value is not valid YAML: " + e.getMessage());
        }
    }

    private static Result failed(String source, String path, String message) {
        return new Result(Optional.empty(), Map.of(), Map.of(), List.of(new ScenarioError(source, 0, 0, path, message)), Set.of());
    }

    private Optional<JsonNode> readDocument(String text, boolean json) {
        String format = json ? "JSON" : "YAML";
        try (JsonParser p = (json ? JSON : YAML).createParser(text)) {
            JsonToken first = p.nextToken();
            if (first == null || first == JsonToken.VALUE_NULL) {
                errors.add(new ScenarioError(source, 0, 0, ScenarioError.ROOT, "the file is empty"));
                return Optional.empty();
            }
            JsonNode root = read(p, "");
            if (p.nextToken() != null) {
                Mark m = mark(p.currentTokenLocation());
                errors.add(new ScenarioError(source, m.line(), m.column(), ScenarioError.ROOT,
                        "must hold one " + (json ? "JSON value" : "YAML document") + ", got more than one"));
            }
            return Optional.of(root);
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            int line = at == null ? 0 : Math.max(0, at.getLineNr());
            int column = at == null || line == 0 ? 0 : Math.max(0, at.getColumnNr());
            errors.add(new ScenarioError(source, line, column, ScenarioError.ROOT,
                    "not valid " + format + ": " + problem(e)));
            return Optional.empty();
        } catch (IOException | RuntimeException e) {
            errors.add(new ScenarioError(source, 0, 0, ScenarioError.ROOT, "not valid " + format + ": " + e.getMessage()));
            return Optional.empty();
        }
    }

    /** The parser's own one-line reason, without its echo of the text and caret. */
    private static String problem(JsonProcessingException e) {
        if (e.getCause() instanceof MarkedYAMLException y && y.getProblem() != null) {
            return y.getProblem();
        }
        String m = e.getOriginalMessage();
        if (m == null) {
            return e.getClass().getSimpleName();
        }
        int nl = m.indexOf('\n');
        return (nl < 0 ? m : m.substring(0, nl)).strip();
    }

    /** Reads the value at the parser's current token (and everything under it). */
    private JsonNode read(JsonParser p, String path) throws IOException {
        JsonToken t = p.currentToken();
        values.put(path, mark(p.currentTokenLocation()));
        switch (t) {
            case START_OBJECT: {
                ObjectNode o = NODES.objectNode();
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String key = p.currentName();
                    String at = ScenarioSource.child(path, key);
                    Mark km = mark(p.currentTokenLocation());
                    p.nextToken();
                    if (o.has(key)) {
                        errors.add(new ScenarioError(source, km.line(), km.column(), path.isEmpty() ? ScenarioError.ROOT : path,
                                "duplicate key '" + key + "'"));
                        p.skipChildren();
                        continue;
                    }
                    keys.put(at, km);
                    o.set(key, read(p, at));
                }
                return o;
            }
            case START_ARRAY: {
                ArrayNode a = NODES.arrayNode();
                int i = 0;
                while (p.nextToken() != JsonToken.END_ARRAY) {
                    a.add(read(p, ScenarioSource.item(path, i++)));
                }
                return a;
            }
            case VALUE_STRING:
                return NODES.textNode(p.getText());
            case VALUE_NUMBER_INT:
                switch (p.getNumberType()) {
                    case INT:
                        return NODES.numberNode(p.getIntValue());
                    case LONG:
                        return NODES.numberNode(p.getLongValue());
                    default:
                        return NODES.numberNode(p.getBigIntegerValue());
                }
            case VALUE_NUMBER_FLOAT: {
                String written = p.getText();
                double d;
                try {
                    d = p.getDoubleValue();
                } catch (JsonProcessingException | NumberFormatException e) {
                    d = Double.NaN; // YAML's .inf and .nan, which Jackson cannot read as numbers
                }
                if (!Double.isFinite(d)) {
                    // no schema rule can say this; the value is replaced by null and its other errors dropped
                    Mark m = values.get(path);
                    errors.add(new ScenarioError(source, m.line(), m.column(), path, "must be a finite number, got " + written));
                    unusable.add(path);
                    return NODES.nullNode();
                }
                return NODES.numberNode(d);
            }
            case VALUE_TRUE:
                return NODES.booleanNode(true);
            case VALUE_FALSE:
                return NODES.booleanNode(false);
            case VALUE_NULL:
                return NODES.nullNode();
            default:
                return NODES.textNode(p.getText());
        }
    }

    private static Mark mark(JsonLocation at) {
        return new Mark(Math.max(0, at.getLineNr()), Math.max(0, at.getColumnNr()));
    }
}
