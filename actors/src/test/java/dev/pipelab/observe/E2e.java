package dev.pipelab.observe;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pipelab.cli.Main;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.fail;

/**
 * Shared pieces of the end-to-end tests of {@code pipelab run}: the CLI in-process (blocking, or on a thread of its
 * own whose output can be polled). The browser ({@code HeadlessChromium}) and the Prometheus parser ({@code PromText})
 * come from monitoring's test-jar.
 * Invariant: every wait has a deadline (minutes, not seconds: two busy cores must not make a test flaky).
 */
final class E2e {

    static final ObjectMapper JSON = new ObjectMapper();
    /** The shipped scenarios (failsafe runs in the actors module). */
    static final Path SCENARIOS = Path.of("..", "scenarios").toAbsolutePath().normalize();
    static final Path TARGET = Path.of("target").toAbsolutePath();
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
}
