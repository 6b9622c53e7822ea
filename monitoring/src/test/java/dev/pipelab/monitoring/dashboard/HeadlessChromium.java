package dev.pipelab.monitoring.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.abort;

/**
 * A headless Chromium showing one page, driven over the DevTools protocol (a WebSocket; no driver to download).
 * Invariant: one browser process per instance, stopped by {@link #close()}; every call waits at most 60 s. Public for
 * the actors module's end-to-end tests (this module's test-jar).
 */
public final class HeadlessChromium implements AutoCloseable {

    /** The browser: {@code PIPELAB_CHROMIUM}, else Debian's {@code /usr/bin/chromium}. */
    public static final Path CHROMIUM = Path.of(System.getenv().getOrDefault("PIPELAB_CHROMIUM", "/usr/bin/chromium"));

    /**
     * Returns when {@link #CHROMIUM} can run; otherwise fails the test when {@code CI} is set (a browser test must not
     * pass unseen there) and skips it, saying why and how to install it, when it is not.
     */
    public static void require() {
        if (Files.isExecutable(CHROMIUM)) return;
        String message = "Chromium not found at " + CHROMIUM + " (Debian: apt-get install -y chromium)";
        if (System.getenv("CI") != null) fail(message + "; CI is set, so this is a failure, not a skip");
        abort(message + "; skipped because CI is not set");
    }

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final Pattern LISTENING = Pattern.compile("DevTools listening on (ws://[^\\s]+)");

    /** The flags this closed network needs (no background fetches), plus those of a container (no sandbox, no GPU). */
    static final List<String> FLAGS = List.of("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage");

    private final Process process;
    private final WebSocket socket;
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();

    public HeadlessChromium(Path chromium, String url, Path log) throws Exception {
        Path profile = Files.createTempDirectory("pipelab-chromium");
        List<String> cmd = new ArrayList<>();
        cmd.add(chromium.toString());
        cmd.addAll(FLAGS);
        cmd.addAll(List.of("--user-data-dir=" + profile, "--remote-debugging-port=0", "--window-size=1280,900", url));
        process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            socket = connect(log);
        } catch (Exception e) {
            process.destroyForcibly();
            throw e;
        }
    }

    private WebSocket connect(Path log) throws Exception {
        CompletableFuture<String> browserUrl = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
                 PrintWriter out = new PrintWriter(Files.newBufferedWriter(log))) {
                for (String line; (line = in.readLine()) != null; ) {
                    out.println(line);
                    out.flush();
                    Matcher m = LISTENING.matcher(line);
                    if (m.find()) browserUrl.complete(m.group(1));
                }
            } catch (IOException e) {
                browserUrl.completeExceptionally(e);
            }
            browserUrl.completeExceptionally(new IOException("Chromium exited before listening; see " + log));
        }, "chromium-output");
        reader.setDaemon(true);
        reader.start();
        URI browser = URI.create(browserUrl.get(60, TimeUnit.SECONDS));
        HttpClient http = HttpClient.newHttpClient();
        URI list = URI.create("http://" + browser.getHost() + ":" + browser.getPort() + "/json/list");
        String pageSocket = null;
        for (long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60); pageSocket == null; Thread.sleep(200)) {
            if (System.nanoTime() > deadline) throw new IOException("no page target in " + list);
            JsonNode targets = MAPPER.readTree(http.send(HttpRequest.newBuilder(list).build(),
                    HttpResponse.BodyHandlers.ofString()).body());
            for (JsonNode t : targets) {
                if (t.path("type").asText().equals("page") && t.has("webSocketDebuggerUrl")) {
                    pageSocket = t.get("webSocketDebuggerUrl").asText();
                }
            }
        }
        return http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(30))
                .buildAsync(URI.create(pageSocket), new Listener()).get(60, TimeUnit.SECONDS);
    }

    private final class Listener implements WebSocket.Listener {
        private final StringBuilder text = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                try {
                    JsonNode msg = MAPPER.readTree(text.toString());
                    if (msg.has("id")) {
                        CompletableFuture<JsonNode> f = pending.remove(msg.get("id").asInt());
                        if (f != null) f.complete(msg);
                    }
                } catch (IOException e) {
                    pending.values().forEach(f -> f.completeExceptionally(e));
                }
                text.setLength(0);
            }
            webSocket.request(1);
            return null;
        }
    }

    /** Loads {@code url} in the page. */
    public void navigate(URI url) throws Exception {
        call("Page.navigate", MAPPER.createObjectNode().put("url", url.toString()));
    }

    /** Calls a DevTools method and returns its {@code result}. */
    public JsonNode call(String method, ObjectNode params) throws Exception {
        int id = ids.incrementAndGet();
        CompletableFuture<JsonNode> reply = new CompletableFuture<>();
        pending.put(id, reply);
        ObjectNode msg = MAPPER.createObjectNode().put("id", id).put("method", method);
        msg.set("params", params);
        socket.sendText(MAPPER.writeValueAsString(msg), true).get(60, TimeUnit.SECONDS);
        JsonNode answer = reply.get(60, TimeUnit.SECONDS);
        if (answer.has("error")) throw new IOException(method + ": " + answer.get("error"));
        return answer.get("result");
    }

    /** Evaluates a JavaScript expression that returns a JSON string in the page, and parses it. */
    public JsonNode evaluateJson(String expression) throws Exception {
        JsonNode result = call("Runtime.evaluate", MAPPER.createObjectNode().put("expression", expression)
                .put("returnByValue", true)).get("result");
        if (!result.path("type").asText().equals("string")) throw new IOException("not a JSON string: " + result);
        return MAPPER.readTree(result.get("value").asText());
    }

    /**
     * Evaluates {@code expression} (as {@link #evaluateJson}) every 250 ms until {@code done} holds of its value, for at
     * most {@code within}, and returns that value; an evaluation that fails counts as "not yet" (the page is still
     * loading, e.g. about:blank, or mid-navigation).
     */
    public JsonNode awaitJson(String expression, Duration within, Predicate<JsonNode> done) throws Exception {
        long deadline = System.nanoTime() + within.toNanos();
        Object last = null;
        while (System.nanoTime() < deadline) {
            try {
                JsonNode probe = evaluateJson(expression);
                last = probe;
                if (done.test(probe)) return probe;
            } catch (IOException e) {
                last = e.getMessage();
            }
            Thread.sleep(250);
        }
        throw new AssertionError("the page did not get there within " + within.toSeconds() + " s; last probe: " + last);
    }

    /** A PNG of the viewport. */
    public byte[] screenshot() throws Exception {
        JsonNode result = call("Page.captureScreenshot", MAPPER.createObjectNode().put("format", "png"));
        return Base64.getDecoder().decode(result.get("data").asText());
    }

    /** The browser's version line, e.g. {@code Chrome/131.0.6778.85}. */
    public String version() throws Exception {
        return call("Browser.getVersion", MAPPER.createObjectNode()).path("product").asText();
    }

    @Override
    public void close() throws InterruptedException {
        if (socket != null) socket.abort();
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
}
