package dev.pipelab.observe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two virtual-time runs of one scenario write the same report.json but for its {@code wallClock} object: the actors'
 * message interleaving differs from run to run, the virtual clock's numbers must not.
 */
class ReportDeterminismIT {

    @Test
    void twoVirtualRunsGiveTheSameReportButForTheWallClock(@TempDir Path tmp) throws Exception {
        JsonNode a = run(tmp.resolve("a"));
        JsonNode b = run(tmp.resolve("b"));
        // the files themselves, byte for byte, with the wallClock object cut out
        assertThat(withoutWallClock(tmp.resolve("a"))).isEqualTo(withoutWallClock(tmp.resolve("b")));
        assertThat(a.has("wallClock")).isTrue();
        ((ObjectNode) a).remove("wallClock");
        ((ObjectNode) b).remove("wallClock");
        // byte-identical once re-serialised; the parsed trees compare doubles exactly as well
        assertThat(E2e.JSON.writeValueAsString(a)).isEqualTo(E2e.JSON.writeValueAsString(b));
        assertThat(a).isEqualTo(b);
    }

    private static String withoutWallClock(Path out) throws Exception {
        String text = Files.readString(out.resolve("report.json"));
        String cut = text.replaceFirst("(?s),\\s*\"wallClock\"\\s*:\\s*\\{[^}]*\\}", "");
        assertThat(cut).as("report.json has one wallClock object").isNotEqualTo(text).doesNotContain("wallClock");
        return cut;
    }

    private static JsonNode run(Path out) throws Exception {
        // quickstart: the cost model, links that take time, recomputation and Adam, 3 steps
        E2e.Result r = E2e.pipelab("run", E2e.SCENARIOS.resolve("quickstart.yaml").toString(), "--clock", "virtual",
                "--no-dashboard", "--quiet", "--steps", "3", "--out", out.toString());
        assertThat(r.code()).as(r.toString()).isZero();
        return E2e.JSON.readTree(out.resolve("report.json").toFile());
    }
}
