package dev.pipelab.scenario;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The README documents every scenario key the schema accepts (the contract), with its default. */
class ReadmeKeysTest {

    @Test
    void readmeHasARowForEveryKeyOfTheSchema() throws IOException {
        JsonNode schema;
        try (InputStream in = getClass().getResourceAsStream("/dev/pipelab/scenario/scenario.schema.json")) {
            schema = new ObjectMapper().readTree(in);
        }
        List<String> keys = new ArrayList<>();
        collect(schema, "", keys);
        assertThat(keys).contains("parallelism.pipeline", "training.linkBuffer", "costs.p2pSeconds", "seed");
        String readme = Files.readString(Path.of("..", "README.md"));
        for (String key : keys) assertThat(readme).as(key).contains("| `" + key + "` |");
    }

    private static void collect(JsonNode node, String prefix, List<String> out) {
        JsonNode props = node.get("properties");
        if (props == null) return;
        for (Iterator<Map.Entry<String, JsonNode>> it = props.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String path = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
            out.add(path);
            collect(e.getValue(), path, out);
        }
    }
}
