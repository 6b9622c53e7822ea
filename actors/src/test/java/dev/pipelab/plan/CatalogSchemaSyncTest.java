package dev.pipelab.plan;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pipelab.model.Attention;
import dev.pipelab.model.DevicePresets;
import dev.pipelab.model.LinkPresets;
import dev.pipelab.model.ModelPresets;
import dev.pipelab.model.Optimizer;
import dev.pipelab.model.Recompute;
import dev.pipelab.schedule.Schedules;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The scenario schema's name lists and the Java catalogs say the same thing, so validation and planning agree. */
class CatalogSchemaSyncTest {

    private static JsonNode defs() throws IOException {
        try (InputStream in = CatalogSchemaSyncTest.class.getResourceAsStream("/dev/pipelab/scenario/scenario.schema.json")) {
            return new ObjectMapper().readTree(in).get("$defs");
        }
    }

    private static List<String> enumOf(String def) throws IOException {
        List<String> out = new ArrayList<>();
        defs().get(def).get("enum").forEach(n -> out.add(n.asText()));
        return out;
    }

    @Test
    void presetsDevicesAndLinksMatchTheCatalogs() throws IOException {
        assertThat(enumOf("modelPreset")).containsExactlyInAnyOrderElementsOf(ModelPresets.names());
        assertThat(enumOf("device")).containsExactlyInAnyOrderElementsOf(DevicePresets.names());
        assertThat(enumOf("link")).containsExactlyInAnyOrderElementsOf(LinkPresets.names());
    }

    @Test
    void schedulesRecomputationAndOptimizersMatch() throws IOException {
        List<String> schedules = new ArrayList<>(Schedules.NAMES);
        schedules.add("custom");
        assertThat(enumOf("schedule")).containsExactlyInAnyOrderElementsOf(schedules);
        assertThat(enumOf("recompute")).containsExactlyInAnyOrderElementsOf(
                Arrays.stream(Recompute.values()).map(Recompute::scenarioName).toList());
        assertThat(enumOf("attention")).containsExactlyInAnyOrderElementsOf(
                Arrays.stream(Attention.values()).map(Attention::scenarioName).toList());
        assertThat(enumOf("optimizer")).containsExactlyInAnyOrderElementsOf(
                Arrays.stream(Optimizer.values()).map(Optimizer::scenarioName).toList());
    }
}
