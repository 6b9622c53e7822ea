package dev.pipelab.scenario;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SpecVersion;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;

/** The schema is valid draft 2020-12, documents every key, closes every mapping, and keeps each name list once. */
class ScenarioSchemaTest {

    private final JsonNode schema = SchemaCheck.schemaJson();

    @Test
    void theSchemaIsValidDraft202012() {
        var meta = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012)
                .getSchema(SchemaLocation.of("https://json-schema.org/draft/2020-12/schema"));

        assertThat(meta.validate(schema)).isEmpty();
    }

    @Test
    void everyKeyHasADescription() {
        List<ScenarioKeysDoc.Key> keys = ScenarioKeysDoc.keys(schema);

        assertThat(keys).hasSizeGreaterThan(40);
        assertThat(keys).allSatisfy(k -> assertThat(k.meaning()).as(k.path()).isNotBlank());
        schema.path("$defs").fields().forEachRemaining(d ->
                assertThat(d.getValue().path("description").asText()).as("$defs/" + d.getKey()).isNotBlank());
    }

    @Test
    void aKeyWithADefaultDocumentsItInItsDescription() {
        List<String> mismatched = new ArrayList<>();
        walk(schema, "", (path, node) -> {
            if (node.has("default") && !node.path("description").asText().endsWith("Default: " + node.get("default").asText() + ".")) {
                mismatched.add(path);
            }
        });
        assertThat(mismatched).isEmpty();
    }

    @Test
    void everyMappingRejectsUnknownKeys() {
        List<String> open = new ArrayList<>();
        walk(schema, "", (path, node) -> {
            JsonNode target = ScenarioKeysDoc.resolve(schema, node);
            if ("object".equals(target.path("type").asText()) && !target.path("additionalProperties").isBoolean()) {
                open.add(path);
            }
        });
        assertThat(schema.path("additionalProperties").asBoolean(true)).isFalse();
        assertThat(open).isEmpty();
    }

    @Test
    void theNameListsLiveOnlyInDefs() {
        List<String> enumsOutsideDefs = new ArrayList<>();
        walk(schema, "", (path, node) -> {
            if (node.has("enum")) {
                enumsOutsideDefs.add(path);
            }
        });
        assertThat(enumsOutsideDefs).isEmpty();
        assertThat(names("modelPreset")).containsExactly("gpt-1.7b", "gpt-3.6b", "gpt-7.5b", "gpt-18b", "gpt-39b",
                "gpt-76b", "gpt-145b", "gpt-310b", "gpt-530b", "gpt-1t", "gpt3-125m", "gpt3-350m", "gpt3-760m", "gpt3-1.3b",
                "gpt3-2.7b", "gpt3-6.7b", "gpt3-13b", "gpt3-175b", "llama2-7b", "llama2-13b", "llama2-70b", "llama3-8b",
                "llama3-70b", "llama3-405b");
        assertThat(names("device")).containsExactly("a100-40gb", "a100-80gb", "h100-80gb", "h200-141gb", "rtx4090-24gb", "v100-32gb");
        assertThat(names("link")).containsExactly("nvlink3", "nvlink4", "pcie4", "pcie5", "ib-hdr", "ib-ndr", "eth-800g", "free");
        assertThat(names("schedule")).containsExactly("gpipe", "1f1b", "interleaved", "zb-h1", "zb-h2", "zb-1p", "zb-2p", "zb-v", "dualpipev", "custom");
        assertThat(names("recompute")).containsExactly("none", "selective", "full");
        assertThat(names("optimizer")).containsExactly("adam-mixed", "adam-fp32", "sgd-mixed");
        assertThat(names("partition")).containsExactly("uniform", "balanced");
        assertThat(names("mlp")).containsExactly("gelu", "swiglu");
        assertThat(names("workerPlacement")).containsExactly("pack", "spread", "explicit");
    }

    @Test
    void theKeysDocMatchesTheSchema() throws IOException {
        Path doc = Path.of("..", "docs", "scenario-keys.md");
        String expected = ScenarioKeysDoc.render(schema);
        if (Boolean.getBoolean("pipelab.regenerate")) {
            Files.writeString(doc, expected);
        }
        assertThat(doc).as("docs/scenario-keys.md (regenerate with -Dpipelab.regenerate=true)").exists();
        String actual = Files.readString(doc);
        for (ScenarioKeysDoc.Key k : ScenarioKeysDoc.keys(schema)) {
            assertThat(actual).as("the doc's row for " + k.path()).contains("| `" + k.path() + "` |");
        }
        assertThat(actual).as("docs/scenario-keys.md (regenerate with -Dpipelab.regenerate=true)").isEqualTo(expected);
    }

    private List<String> names(String def) {
        return StreamSupport.stream(schema.path("$defs").path(def).path("enum").spliterator(), false).map(JsonNode::asText).toList();
    }

    /** Visits every property schema outside {@code $defs}, with its key path. */
    private static void walk(JsonNode node, String path, BiConsumer<String, JsonNode> visit) {
        for (Iterator<Map.Entry<String, JsonNode>> it = node.path("properties").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String child = path.isEmpty() ? e.getKey() : path + "." + e.getKey();
            visit.accept(child, e.getValue());
            walk(e.getValue(), child, visit);
            walk(e.getValue().path("items"), child + "[]", visit);
        }
    }
}
