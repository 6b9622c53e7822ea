package dev.pipelab.observe;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pipelab.monitoring.dashboard.HeadlessChromium;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The live dashboard of a real {@code pipelab run} in a real browser: the 1F1B 4×8 scenario (33 emulated seconds a
 * step) on the wall clock at speed 20, six steps, so about 10 s of wall time; headless Chromium (monitoring's
 * DevTools client) follows the dashboard while the actors run. The run serves on ({@code --serve}) after its last
 * step so that the page never races the end of the run; the test ends the serving by interrupting the run's thread.
 * Without Chromium the test fails when {@code CI} is set and is skipped otherwise.
 */
class DashboardLiveRunIT {

    private static final String PROBE = "JSON.stringify({"
            + "rows: [...document.querySelectorAll('#timeline .row[data-rank]')].map(e => e.dataset.rank),"
            + "util: [...document.querySelectorAll('#util [data-rank] [data-value]')].map(e => e.dataset.value),"
            + "step: Number(document.body?.dataset.step ?? -1),"
            + "status: document.getElementById('status')?.dataset.status ?? 'loading'})";

    @Test
    void timelineHasOneRowPerRankAndTheStepAdvancesWhileTheRunProceeds(@TempDir Path tmp) throws Exception {
        HeadlessChromium.require();
        Files.createDirectories(E2e.TARGET);
        Path screenshot = E2e.TARGET.resolve("dashboard-run.png");
        Files.deleteIfExists(screenshot);
        // the browser first (its start-up is the slow part), then the run, then the page
        try (HeadlessChromium browser = new HeadlessChromium(HeadlessChromium.CHROMIUM, "about:blank", E2e.TARGET.resolve("chromium-run.log"));
             E2e.LiveRun run = new E2e.LiveRun("run", E2e.SCENARIOS.resolve("1f1b-4x8.yaml").toString(),
                     "--clock", "wall", "--speed", "20", "--steps", "6", "--port", "0", "--out", tmp.resolve("out").toString(),
                     "--serve")) {
            browser.navigate(run.dashboard());

            JsonNode first = waitFor(browser, p -> p.get("rows").size() > 0 && p.get("util").size() > 0);
            assertThat(first.get("status").asText()).as("the first read is taken while the run proceeds").isEqualTo("running");
            assertThat(first.get("rows")).extracting(JsonNode::asText).containsExactly("0", "1", "2", "3");
            assertThat(first.get("util")).hasSize(4);

            // pushed over /events while the actors run: a later step (the utilisation may repeat, every step is alike)
            JsonNode later = waitFor(browser, p -> p.get("step").asInt() > first.get("step").asInt() && p.get("util").size() == 4);
            assertThat(later.get("rows")).extracting(JsonNode::asText).containsExactly("0", "1", "2", "3");
            assertThat(later.get("step").asInt()).isGreaterThan(first.get("step").asInt());
            boolean utilisationMoved = !later.get("util").equals(first.get("util"));

            // a few steps in the charts, still running, for the picture
            JsonNode shot = waitFor(browser, p -> p.get("step").asInt() >= 3 || p.get("status").asText().equals("finished"));
            Files.write(screenshot, browser.screenshot());
            assertThat(Files.size(screenshot)).isGreaterThan(10_000);

            run.awaitOutput(o -> o.contains("serving the finished run"));
            JsonNode end = waitFor(browser, p -> p.get("status").asText().equals("finished") && p.get("step").asInt() == 5);
            assertThat(end.get("rows")).hasSize(4);
            assertThat(run.stop()).as(run.toString()).isZero();
            Files.writeString(E2e.TARGET.resolve("dashboard-run.txt"), "first " + first + "\nlater " + later + "\nshot " + shot
                    + "\nend " + end + "\nutilisation moved between the first two reads: " + utilisationMoved + "\n");
        }
        assertThat(E2e.filesIn(tmp.resolve("out"))).containsExactly("report.html", "report.json", "trace.json");
    }

    /** Probes the page every 250 ms until {@code done} holds, for at most 3 minutes. */
    private static JsonNode waitFor(HeadlessChromium browser, Predicate<JsonNode> done) throws Exception {
        return browser.awaitJson(PROBE, Duration.ofMinutes(3), done);
    }
}
