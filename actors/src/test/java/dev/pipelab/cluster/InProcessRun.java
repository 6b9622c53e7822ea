package dev.pipelab.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pipelab.cli.Main;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code pipelab run SCENARIO --no-dashboard --out OUT ARGS} in this JVM, as the cluster tests drive it (the
 * coordinator runs here, the workers in their own processes): its exit code, what it printed, and its report.json.
 */
record InProcessRun(List<String> command, int code, String out, String err, Path dir) {

    private static final ObjectMapper JSON = new ObjectMapper();

    static InProcessRun of(Path scenario, Path out, List<String> args) {
        List<String> all = new ArrayList<>(List.of("run", scenario.toString(), "--no-dashboard", "--out", out.toString()));
        all.addAll(args);
        StringWriter o = new StringWriter();
        StringWriter e = new StringWriter();
        int code = Main.execute(new PrintWriter(o), new PrintWriter(e), all.toArray(String[]::new));
        return new InProcessRun(List.copyOf(all), code, o.toString(), e.toString(), out);
    }

    /** This run, after checking it exited 0 (the failure names the command and what it printed). */
    InProcessRun succeeded() {
        assertThat(code).as("pipelab %s\nstdout: %s\nstderr: %s", command, out, err).isZero();
        return this;
    }

    JsonNode report() throws IOException {
        return JSON.readTree(dir.resolve("report.json").toFile());
    }

    /** {@code report} without what the deployment and the wall clock decide: what a cluster run shares with an embedded one. */
    static JsonNode virtual(JsonNode report) {
        ObjectNode copy = report.deepCopy();
        copy.remove("wallClock");
        copy.remove("placement");
        return copy;
    }
}
