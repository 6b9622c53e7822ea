package dev.pipelab.monitoring.dashboard;

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
 * serving the final state after the run ends until {@link #close()}.
 *
 * <p>Endpoints: {@code /} the page; {@code /assets/NAME} static files from the classpath
 * ({@code dev/pipelab/dashboard/}); {@code /metrics} Prometheus text; {@code /api/state?replica=N} the JSON
 * snapshot; {@code /events?replica=N} server-sent events, one {@code state} message with the snapshot whenever it
 * changed, checked every {@code pushMillis} and at each step end (at most every 100 ms), plus a comment line every 15 s as keep-alive.
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

    private final DashboardState state;
    private final Optional<Metrics> metrics;
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

    private DashboardServer(DashboardState state, Optional<Metrics> metrics, Options options) throws IOException {
        this.state = Objects.requireNonNull(state, "state");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
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
        return new DashboardServer(state, Optional.of(metrics), options);
    }

    /** Starts serving {@code state} without metrics ({@code /metrics} answers 404). */
    public static DashboardServer start(DashboardState state, Options options) throws IOException {
        return new DashboardServer(state, Optional.empty(), options);
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
