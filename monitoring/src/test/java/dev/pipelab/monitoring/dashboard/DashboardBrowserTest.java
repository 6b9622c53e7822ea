package dev.pipelab.monitoring.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pipelab.monitoring.Event;
import dev.pipelab.monitoring.RunTelemetry;
import dev.pipelab.monitoring.metrics.Metrics;
import dev.pipelab.monitoring.synthetic.LiveFeed;
import dev.pipelab.monitoring.synthetic.SyntheticRun;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The dashboard in a real browser: headless Chromium, driven over the DevTools protocol, follows {@code /events} of a
 * live synthetic run (a step every ~300 ms). Without Chromium the test fails when {@code CI} is set and is skipped
 * otherwise. Waits are generous polls, never exact timings, so two busy cores do not make it flaky.
 */
class DashboardBrowserTest {


    /** What the test reads from the page: the timeline's rows, the utilisation values, the step and status. */
    private static final String PROBE = "JSON.stringify({"
            + "rows: [...document.querySelectorAll('#timeline .row[data-rank]')].map(e => e.dataset.rank),"
            + "util: [...document.querySelectorAll('#util [data-rank] [data-value]')].map(e => e.dataset.value),"
            + "memory: document.querySelectorAll('#memory [data-rank]').length,"
            + "links: document.querySelectorAll('#links [data-link]').length,"
            + "faults: document.querySelectorAll('#faults [data-fault]').length,"
            + "step: Number(document.body?.dataset.step ?? -1),"
            + "status: document.getElementById('status')?.dataset.status ?? 'loading'})";

    @Test
    void timelineHasOneRowPerRankAndUtilisationMovesWhileTheRunProceeds() throws Exception {
        HeadlessChromium.require();
        SyntheticRun run = new SyntheticRun(6, 2, 6, 0.05, 0.6, 21);
        DashboardState state = new DashboardState(run.info());
        Metrics metrics = new Metrics(run.info(), "browser-test");
        Path target = Path.of("target").toAbsolutePath();
        Files.createDirectories(target);
        // a fault before the first step, as the run's telemetry reports one
        RunTelemetry faults = new RunTelemetry(run.info());
        faults.addListener(state);
        faults.emit(new Event.FaultInjected(0, 0.5, 0, "link.latency", "0/2->3", "link.latency 0/2->3 at=0+0.5"));
        try (DashboardServer server = DashboardServer.start(state, metrics, DashboardServer.Options.loopback(0));
             LiveFeed feed = new LiveFeed(run, 300, 100_000, state, metrics);
             HeadlessChromium browser = new HeadlessChromium(HeadlessChromium.CHROMIUM, server.uri().toString(),
                     target.resolve("chromium.log"))) {
            JsonNode first = waitFor(browser, p -> p.get("rows").size() > 0 && p.get("step").asInt() >= 0);
            assertThat(first.get("rows")).extracting(JsonNode::asText).containsExactly("0", "1", "2", "3", "4", "5");
            assertThat(first.get("util")).hasSize(6);
            assertThat(first.get("memory").asInt()).isEqualTo(6);
            assertThat(first.get("links").asInt()).isEqualTo(10); // 5 forward and 5 backward links
            assertThat(first.get("faults").asInt()).isEqualTo(1);
            // no injector (as a virtual-time run): the form is disabled and says why
            JsonNode form = browser.awaitJson(FAULTS, Duration.ofSeconds(90), p -> p.get("disabled").asBoolean());
            assertThat(form.get("result").asText()).isEqualTo(DashboardServer.NO_INJECTOR);
            assertThat(form.get("listed")).hasSize(1);
            assertThat(first.get("status").asText()).isEqualTo("running");
            assertThat(server.eventClients()).isPositive(); // the page follows /events (a reconnect may briefly add one)

            // pushed over /events, without reloading: a later step with other utilisation values
            JsonNode later = waitFor(browser, p -> p.get("step").asInt() > first.get("step").asInt()
                    && !p.get("util").equals(first.get("util")));
            assertThat(later.get("rows")).hasSize(6);
            assertThat(later.get("util")).hasSize(6).isNotEqualTo(first.get("util"));

            waitFor(browser, p -> p.get("step").asInt() >= 4); // a few steps in the charts before the picture
            Files.write(target.resolve("dashboard.png"), browser.screenshot());
            assertThat(Files.size(target.resolve("dashboard.png"))).isGreaterThan(10_000);
            Files.writeString(target.resolve("chromium-version.txt"), browser.version() + "\n");
        }
    }

    /** What the test reads of the faults panel and the injection form. */
    private static final String FAULTS = "JSON.stringify({"
            + "listed: [...document.querySelectorAll('#fault-list [data-index]')].map(e => e.textContent),"
            + "goodput: document.getElementById('goodput')?.textContent ?? '',"
            + "disabled: document.getElementById('inject-submit')?.disabled ?? true,"
            + "targets: [...document.querySelectorAll('#inject-target option')].map(o => o.value),"
            + "result: document.getElementById('inject-result')?.textContent ?? ''})";

    @Test
    void theFormInjectsAFaultOnAChosenLinkAndThePanelListsIt() throws Exception {
        HeadlessChromium.require();
        SyntheticRun run = new SyntheticRun(3, 2, 3, 0.05, 0.2, 5);
        DashboardState state = new DashboardState(run.info());
        Metrics metrics = new Metrics(run.info(), "browser-test");
        RunTelemetry faults = new RunTelemetry(run.info());
        faults.addListener(state);
        List<Map<String, Object>> entries = new CopyOnWriteArrayList<>();
        FaultInjector injector = entry -> {
            entries.add(entry);
            faults.emit(new Event.FaultInjected(0, 1.0, entries.size() - 1, (String) entry.get("kind"), (String) entry.get("target"),
                    entry.get("kind") + " " + entry.get("target")));
            return Optional.empty();
        };
        Path target = Path.of("target").toAbsolutePath();
        Files.createDirectories(target);
        try (DashboardServer server = DashboardServer.start(state, metrics, DashboardServer.Options.loopback(0), injector);
             LiveFeed feed = new LiveFeed(run, 200, 100_000, state, metrics);
             HeadlessChromium browser = new HeadlessChromium(HeadlessChromium.CHROMIUM, server.uri().toString(),
                     target.resolve("chromium-faults.log"))) {
            JsonNode ready = browser.awaitJson(FAULTS, Duration.ofSeconds(90), p -> p.get("targets").size() > 0);
            assertThat(ready.get("disabled").asBoolean()).isFalse();
            assertThat(ready.get("targets")).extracting(JsonNode::asText).contains("0/0", "1/2"); // stage targets of stage.crash
            browser.evaluateJson("(() => { const k = document.getElementById('inject-kind'); k.value = 'link.latency';"
                    + " k.dispatchEvent(new Event('change'));"
                    + " document.getElementById('inject-target').value = '1/1->2';"
                    + " document.getElementById('inject-duration').value = '2.5';"
                    + " document.getElementById('inject-param').value = '0.01';"
                    + " document.getElementById('inject').requestSubmit(); return JSON.stringify(1); })()");
            // the live feed can list the fault before the POST's answer replaces "sending…": wait for both
            JsonNode after = browser.awaitJson(FAULTS, Duration.ofSeconds(90),
                    p -> p.get("listed").size() == 1 && !p.get("result").asText().equals("sending…"));
            assertThat(after.get("result").asText()).isEqualTo("injected: link.latency 1/1->2");
            assertThat(after.get("listed").get(0).asText()).startsWith("#0 link.latency 1/1->2 · injected 1.000 s");
            assertThat(entries).singleElement().satisfies(e -> assertThat(e).containsEntry("kind", "link.latency")
                    .containsEntry("target", "1/1->2").containsEntry("durationSeconds", 2.5).containsEntry("seconds", 0.01)
                    .doesNotContainKey("atStep"));
        }
    }

    /** Probes the page every 250 ms until {@code done} holds, for at most 90 s. */
    private static JsonNode waitFor(HeadlessChromium browser, Predicate<JsonNode> done) throws Exception {
        return browser.awaitJson(PROBE, Duration.ofSeconds(90), done);
    }
}
