package dev.pipelab.monitoring.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pipelab.monitoring.RunTelemetry;
import dev.pipelab.monitoring.metrics.Metrics;
import dev.pipelab.monitoring.synthetic.LiveFeed;
import dev.pipelab.monitoring.synthetic.StepBuilder;
import dev.pipelab.monitoring.synthetic.SyntheticRun;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DashboardServerTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    @Test
    void servesPageAssetsStateMetricsAndServerSentEventsToTwoClients() throws Exception {
        SyntheticRun run = new SyntheticRun(4, 3, 4, 0.1, 0.3, 2);
        DashboardState state = new DashboardState(run.info());
        Metrics metrics = new Metrics(run.info(), "test");
        try (DashboardServer server = DashboardServer.start(state, metrics, DashboardServer.Options.loopback(0));
             LiveFeed feed = new LiveFeed(run, 100, 1_000, state, metrics)) {
            assertThat(server.port()).isPositive();
            assertThat(server.uri().toString()).isEqualTo("http://127.0.0.1:" + server.port() + "/");

            HttpResponse<String> page = get(server, "/");
            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(page.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
            assertThat(page.body()).contains("id=\"timeline\"").contains("id=\"util\"").contains("/assets/dashboard.js")
                    .doesNotContain("http://").doesNotContain("https://");
            assertThat(get(server, "/assets/dashboard.js").body()).contains("EventSource");
            assertThat(get(server, "/assets/dashboard.css").statusCode()).isEqualTo(200);
            assertThat(get(server, "/assets/..%2Fdashboard.js").statusCode()).isEqualTo(404);
            assertThat(get(server, "/nothing").statusCode()).isEqualTo(404);

            // two clients on /events at once, each gets several state messages while the run proceeds
            try (SseReader a = new SseReader(server, 0); SseReader b = new SseReader(server, 2)) {
                List<JsonNode> fromA = a.read(3);
                List<JsonNode> fromB = b.read(3);
                assertThat(fromA).allSatisfy(s -> assertThat(s.get("gantt").get("replica").asInt()).isZero());
                assertThat(fromB).allSatisfy(s -> assertThat(s.get("gantt").get("replica").asInt()).isEqualTo(2));
                assertThat(fromA.get(2).get("version").asLong()).isGreaterThan(fromA.get(0).get("version").asLong());
                assertThat(server.eventClients()).isEqualTo(2);
            }

            while (feed.stepsDone() < 2) Thread.sleep(20);
            JsonNode st = MAPPER.readTree(get(server, "/api/state?replica=1").body());
            assertThat(st.get("run").get("name").asText()).isEqualTo("synthetic");
            assertThat(st.get("status").asText()).isEqualTo("running");
            assertThat(st.get("ranks")).hasSize(4);
            assertThat(st.get("ranks").get(0).get("utilisation").asDouble()).isBetween(0.01, 1.0);
            assertThat(st.get("ranks").get(0).get("capacityBytes").asLong()).isEqualTo(SyntheticRun.DEVICE_BYTES);
            assertThat(st.get("ranks").get(0).get("peakMemoryBytes").asLong())
                    .isEqualTo(SyntheticRun.STATIC_BYTES + 4 * SyntheticRun.ACTIVATION_BYTES);
            assertThat(st.get("links").get(0).get("link").asText()).isEqualTo("0->1");
            assertThat(st.get("steps").size()).isGreaterThanOrEqualTo(2);
            assertThat(st.get("gantt").get("replica").asInt()).isEqualTo(1);
            JsonNode seg = st.get("gantt").get("segments").get(0);
            assertThat(seg).hasSize(5); // rank, phase, micro-batch, start, end (run seconds)
            assertThat(MAPPER.readTree(get(server, "/api/state?replica=99").body()).get("gantt").get("replica").asInt())
                    .isEqualTo(2);

            HttpResponse<String> scrape = get(server, "/metrics");
            assertThat(scrape.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain; version=0.0.4");
            assertThat(scrape.body()).contains("pipelab_steps_total ").contains("pipelab_stage_busy_seconds_total{");
        }
    }

    @Test
    void theFinishedRunStaysBrowsableUntilStopped() throws Exception {
        SyntheticRun run = new SyntheticRun(3, 1, 3, 0.1, 0.1, 4);
        DashboardState state = new DashboardState(run.info());
        RunTelemetry telemetry = new RunTelemetry(run.info());
        telemetry.addListener(state);
        run.steps(2).forEach(telemetry::emit);
        telemetry.emit(new StepBuilder(run.info(), 2).outOfMemory(0, 1, 1, 0.2, 9, 8).ended(1, 3, 0));
        state.loss(0, 2.5);
        state.loss(1, 2.1);
        state.finish();
        try (DashboardServer server = DashboardServer.start(state, DashboardServer.Options.loopback(0))) {
            JsonNode st = MAPPER.readTree(get(server, "/api/state").body());
            assertThat(st.get("status").asText()).isEqualTo("finished");
            assertThat(st.get("completedSteps").asInt()).isEqualTo(3);
            assertThat(st.get("loss")).hasSize(2);
            assertThat(st.get("faults").get(0).get("kind").asText()).isEqualTo("out of memory");
            assertThat(get(server, "/metrics").statusCode()).isEqualTo(404);
            try (SseReader sse = new SseReader(server, 0)) {
                assertThat(sse.read(1).get(0).get("status").asText()).isEqualTo("finished");
            }
        }
    }

    @Test
    void optionsAreChecked() {
        assertThatThrownBy(() -> new DashboardServer.Options("127.0.0.1", 70000, 300))
                .hasMessage("port must be 0..65535, got 70000");
        assertThatThrownBy(() -> new DashboardServer.Options("127.0.0.1", 0, 0))
                .hasMessage("pushMillis must be > 0, got 0");
    }

    @Test
    void postingAFaultHandsTheEntryToTheInjectorOrSaysWhyNot() throws Exception {
        SyntheticRun run = new SyntheticRun(2, 1, 2, 0.1, 0, 1);
        DashboardState state = new DashboardState(run.info());
        List<Map<String, Object>> injected = new ArrayList<>();
        // a fake injector: refuses stage targets outside the run, takes the rest
        FaultInjector injector = entry -> {
            if ("0/7".equals(entry.get("target"))) return Optional.of("target: rank 7 is outside 0..1");
            injected.add(entry);
            return Optional.empty();
        };
        try (DashboardServer server = DashboardServer.start(state, new Metrics(run.info(), "test"),
                DashboardServer.Options.loopback(0), injector)) {
            assertThat(MAPPER.readTree(get(server, "/api/faults").body()).toString()).isEqualTo("{\"injector\":true}");

            HttpResponse<String> ok = post(server, "application/json",
                    "{\"kind\": \"link.latency\", \"target\": \"0/0->1\", \"atStep\": 3, \"durationSeconds\": 2.5, \"seconds\": 0.01}");
            assertThat(ok.statusCode()).isEqualTo(202);
            assertThat(MAPPER.readTree(ok.body()).get("status").asText()).isEqualTo("accepted");
            assertThat(injected).singleElement().satisfies(e -> {
                assertThat(e).containsEntry("kind", "link.latency").containsEntry("target", "0/0->1").containsEntry("atStep", 3)
                        .containsEntry("durationSeconds", 2.5).containsEntry("seconds", 0.01);
            });

            // the injector's refusal, with its reason; nothing was injected
            HttpResponse<String> refused = post(server, "application/json", "{\"kind\": \"stage.crash\", \"target\": \"0/7\"}");
            assertThat(refused.statusCode()).isEqualTo(400);
            assertThat(MAPPER.readTree(refused.body()).get("error").asText()).isEqualTo("target: rank 7 is outside 0..1");

            // bodies that are not one JSON object never reach the injector
            HttpResponse<String> broken = post(server, "application/json", "{\"kind\": ");
            assertThat(broken.statusCode()).isEqualTo(400);
            assertThat(MAPPER.readTree(broken.body()).get("error").asText()).startsWith("body: not valid JSON at line 1, column");
            HttpResponse<String> array = post(server, "application/json", "[1, 2]");
            assertThat(array.statusCode()).isEqualTo(400);
            assertThat(MAPPER.readTree(array.body()).get("error").asText())
                    .isEqualTo("body: expected a JSON object (a scenario faults: entry), got array");
            HttpResponse<String> twice = post(server, "application/json", "{\"kind\": \"a\", \"kind\": \"b\"}");
            assertThat(twice.statusCode()).isEqualTo(400);
            assertThat(MAPPER.readTree(twice.body()).get("error").asText()).contains("Duplicate field 'kind'");
            HttpResponse<String> plain = post(server, "text/plain", "{\"kind\": \"stage.crash\", \"target\": \"0/1\"}");
            assertThat(plain.statusCode()).isEqualTo(415);
            assertThat(injected).hasSize(1);

            HttpResponse<String> delete = client.send(HttpRequest.newBuilder(server.uri().resolve("/api/faults"))
                    .DELETE().build(), HttpResponse.BodyHandlers.ofString());
            assertThat(delete.statusCode()).isEqualTo(405);
            assertThat(delete.headers().firstValue("Allow")).hasValue("GET, HEAD, POST");
        }
    }

    @Test
    void aRunWithoutAnInjectorAnswersConflictWithTheReason() throws Exception {
        SyntheticRun run = new SyntheticRun(2, 1, 2, 0.1, 0, 1);
        try (DashboardServer server = DashboardServer.start(new DashboardState(run.info()), DashboardServer.Options.loopback(0))) {
            JsonNode info = MAPPER.readTree(get(server, "/api/faults").body());
            assertThat(info.get("injector").asBoolean()).isFalse();
            assertThat(info.get("reason").asText()).isEqualTo(DashboardServer.NO_INJECTOR);
            HttpResponse<String> r = post(server, "application/json", "{\"kind\": \"stage.crash\", \"target\": \"0/1\"}");
            assertThat(r.statusCode()).isEqualTo(409);
            assertThat(MAPPER.readTree(r.body()).get("error").asText()).startsWith("this run takes no live faults");
        }
    }

    private HttpResponse<String> post(DashboardServer server, String contentType, String body) throws IOException, InterruptedException {
        return client.send(HttpRequest.newBuilder(server.uri().resolve("/api/faults")).timeout(Duration.ofSeconds(30))
                .header("Content-Type", contentType).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(DashboardServer server, String path) throws IOException, InterruptedException {
        return client.send(HttpRequest.newBuilder(server.uri().resolve(path)).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** Reads {@code event: state} messages from {@code /events}. */
    private static final class SseReader implements AutoCloseable {
        private final HttpURLConnection connection;
        private final BufferedReader reader;

        SseReader(DashboardServer server, int replica) throws IOException {
            connection = (HttpURLConnection) server.uri().resolve("/events?replica=" + replica).toURL().openConnection();
            connection.setReadTimeout(30_000);
            assertThat(connection.getResponseCode()).isEqualTo(200);
            assertThat(connection.getContentType()).startsWith("text/event-stream");
            reader = new BufferedReader(new InputStreamReader(connection.getInputStream(), StandardCharsets.UTF_8));
        }

        List<JsonNode> read(int messages) throws IOException {
            List<JsonNode> out = new ArrayList<>();
            String event = null;
            while (out.size() < messages) {
                String line = reader.readLine();
                if (line == null) throw new IOException("stream ended after " + out.size() + " messages");
                if (line.startsWith("event: ")) event = line.substring(7);
                if (line.startsWith("data: ") && "state".equals(event)) out.add(MAPPER.readTree(line.substring(6)));
            }
            return out;
        }

        @Override
        public void close() {
            connection.disconnect();
        }
    }
}
