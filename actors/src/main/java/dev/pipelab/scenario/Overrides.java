package dev.pipelab.scenario;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Applies the CLI's {@code --set key.path=value} overrides to a parsed tree, in order, before validation: the
 * value is a YAML flow value, missing mappings on the way are created, and the source remembers which paths
 * came from which {@code --set} so later errors say so. A malformed override is an error on {@code --set TEXT}. A key
 * set inside a {@code faults:} list ({@code faults.random.scale=1000}) turns the list into its long form
 * {@code {list: [...]}} first.
 */
final class Overrides {

    /** One dotted segment: a key, then zero or more list indexes ({@code forwardSeconds[2]}). */
    private static final Pattern SEGMENT = Pattern.compile("([^\\[\\]]+)((?:\\[\\d{1,9}\\])*)");
    private static final Pattern INDEX = Pattern.compile("\\[(\\d+)\\]");

    private Overrides() {}

    static List<ScenarioError> apply(ObjectNode root, List<String> sets, ScenarioSource source) {
        List<ScenarioError> errors = new ArrayList<>();
        for (String text : sets) {
            String where = "--set " + text;
            int eq = text.indexOf('=');
            if (eq < 0) {
                errors.add(new ScenarioError(source.name(), 0, 0, where, "must be key.path=value, got no '='"));
                continue;
            }
            String key = text.substring(0, eq).strip();
            List<Object> steps = steps(key);
            if (steps.isEmpty()) {
                errors.add(new ScenarioError(source.name(), 0, 0, where,
                        key.isEmpty() ? "must be key.path=value, got an empty key path"
                                : "must be key.path=value with keys joined by '.', got '" + key + "'"));
                continue;
            }
            TreeReader.Result value = TreeReader.readValue(text.substring(eq + 1).strip(), source.name(), where);
            if (value.tree().isEmpty()) {
                errors.addAll(value.errors());
                continue;
            }
            if (steps.size() > 1 && steps.get(0).equals("faults") && steps.get(1) instanceof String && root.path("faults").isArray()) {
                // faults written as a list is short for {list: [...]}: a key inside faults (random) needs the long form
                ObjectNode longForm = root.objectNode();
                longForm.set("list", root.get("faults"));
                root.set("faults", longForm);
                source.nest("faults", "list");
            }
            String created = firstAbsent(root, steps);
            String problem = put(root, steps, value.tree().get());
            if (problem != null) {
                errors.add(new ScenarioError(source.name(), 0, 0, where, problem));
                continue;
            }
            source.override(created, text);
        }
        return errors;
    }

    /** The shortest prefix of the path that the file does not have: all below it comes from this override. */
    private static String firstAbsent(JsonNode root, List<Object> steps) {
        JsonNode node = root;
        String path = "";
        for (Object step : steps) {
            node = step instanceof Integer i ? node.path(i) : node.path((String) step);
            path = step instanceof Integer i ? ScenarioSource.item(path, i) : ScenarioSource.child(path, (String) step);
            if (node.isMissingNode()) {
                return path;
            }
        }
        return path;
    }

    /** {@code CLI: --device NAME}, as the override it stands for. */
    static String deviceSet(String name) {
        return "hardware.device=" + name;
    }

    /** The steps of a key path: Strings for keys, Integers for list indexes; empty when malformed. */
    private static List<Object> steps(String key) {
        List<Object> steps = new ArrayList<>();
        if (key.isEmpty()) {
            return steps;
        }
        for (String part : key.split("\\.", -1)) {
            Matcher m = SEGMENT.matcher(part.strip());
            if (!m.matches()) {
                return List.of();
            }
            steps.add(m.group(1).strip());
            Matcher i = INDEX.matcher(m.group(2));
            while (i.find()) {
                steps.add(Integer.parseInt(i.group(1)));
            }
        }
        return steps;
    }

    /** Puts the value, creating missing mappings; returns the problem, or null when it was put. */
    private static String put(ObjectNode root, List<Object> steps, JsonNode value) {
        JsonNode node = root;
        String path = "";
        for (int k = 0; k < steps.size(); k++) {
            Object step = steps.get(k);
            boolean last = k == steps.size() - 1;
            if (step instanceof String key) {
                if (!node.isObject()) {
                    return "cannot set '" + key + "' inside " + name(path) + ", which is " + Values.describe(node) + ", not a mapping";
                }
                ObjectNode o = (ObjectNode) node;
                if (last) {
                    o.set(key, value);
                    return null;
                }
                JsonNode next = o.get(key);
                if (next == null || next.isNull()) {
                    next = steps.get(k + 1) instanceof Integer ? null : o.putObject(key);
                    if (next == null) {
                        return ScenarioSource.child(path, key) + " has no list to index into";
                    }
                }
                node = next;
                path = ScenarioSource.child(path, key);
            } else {
                int index = (Integer) step;
                if (!node.isArray() || index >= node.size()) {
                    return name(path) + " has no entry [" + index + "]"
                            + (node.isArray() ? " (it has " + node.size() + ")" : ", it is " + Values.describe(node));
                }
                if (last) {
                    ((ArrayNode) node).set(index, value);
                    return null;
                }
                node = node.get(index);
                path = ScenarioSource.item(path, index);
            }
        }
        return null;
    }

    private static String name(String path) {
        return path.isEmpty() ? ScenarioError.ROOT : path;
    }
}
