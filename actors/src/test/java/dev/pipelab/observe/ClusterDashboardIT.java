package dev.pipelab.observe;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pipelab.cluster.WorkerProcesses;
import dev.pipelab.monitoring.dashboard.HeadlessChromium;
import dev.pipelab.monitoring.metrics.PromText;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A wall-clock run on three worker JVMs, watched live in a real browser: three {@code pipelab node} processes, then
 * {@code pipelab run --cluster} of the 1F1B 4×8 scenario (33 emulated seconds a step) at speed 20 for six steps, with
 * {@code --placement explicit} and the map {@code [[0, 1, 2, 0]]} given by {@code --set}, so every worker hosts a rank
 * and the expected node of each rank is known. While the actors run, the dashboard shows every rank with its worker
 * ({@code host:port}) and {@code /metrics} names each stage's node; at the end report.json and trace.json do too.
 * Invariant: the workers are reaped whatever happens ({@link WorkerProcesses#close}); without Chromium the test fails
 * when {@code CI} is set and is skipped otherwise.
 */
class ClusterDashboardIT {

    private static final List<Integer> MAP = List.of(0, 1, 2, 0);

    private static final String PROBE = "JSON.stringify({"
            + "rows: [...document.querySelectorAll('#timeline .row[data-rank]')].map(e => e.dataset.node ?? ''),"
            + "util: [...document.querySelectorAll('#util .bar[data-rank] .name')].map(e => e.textContent),"
            + "plan: document.getElementById('plan')?.textContent ?? '',"
            + "step: Number(document.body?.dataset.step ?? -1),"
            + "status: document.getElementById('status')?.dataset.status ?? 'loading'})";

    @Test
    void everyRankIsLiveWithItsNodeInTheDashboardAndInMetrics(@TempDir Path tmp) throws Exception {
        HeadlessChromium.require();
        Files.createDirectories(E2e.TARGET);
        Path out = tmp.resolve("out");
        try (WorkerProcesses workers = WorkerProcesses.start(3, E2e.TARGET.resolve("cluster-dashboard-it"));
             HeadlessChromium browser = new HeadlessChromium(HeadlessChromium.CHROMIUM, "about:blank",
                     E2e.TARGET.resolve("chromium-cluster-run.log"));
             E2e.LiveRun run = new E2e.LiveRun("run", E2e.SCENARIOS.resolve("1f1b-4x8.yaml").toString(),
                     "--cluster", workers.seed(), "--placement", "explicit", "--set", "cluster.workers=[" + MAP + "]",
                     "--clock", "wall", "--speed", "20", "--steps", "6", "--port", "0", "--out", out.toString(), "--serve")) {
            List<String> expected = new ArrayList<>();
            for (int w : MAP) expected.add(workers.inCoordinatorOrder().get(w).hostPort());
            browser.navigate(run.dashboard());

            // while the run proceeds: all four ranks, each with its worker, in the Gantt and in the utilisation bars
            JsonNode live = waitFor(browser, p -> p.get("rows").size() == 4 && p.get("util").size() == 4 && p.get("step").asInt() >= 0);
            assertThat(live.get("status").asText()).as("read while the run proceeds").isEqualTo("running");
            assertThat(live.get("rows")).extracting(JsonNode::asText).containsExactlyElementsOf(expected);
            List<String> names = new ArrayList<>();
            for (int rank = 0; rank < 4; rank++) names.add("rank " + rank + " @ " + expected.get(rank));
            assertThat(live.get("util")).extracting(JsonNode::asText).containsExactlyElementsOf(names);
            assertThat(live.get("plan").asText()).endsWith("3 worker JVMs, placement explicit");

            // /metrics while it runs: every stage's node, and every stage busy
            PromText metrics = PromText.parse(E2e.get(HttpClient.newHttpClient(), run.dashboard().resolve("metrics")));
            for (int rank = 0; rank < 4; rank++) {
                assertThat(metrics.value("pipelab_stage_node_info",
                        Map.of("stage", Integer.toString(rank), "replica", "0", "node", expected.get(rank)))).isEqualTo(1);
                assertThat(metrics.value("pipelab_stage_busy_seconds_total",
                        Map.of("stage", Integer.toString(rank), "replica", "0", "phase", "F"))).isPositive();
            }
            Files.write(E2e.TARGET.resolve("dashboard-cluster-run.png"), browser.screenshot());

            run.awaitOutput(o -> o.contains("serving the finished run"));
            JsonNode end = waitFor(browser, p -> p.get("status").asText().equals("finished") && p.get("step").asInt() == 5);
            assertThat(end.get("rows")).extracting(JsonNode::asText).containsExactlyElementsOf(expected);
            assertThat(run.stop()).as(run.toString()).isZero();
            assertThat(run.out()).contains("placement explicit", "  node\n");

            JsonNode report = E2e.JSON.readTree(out.resolve("report.json").toFile());
            List<String> placed = new ArrayList<>();
            report.get("placement").forEach(e -> placed.add(e.get("node").asText()));
            assertThat(placed).containsExactlyElementsOf(expected.stream().map(n -> "pekko://pipelab@" + n).toList());
            String trace = Files.readString(out.resolve("trace.json"));
            for (int rank = 0; rank < 4; rank++) assertThat(trace).contains("\"replica 0 rank " + rank + " @ " + expected.get(rank) + "\"");
        }
    }

    /** Probes the page every 250 ms until {@code done} holds, for at most 3 minutes. */
    private static JsonNode waitFor(HeadlessChromium browser, Predicate<JsonNode> done) throws Exception {
        return browser.awaitJson(PROBE, Duration.ofMinutes(3), done);
    }
}
