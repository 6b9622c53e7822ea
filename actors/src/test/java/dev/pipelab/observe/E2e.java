package dev.pipelab.observe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pipelab.cli.Main;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.fail;

/**
 * Shared pieces of the end-to-end tests of {@code pipelab run}: the CLI in-process (blocking, or on a thread of its
 * own whose output can be polled), and monitoring's test helpers {@code HeadlessChromium} and {@code PromText}, taken
 * from monitoring's test-jar. Those two are package-private there, so they are reached by reflection rather than copied.
 * Invariant: every wait has a deadline (minutes, not seconds: two busy cores must not make a test flaky).
 */
final class E2e {

    static final ObjectMapper JSON = new ObjectMapper();
    /** The shipped scenarios (failsafe runs in the actors module). */
    static final Path SCENARIOS = Path.of("..", "scenarios").toAbsolutePath().normalize();
    static final Path TARGET = Path.of("target").toAbsolutePath();
    static final Path CHROMIUM = Path.of(System.getenv().getOrDefault("PIPELAB_CHROMIUM", "/usr/bin/chromium"));
    static final Duration LONG = Duration.ofMinutes(3);

    private E2e() {}

    /** What a finished CLI call printed. */
    record Result(int code, String out, String err) {
        @Override
        public String toString() {
            return "exit " + code + "\n--- stdout\n" + out + "\n--- stderr\n" + err;
        }
    }

    /** {@code pipelab ARGS} in this JVM, to completion. */
    static Result pipelab(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Result(code, out.toString(), err.toString());
    }

    /** Files left in {@code dir} (recursively), relative names; empty when it does not exist. */
    static List<String> filesIn(Path dir) throws IOException {
        if (!Files.exists(dir)) return List.of();
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString()).sorted().toList();
        }
    }

    /**
     * {@code pipelab ARGS} on a daemon thread; its stdout and stderr can be read at any time (a {@link StringWriter}
     * is synchronized). With {@code --serve} the run keeps serving its dashboard until {@link #stop()}.
     */
    static final class LiveRun implements AutoCloseable {
        private static final Pattern DASHBOARD = Pattern.compile("dashboard (http://\\S+/)");
        private final StringWriter out = new StringWriter();
        private final StringWriter err = new StringWriter();
        private final CompletableFuture<Integer> exit = new CompletableFuture<>();
        private final Thread thread;

        LiveRun(String... args) {
            thread = new Thread(() -> {
                try {
                    exit.complete(Main.execute(new PrintWriter(out, true), new PrintWriter(err, true), args));
                } catch (Throwable t) {
                    exit.completeExceptionally(t);
                }
            }, "pipelab-run");
            thread.setDaemon(true);
            thread.start();
        }

        String out() { return out.toString(); }

        String err() { return err.toString(); }

        boolean done() { return exit.isDone(); }

        /** The dashboard's address, from the run's first lines. */
        URI dashboard() throws InterruptedException {
            long deadline = System.nanoTime() + LONG.toNanos();
            while (System.nanoTime() < deadline) {
                Matcher m = DASHBOARD.matcher(out());
                if (m.find()) return URI.create(m.group(1));
                if (done()) fail("the run ended without announcing its dashboard:\n" + this);
                Thread.sleep(50);
            }
            throw new AssertionError("no dashboard line within " + LONG + ":\n" + this);
        }

        /** Waits until {@code stdout} satisfies {@code done}, e.g. the summary of a finished run. */
        void awaitOutput(Predicate<String> done) throws InterruptedException {
            long deadline = System.nanoTime() + LONG.toNanos();
            while (System.nanoTime() < deadline) {
                if (done.test(out())) return;
                if (this.done()) {
                    if (done.test(out())) return;
                    fail("the run ended first:\n" + this);
                }
                Thread.sleep(50);
            }
            throw new AssertionError("the run's output did not get there within " + LONG + ":\n" + this);
        }

        /** Ends a {@code --serve} (an interrupt ends serving) and returns the exit code. */
        int stop() throws Exception {
            thread.interrupt();
            return exitCode();
        }

        /** The exit code, waiting for the run to end. */
        int exitCode() throws Exception {
            return exit.get(LONG.toSeconds(), TimeUnit.SECONDS);
        }

        @Override
        public void close() throws Exception {
            if (!done()) stop();
        }

        @Override
        public String toString() {
            return "--- stdout\n" + out() + "\n--- stderr\n" + err();
        }
    }

    /** A GET of {@code uri}'s body, or an exception. */
    static String get(HttpClient http, URI uri) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) throw new IOException(uri + ": HTTP " + r.statusCode());
        return r.body();
    }

    /** Fails when Chromium is missing and {@code CI} is set; skips the test otherwise. */
    static void requireChromium() {
        if (Files.isExecutable(CHROMIUM)) return;
        String message = "Chromium not found at " + CHROMIUM + " (Debian: apt-get install -y chromium)";
        if (System.getenv("CI") != null) fail(message + "; CI is set, so this is a failure, not a skip");
        Assumptions.abort(message + "; skipped because CI is not set");
    }

    // ------------------------------------------------------------------ monitoring's test helpers, by reflection

    private static Object invoke(Method m, Object target, Object... args) throws Exception {
        try {
            return m.invoke(target, args);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof Exception ex) throw ex;
            if (e.getCause() instanceof Error er) throw er;
            throw e;
        }
    }

    private static Method method(Class<?> c, String name, Class<?>... types) throws NoSuchMethodException {
        Method m = c.getDeclaredMethod(name, types);
        m.setAccessible(true);
        return m;
    }

    /** monitoring's {@code HeadlessChromium}: one headless browser driven over the DevTools protocol. */
    static final class Browser implements AutoCloseable {
        private final Object impl;
        private final Method call;
        private final Method evaluateJson;
        private final Method screenshot;
        private final Method close;

        Browser(String url, Path log) throws Exception {
            Class<?> c = Class.forName("dev.pipelab.monitoring.dashboard.HeadlessChromium");
            Constructor<?> make = c.getDeclaredConstructor(Path.class, String.class, Path.class);
            make.setAccessible(true);
            try {
                impl = make.newInstance(CHROMIUM, url, log);
            } catch (InvocationTargetException e) {
                throw e.getCause() instanceof Exception ex ? ex : e;
            }
            call = method(c, "call", String.class, ObjectNode.class);
            evaluateJson = method(c, "evaluateJson", String.class);
            screenshot = method(c, "screenshot");
            close = method(c, "close");
        }

        /** Loads {@code url} in the page. */
        void navigate(URI url) throws Exception {
            invoke(call, impl, "Page.navigate", JSON.createObjectNode().put("url", url.toString()));
        }

        JsonNode evaluateJson(String expression) throws Exception {
            return (JsonNode) invoke(evaluateJson, impl, expression);
        }

        byte[] screenshot() throws Exception {
            return (byte[]) invoke(screenshot, impl);
        }

        @Override
        public void close() throws Exception {
            invoke(close, impl);
        }
    }

    /** One sample of a Prometheus text exposition. */
    record Sample(String name, Map<String, String> labels, double value) {}

    /** A scrape parsed by monitoring's {@code PromText}: the samples and each family's {@code # TYPE}. */
    record Scrape(List<Sample> samples, Map<String, String> types) {

        @SuppressWarnings("unchecked")
        static Scrape parse(String text) throws Exception {
            Class<?> c = Class.forName("dev.pipelab.monitoring.metrics.PromText");
            Object parsed = invoke(method(c, "parse", String.class), null, text);
            var samplesField = c.getDeclaredField("samples");
            samplesField.setAccessible(true);
            var typesField = c.getDeclaredField("types");
            typesField.setAccessible(true);
            List<Sample> samples = new ArrayList<>();
            for (Object s : (List<Object>) samplesField.get(parsed)) {
                Class<?> r = s.getClass();
                samples.add(new Sample((String) invoke(method(r, "name"), s),
                        Map.copyOf((Map<String, String>) invoke(method(r, "labels"), s)),
                        (double) invoke(method(r, "value"), s)));
            }
            return new Scrape(List.copyOf(samples), Map.copyOf((Map<String, String>) typesField.get(parsed)));
        }

        List<Sample> named(String name) {
            return samples.stream().filter(s -> s.name().equals(name)).toList();
        }

        double value(String name, Map<String, String> labels) {
            List<Sample> found = samples.stream().filter(s -> s.name().equals(name) && s.labels().equals(labels)).toList();
            if (found.size() != 1) throw new AssertionError(found.size() + " samples " + name + labels);
            return found.get(0).value();
        }
    }
}
