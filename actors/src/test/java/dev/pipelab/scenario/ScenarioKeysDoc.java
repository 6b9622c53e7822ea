package dev.pipelab.scenario;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;

/**
 * Renders {@code docs/scenario-keys.md} from the schema: one table row per key, in schema order, so the doc
 * cannot drift from the schema (a test compares the two; {@code -Dpipelab.regenerate=true} rewrites the doc).
 */
final class ScenarioKeysDoc {

    /** One documented key. */
    record Key(String path, String type, String defaultValue, String allowed, String meaning) {}

    private static final Pattern DEFAULT = Pattern.compile("\\s*Default: (.*?)\\.?$");

    private ScenarioKeysDoc() {}

    static List<Key> keys(JsonNode schema) {
        List<Key> keys = new ArrayList<>();
        collect(schema, schema, "", keys, new HashSet<>());
        return keys;
    }

    /** The schema node a property stands for, with {@code $ref} followed. */
    static JsonNode resolve(JsonNode schema, JsonNode node) {
        return node.has("$ref") ? schema.at(node.get("$ref").asText().substring(1)) : node;
    }

    /**
     * Adds the rows of {@code object}'s keys and of the mappings below them; a {@code $ref} shared by several keys
     * ({@code faults.random.kinds.*}) has its keys listed under the first only.
     */
    private static void collect(JsonNode schema, JsonNode object, String prefix, List<Key> keys, Set<String> expanded) {
        List<String> required = new ArrayList<>();
        object.path("required").forEach(r -> required.add(r.asText()));
        for (Iterator<Map.Entry<String, JsonNode>> it = object.path("properties").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String path = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
            JsonNode own = e.getValue();
            JsonNode target = resolve(schema, own);
            String description = own.path("description").asText();
            Matcher m = DEFAULT.matcher(description);
            String meaning = description;
            String fallback = "(absent)";
            if (m.find()) {
                fallback = m.group(1);
                meaning = description.substring(0, m.start());
            }
            String defaultValue = required.contains(e.getKey()) ? "**required**"
                    : own.has("default") ? "`" + own.get("default").asText() + "`" : fallback;
            keys.add(new Key(path, type(target), defaultValue, allowed(target), meaning));
            if (target.has("properties") && (!own.has("$ref") || expanded.add(own.get("$ref").asText()))) {
                collect(schema, target, path, keys, expanded);
            }
            if (target.path("items").has("properties")) {
                collect(schema, target.get("items"), path + "[]", keys, expanded); // a list of mappings: faults[].kind
            }
        }
    }

    static String type(JsonNode node) {
        JsonNode t = node.path("type");
        if (t.isArray()) {
            List<String> kinds = StreamSupport.stream(t.spliterator(), false).map(JsonNode::asText).toList();
            if (kinds.equals(List.of("number", "array"))) {
                return "number or list of numbers";
            }
            return String.join(" or ", kinds.stream().map(k -> k.equals("object") ? "mapping" : k.equals("array") ? "list" : k).toList());
        }
        switch (t.asText()) {
            case "object": return "mapping";
            // a list of lists reads "list of lists of integers", not "list of list of integerss"
            case "array": return "list of " + plural(type(node.path("items")));
            default: return t.asText();
        }
    }

    private static String plural(String type) {
        return type.startsWith("list of ") ? "lists of " + type.substring("list of ".length()) : type + "s";
    }

    static String allowed(JsonNode node) {
        List<String> parts = new ArrayList<>();
        if (node.has("enum")) {
            parts.add(StreamSupport.stream(node.get("enum").spliterator(), false)
                    .map(v -> "`" + v.asText() + "`").collect(Collectors.joining(", ")));
        }
        if (node.has("exclusiveMinimum")) {
            parts.add("> " + node.get("exclusiveMinimum").asText());
        }
        if (node.has("minimum")) {
            parts.add(">= " + node.get("minimum").asText());
        }
        if (node.has("maximum")) {
            parts.add("<= " + node.get("maximum").asText());
        }
        if (node.has("minLength")) {
            parts.add("not empty");
        }
        if (node.path("items").has("minimum")) {
            parts.add("entries >= " + node.path("items").get("minimum").asText());
        } else if (node.path("items").path("items").has("minimum")) {
            parts.add("entries >= " + node.path("items").path("items").get("minimum").asText());
        }
        return String.join("; ", parts);
    }

    static String render(JsonNode schema) {
        StringBuilder s = new StringBuilder();
        s.append("# Scenario keys\n\n");
        s.append("Every key of a pipelab scenario file (YAML, or JSON), generated from\n");
        s.append("`actors/src/main/resources/dev/pipelab/scenario/scenario.schema.json` by `ScenarioSchemaTest`\n");
        s.append("(rerun it with `-Dpipelab.regenerate=true` after changing the schema). Any key can be overridden from the\n");
        s.append("command line with `--set key.path=value` (the value is YAML: `8`, `0.5`, `true`, `[10, 10]`, `gelu`);\n");
        s.append("`--device NAME` is `--set hardware.device=NAME`. Unknown keys are errors at every level.\n\n");
        s.append("Rules between keys, checked when the file is loaded:\n\n");
        s.append("- a model without `model.preset` must give `model.layers`, `hidden`, `heads`, `ffn`, `vocab` and `seqLength`;\n");
        s.append("- `model.heads` must be a multiple of `model.kvHeads` and of `parallelism.tensor` when given;\n");
        s.append("- `parallelism.pipeline · parallelism.virtualStages` (the model stages) must not exceed `model.layers`;\n");
        s.append("- `parallelism.layersPerStage` has one entry per model stage and, when `model.layers` is given, sums to it;\n");
        s.append("- `training.schedule: interleaved` needs `virtualStages >= 2`; `gpipe`, `1f1b`, `zb-h1`, `zb-h2`, `zb-1p`, `zb-2p` need 1;\n");
        s.append("- `training.schedule: custom` needs `training.scheduleFile`, an existing file (relative to the scenario's folder);\n");
        s.append("- a `costs` list with more than one entry has one entry per model stage;\n");
        s.append("- `cluster.placement: explicit` needs `cluster.workers`: one list per replica (`parallelism.data`), each with one\n");
        s.append("  worker index per rank (`parallelism.pipeline`); whether the indexes exist is checked when `pipelab run --cluster`\n");
        s.append("  has found the workers, before anything runs.\n\n");
        s.append("Faults (`faults:`, and `pipelab run --fault 'KIND TARGET at=STEP[+SECONDS] [for=SECONDS] [heal=STEP[+SECONDS]] "
                + "[PARAM=VALUE] [seed=N]'`,\n");
        s.append("repeatable, e.g. `--fault 'link.loss 0/1->2 at=3+0.5 for=2 probability=0.05'`, added after the file's):\n\n");
        s.append("- each kind takes only its own parameter (`factor`, `fraction`, `seconds` or `probability`, as the table says) and\n");
        s.append("  `durationSeconds` or `heal`, not both; `stage.crash` and `node.kill` happen at an instant and take neither;\n");
        s.append("- a heal must not come before the injection; a heal after the run's last step means the fault lasts to the end;\n");
        s.append("- when the run starts (and in `pipelab validate`): a stage kind needs a stage or a choice, a link kind a link or a\n");
        s.append("  ring link or a choice, a node kind a node or a choice; the target must exist (a link only where the schedule\n");
        s.append("  sends messages, a ring link only with `parallelism.data > 1`, a node only in `pipelab run --cluster`), and\n");
        s.append("  `atStep` must be below the run's steps;\n");
        s.append("- `one`, `all` and `percent:N` choose among the kind's targets (stages by replica and rank; pipeline links by\n");
        s.append("  replica, from, to, then ring links; nodes) with the entry's `seed`: the same seed chooses the same targets;\n");
        s.append("- `faults:` may also be a mapping: `random` (faults at a rate) and `list` (the entries above, as `faults.list[]`);\n");
        s.append("  `--set faults.random.KEY=VALUE` on a file whose `faults:` is a list turns it into that mapping;\n");
        s.append("- `faults.random` needs a rate: a `preset`, kinds with `perHour`, or `mtbfHours` with kinds' `weight`s summing to 1\n");
        s.append("  (within 1e-9); without `mtbfHours` a kind takes `perHour` and no `weight`, with it a `weight` and no `perHour`;\n");
        s.append("  a kind written under `kinds` overrides the preset's values key by key; the kinds are `gpu` (per device-hour),\n");
        s.append("  `host`, `network`, `maintenance` (per node-hour), `software`, `unknown` (per job-hour) (docs/faults.md);\n");
        s.append("- `recovery.elastic: true` is not supported yet.\n\n");
        s.append("| Key | Type | Default | Allowed | Meaning |\n");
        s.append("|---|---|---|---|---|\n");
        for (Key k : keys(schema)) {
            s.append("| `").append(k.path()).append("` | ").append(k.type()).append(" | ").append(k.defaultValue())
                    .append(" | ").append(k.allowed()).append(" | ").append(k.meaning().replace("|", "\\|")).append(" |\n");
        }
        return s.toString();
    }
}
