package dev.pipelab.monitoring.dashboard;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.pipelab.monitoring.metrics.Metrics;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

/**
 * The live dashboard over the JDK's HTTP server. Invariant: it only reads — every response is a snapshot of the
 * {@link DashboardState} or a scrape of the {@link Metrics}, so it never slows or changes the run, and it keeps
 * serving the final state after the run ends until {@link #close()} — except {@code POST /api/faults}, which hands a
 * fault entry to the run's {@link FaultInjector}, when it has one.
 *
 * <p>Endpoints: {@code /} the page; {@code /assets/NAME} static files from the classpath
 * ({@code dev/pipelab/dashboard/}); {@code /metrics} Prometheus text; {@code /api/state?replica=N} the JSON
 * snapshot; {@code /events?replica=N} server-sent events, one {@code state} message with the snapshot whenever it
 * changed, checked every {@code pushMillis} and at each step end (at most every 100 ms), plus a comment line every 15 s as keep-alive;
 * {@code /api/faults}: {@code GET} says whether faults can be injected ({@code {"injector":true}}, or {@code false} with
 * the {@code reason}); {@code POST} with a JSON object (a scenario {@code faults:} entry, {@code Content-Type:
 * application/json}) injects it: 202 when the injector took it, 400 {@code {"error": reason}} for a body that is not a
 * JSON object or an entry the injector refuses (nothing changes), 409 when the run has no injector (virtual time),
 * 415 for another content type (which also keeps other web sites' plain form posts out: a cross-site JSON post needs a
 * CORS preflight, which this server never grants).
 *
 * <pre>
 * DashboardServer server = DashboardServer.start(state, metrics, DashboardServer.Options.loopback(port));
 * server.uri();   // http://127.0.0.1:PORT/
 * server.close(); // at the end of the program, not of the run
 * </pre>
 */
public final class DashboardServer implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(DashboardServer.class.getName());
    private static final String ASSETS = "dev/pipelab/dashboard/";
    private static final Pattern ASSET_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");
    private static final long KEEP_ALIVE_MILLIS = 15_000;

    /**
     * Where and how to serve. Invariant: {@code port} is 0..65535 (0 = any free port) and {@code pushMillis} > 0.
     *
     * @param bindAddress the address to bind; anything but loopback is logged as a warning
     */
    public record Options(String bindAddress, int port, long pushMillis) {
        public Options {
            Objects.requireNonNull(bindAddress, "bindAddress");
            if (port < 0 || port > 65535) throw new IllegalArgumentException("port must be 0..65535, got " + port);
            if (pushMillis <= 0) throw new IllegalArgumentException("pushMillis must be > 0, got " + pushMillis);
        }

        /** 127.0.0.1 on {@code port}, pushing every 300 ms. */
        public static Options loopback(int port) {
            return new Options("127.0.0.1", port, 300);
        }
    }

    /** Why a run without an injector answers 409. */
    static final String NO_INJECTOR = "this run takes no live faults: only a wall-clock run (pipelab run --clock wall --serve) "
            + "can be broken while it runs; give a virtual-time run its faults in the scenario or with --fault";
    /** The largest fault entry read; a scenario entry is a few hundred bytes. */
    private static final int MAX_BODY_BYTES = 64 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private final DashboardState state;
    private final Optional<Metrics> metrics;
    private final Optional<FaultInjector> injector;
    private final HttpServer http;
    private final ExecutorService handlers;
    private final ScheduledExecutorService pusher;
    private final List<Client> clients = new CopyOnWriteArrayList<>();
    private final AtomicBoolean pushQueued = new AtomicBoolean();
    private final AtomicInteger threadCount = new AtomicInteger();
    private static final long MIN_STEP_PUSH_NANOS = 100_000_000L;
    private volatile long lastPushNanos;

    private static final class Client {
        final HttpExchange exchange;
        final OutputStream out;
        final int replica;
        long sentVersion = -1;
        long lastWriteMillis = System.currentTimeMillis();

        Client(HttpExchange exchange, int replica) {
            this.exchange = exchange;
            this.out = exchange.getResponseBody();
            this.replica = replica;
        }
    }

    private DashboardServer(DashboardState state, Optional<Metrics> metrics, Options options, Optional<FaultInjector> injector)
            throws IOException {
        this.state = Objects.requireNonNull(state, "state");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.injector = Objects.requireNonNull(injector, "injector");
        InetAddress address = InetAddress.getByName(options.bindAddress());
        if (!address.isLoopbackAddress()) {
            LOG.log(System.Logger.Level.WARNING, "dashboard bound to " + address.getHostAddress()
                    + ", not loopback: anyone who can reach this address can read the run's state and metrics");
        }
        http = HttpServer.create(new InetSocketAddress(address, options.port()), 0);
        handlers = Executors.newCachedThreadPool(r -> daemon(r, "dashboard-http-" + threadCount.incrementAndGet()));
        pusher = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "dashboard-push"));
        http.setExecutor(handlers);
        http.createContext("/", this::root);
        http.createContext("/assets/", this::asset);
        http.createContext("/metrics", this::metrics);
        http.createContext("/api/state", this::apiState);
        http.createContext("/events", this::events);
        http.createContext("/api/faults", this::apiFaults);
        http.start();
        pusher.scheduleWithFixedDelay(this::push, options.pushMillis(), options.pushMillis(), TimeUnit.MILLISECONDS);
        // a push at each step end, but at most one per MIN_STEP_PUSH_NANOS: a fast virtual-time run ends thousands
        // of steps a second, and snapshots must not compete with it for the state's lock
        state.onStepEnded(step -> {
            if (clients.isEmpty() || System.nanoTime() - lastPushNanos < MIN_STEP_PUSH_NANOS) return;
            if (pushQueued.compareAndSet(false, true)) pusher.execute(this::push);
        });
    }

    /** Starts serving {@code state} and, at {@code /metrics}, {@code metrics}. */
    public static DashboardServer start(DashboardState state, Metrics metrics, Options options) throws IOException {
        return new DashboardServer(state, Optional.of(metrics), options, Optional.empty());
    }

    /** Starts serving {@code state} and {@code metrics}, and takes live faults for {@code injector}. */
    public static DashboardServer start(DashboardState state, Metrics metrics, Options options, FaultInjector injector)
            throws IOException {
        return new DashboardServer(state, Optional.of(metrics), options, Optional.of(Objects.requireNonNull(injector, "injector")));
    }

    /** Starts serving {@code state} without metrics ({@code /metrics} answers 404). */
    public static DashboardServer start(DashboardState state, Options options) throws IOException {
        return new DashboardServer(state, Optional.empty(), options, Optional.empty());
    }

    /** The port actually bound (the free one chosen when the options said 0). */
    public int port() {
        return http.getAddress().getPort();
    }

    /** The page's address, e.g. {@code http://127.0.0.1:8080/}. */
    public URI uri() {
        InetSocketAddress a = http.getAddress();
        String host = a.getAddress().getHostAddress();
        if (host.contains(":")) host = "[" + host + "]";
        return URI.create("http://" + host + ":" + a.getPort() + "/");
    }

    /** Clients currently connected to {@code /events}. */
    public int eventClients() {
        return clients.size();
    }

    /** Stops serving: closes the event streams and the listening socket. */
    @Override
    public void close() {
        pusher.shutdownNow();
        for (Client c : clients) c.exchange.close();
        clients.clear();
        http.stop(0);
        handlers.shutdownNow();
    }

    // ---------------------------------------------------------------- handlers

    private void root(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        if (path.equals("/") || path.equals("/index.html")) {
            serveAsset(ex, "index.html");
        } else {
            send(ex, 404, "text/plain; charset=utf-8", ("not found: " + path + "\n").getBytes(StandardCharsets.UTF_8));
        }
    }

    private void asset(HttpExchange ex) throws IOException {
        String name = ex.getRequestURI().getPath().substring("/assets/".length());
        if (!ASSET_NAME.matcher(name).matches()) {
            send(ex, 404, "text/plain; charset=utf-8", "not found\n".getBytes(StandardCharsets.UTF_8));
            return;
        }
        serveAsset(ex, name);
    }

    private void serveAsset(HttpExchange ex, String name) throws IOException {
        try (InputStream in = DashboardServer.class.getClassLoader().getResourceAsStream(ASSETS + name)) {
            if (in == null) {
                send(ex, 404, "text/plain; charset=utf-8", ("no asset " + name + "\n").getBytes(StandardCharsets.UTF_8));
                return;
            }
            send(ex, 200, contentType(name), in.readAllBytes());
        }
    }

    private void metrics(HttpExchange ex) throws IOException {
        if (metrics.isEmpty()) {
            send(ex, 404, "text/plain; charset=utf-8", "no metrics in this dashboard\n".getBytes(StandardCharsets.UTF_8));
            return;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        metrics.get().writeTo(out);
        send(ex, 200, metrics.get().contentType(), out.toByteArray());
    }

    private void apiState(HttpExchange ex) throws IOException {
        send(ex, 200, "application/json", state.snapshotJson(replica(ex)).getBytes(StandardCharsets.UTF_8));
    }

    private void apiFaults(HttpExchange ex) throws IOException {
        String method = ex.getRequestMethod();
        if (method.equals("GET") || method.equals("HEAD")) {
            ObjectNode o = JSON.createObjectNode().put("injector", injector.isPresent());
            if (injector.isEmpty()) o.put("reason", NO_INJECTOR);
            json(ex, 200, o);
            return;
        }
        if (!method.equals("POST")) {
            ex.getResponseHeaders().set("Allow", "GET, HEAD, POST");
            json(ex, 405, error("method " + method + " not allowed: GET tells whether faults can be injected, POST injects one"));
            return;
        }
        if (injector.isEmpty()) {
            json(ex, 409, error(NO_INJECTOR));
            return;
        }
        String type = ex.getRequestHeaders().getFirst("Content-Type");
        if (type == null || !type.toLowerCase(Locale.ROOT).startsWith("application/json")) {
            json(ex, 415, error("body: expected Content-Type application/json, got " + type));
            return;
        }
        byte[] body;
        try (InputStream in = ex.getRequestBody()) {
            body = in.readNBytes(MAX_BODY_BYTES + 1);
        }
        if (body.length > MAX_BODY_BYTES) {
            json(ex, 400, error("body: larger than " + MAX_BODY_BYTES + " bytes; a fault entry is a small JSON object"));
            return;
        }
        Map<String, Object> entry;
        try {
            JsonNode tree = JSON.readTree(body);
            if (tree == null || !tree.isObject()) {
                json(ex, 400, error("body: expected a JSON object (a scenario faults: entry), got "
                        + (tree == null ? "nothing" : tree.getNodeType().name().toLowerCase(Locale.ROOT))));
                return;
            }
            entry = JSON.convertValue(tree, new TypeReference<Map<String, Object>>() {});
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            json(ex, 400, error("body: not valid JSON" + (at == null ? "" : " at line " + at.getLineNr() + ", column "
                    + at.getColumnNr()) + ": " + e.getOriginalMessage().lines().findFirst().orElse("")));
            return;
        }
        Optional<String> refused;
        try {
            refused = injector.get().inject(entry);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "the fault injector failed on " + entry, e);
            json(ex, 500, error("the fault injector failed: " + e));
            return;
        }
        if (refused.isPresent()) {
            json(ex, 400, error(refused.get()));
        } else {
            json(ex, 202, JSON.createObjectNode().put("status", "accepted"));
        }
    }

    private static ObjectNode error(String reason) {
        return JSON.createObjectNode().put("error", reason);
    }

    private static void json(HttpExchange ex, int status, ObjectNode body) throws IOException {
        send(ex, status, "application/json", JSON.writeValueAsBytes(body));
    }

    private void events(HttpExchange ex) throws IOException {
        ex.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
        ex.getResponseHeaders().set("Cache-Control", "no-cache");
        ex.getResponseHeaders().set("X-Accel-Buffering", "no");
        ex.sendResponseHeaders(200, 0);
        Client c = new Client(ex, replica(ex));
        synchronized (c) {
            c.out.write("retry: 1000\n\n".getBytes(StandardCharsets.UTF_8));
            c.out.flush();
        }
        clients.add(c);
        pusher.execute(this::push); // a new client gets the state at once
        // the handler returns; the exchange stays open and the pusher writes to it
    }

    /** Sends each client the snapshot of its replica when it changed; one snapshot per replica per round. */
    private void push() {
        pushQueued.set(false);
        lastPushNanos = System.nanoTime();
        long version = state.version();
        Map<Integer, byte[]> payloads = new HashMap<>();
        long now = System.currentTimeMillis();
        for (Client c : clients) {
            try {
                synchronized (c) {
                    if (c.sentVersion != version) {
                        byte[] msg = payloads.computeIfAbsent(c.replica, r ->
                                ("event: state\ndata: " + state.snapshotJson(r) + "\n\n").getBytes(StandardCharsets.UTF_8));
                        c.out.write(msg);
                        c.out.flush();
                        c.sentVersion = version;
                        c.lastWriteMillis = now;
                    } else if (now - c.lastWriteMillis >= KEEP_ALIVE_MILLIS) {
                        c.out.write(": keep-alive\n\n".getBytes(StandardCharsets.UTF_8));
                        c.out.flush();
                        c.lastWriteMillis = now;
                    }
                }
            } catch (IOException | RuntimeException e) {
                // the browser went away
                clients.remove(c);
                c.exchange.close();
            }
        }
    }

    // ---------------------------------------------------------------- helpers

    private static int replica(HttpExchange ex) {
        String query = ex.getRequestURI().getRawQuery();
        if (query == null) return 0;
        for (String part : query.split("&")) {
            if (part.startsWith("replica=")) {
                try {
                    return Integer.parseInt(part.substring("replica=".length()));
                } catch (NumberFormatException e) {
                    return 0;
                }
            }
        }
        return 0;
    }

    private static void send(HttpExchange ex, int status, String contentType, byte[] body) throws IOException {
        ex.getResponseHeaders().set("Content-Type", contentType);
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        if (ex.getRequestMethod().equals("HEAD")) {
            ex.sendResponseHeaders(status, -1);
        } else {
            ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        }
        ex.close();
    }

    private static String contentType(String name) {
        if (name.endsWith(".html")) return "text/html; charset=utf-8";
        if (name.endsWith(".js")) return "text/javascript; charset=utf-8";
        if (name.endsWith(".css")) return "text/css; charset=utf-8";
        if (name.endsWith(".svg")) return "image/svg+xml";
        if (name.endsWith(".json")) return "application/json";
        return "application/octet-stream";
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }
}
