package dev.pipelab.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pipelab.cli.Main;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * cluster-config/multi-host.conf on hosts with addresses of their own: two {@code pipelab node} workers and the
 * coordinating {@code pipelab run}, each a real JVM in its own network namespace ({@link Netns}), configured by the
 * PIPELAB_* variables alone, give the embedded run's report.json apart from wallClock and placement, and the
 * placement names the workers by their namespace addresses. Needs root and iproute2: skipped without them, failed
 * without them when CI is set. Invariant: every process a test starts is reaped and every namespace deleted, also
 * when an assertion fails ({@link #reap}).
 */
class MultiHostIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path SCENARIOS = Path.of("..", "scenarios").toAbsolutePath().normalize();
    private static final Path MULTI_HOST = Path.of("..", "cluster-config", "multi-host.conf").toAbsolutePath().normalize();
    private static final Path OUT = Path.of("target", "multi-host-it").toAbsolutePath();
    private static final List<String> VARIABLES = List.of("PIPELAB_HOST", "PIPELAB_PORT", "PIPELAB_BIND", "PIPELAB_SEEDS");

    private final List<Process> started = new ArrayList<>();
    private Netns netns;

    /**
     * Reaps every process (SIGTERM, then SIGKILL after 20 s), then deletes the namespaces; a worker that does not leave
     * and exit 0 on SIGTERM fails the test, after everything was cleaned up.
     */
    @AfterEach
    void reap() throws Exception {
        List<String> unclean = new ArrayList<>();
        try {
            // only a process still running gets SIGTERM and must answer it with exit 0 (the coordinator has exited)
            List<Process> running = started.stream().filter(Process::isAlive).toList();
            for (Process p : running) p.destroy();
            for (Process p : running) {
                if (!p.waitFor(20, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    p.waitFor(10, TimeUnit.SECONDS);
                    unclean.add("pid " + p.pid() + " ignored SIGTERM for 20 s and was killed");
                } else if (p.exitValue() != 0) {
                    unclean.add("pid " + p.pid() + " exited " + p.exitValue() + " on SIGTERM");
                }
            }
        } finally {
            if (netns != null) netns.close();
        }
        assertThat(unclean).as("logs in " + OUT).isEmpty();
    }

    @Test
    void quickstartAcrossThreeNamespacesGivesTheEmbeddedReport() throws Exception {
        Netns.require();
        Files.createDirectories(OUT);
        netns = Netns.create(3);
        String seed = netns.address(0) + ":25520";
        // the seed lists itself: it starts the cluster; the second worker joins it, as on two real hosts, and listens on
        // every interface of its host while it advertises its address (PIPELAB_BIND, as behind NAT)
        String first = startNode(0, Map.of("PIPELAB_HOST", netns.address(0), "PIPELAB_SEEDS", seed));
        String second = startNode(1, Map.of("PIPELAB_HOST", netns.address(1), "PIPELAB_SEEDS", seed, "PIPELAB_BIND", "0.0.0.0"));
        assertThat(first).isEqualTo("pekko://pipelab@" + seed);
        assertThat(second).isEqualTo("pekko://pipelab@" + netns.address(1) + ":25520");
        // the JVM listens on a dual-stack socket: ss shows the first as [::ffff:10.A.B.1]:25520, the second as *:25520
        String wildcard = "(?s).*\\s(\\*|0\\.0\\.0\\.0|\\[::]):25520\\s.*";
        assertThat(netns.exec(0, "ss", "-Hltn")).containsPattern(Pattern.quote(netns.address(0)) + "]?:25520\\s")
                .doesNotMatch(wildcard);
        assertThat(netns.exec(1, "ss", "-Hltn")).matches(wildcard);

        // the coordinator in the third namespace, configured by the same file and variables; spread puts neighbouring
        // stages on different workers, so activations and gradients cross namespaces
        Path out = OUT.resolve("netns-spread");
        List<String> run = java("-Xmx512m", "run", SCENARIOS.resolve("quickstart.yaml").toString(), "--steps", "3",
                "--no-dashboard", "--quiet", "--out", out.toString(), "--cluster", MULTI_HOST.toString(), "--placement", "spread");
        ProcessBuilder coordinator = new ProcessBuilder(netns.inside(2, run))
                .redirectOutput(OUT.resolve("coordinator.out").toFile()).redirectError(OUT.resolve("coordinator.err").toFile());
        environment(coordinator, Map.of("PIPELAB_HOST", netns.address(2), "PIPELAB_SEEDS", seed));
        Process p = start(coordinator);
        assertThat(p.waitFor(240, TimeUnit.SECONDS)).as("the coordinator finished within 240 s (see %s)", OUT).isTrue();
        assertThat(p.exitValue()).as("the coordinator's exit code; stderr: %s",
                Files.readString(OUT.resolve("coordinator.err"))).isZero();

        JsonNode cluster = JSON.readTree(out.resolve("report.json").toFile());
        JsonNode embedded = embedded();
        assertThat(virtual(cluster)).isEqualTo(virtual(embedded));
        JsonNode placed = cluster.path("placement");
        assertThat(placed.size()).isEqualTo(embedded.path("plan").path("pipeline").asInt() * embedded.path("plan").path("data").asInt());
        Set<String> nodes = new HashSet<>();
        placed.forEach(e -> nodes.add(e.path("node").asText()));
        assertThat(nodes).containsExactlyInAnyOrder(first, second);

        // the short form, a seed's host:port and no file or variables: the coordinator advertises its address on the
        // route to the seed (its namespace's), not 127.0.0.1, or the workers could not answer it
        Path outShort = OUT.resolve("netns-seed-flag");
        List<String> runShort = java("-Xmx512m", "run", SCENARIOS.resolve("quickstart.yaml").toString(), "--steps", "3",
                "--no-dashboard", "--quiet", "--out", outShort.toString(), "--cluster", seed, "--placement", "spread");
        Process q = start(new ProcessBuilder(netns.inside(2, runShort))
                .redirectOutput(OUT.resolve("coordinator-seed-flag.out").toFile())
                .redirectError(OUT.resolve("coordinator-seed-flag.err").toFile()));
        assertThat(q.waitFor(240, TimeUnit.SECONDS)).as("the coordinator (--cluster HOST:PORT) finished within 240 s").isTrue();
        assertThat(q.exitValue()).as("the coordinator's exit code; stderr: %s",
                Files.readString(OUT.resolve("coordinator-seed-flag.err"))).isZero();
        assertThat(virtual(JSON.readTree(outShort.resolve("report.json").toFile()))).isEqualTo(virtual(embedded));
    }

    @Test
    void cutDropsAHostsTrafficAndHealRestoresIt() throws Exception {
        Netns.require();
        netns = Netns.create(2);
        assertThat(netns.reaches(0, 1)).as("before the cut").isTrue();
        netns.cut(1);
        assertThat(netns.reaches(0, 1)).as("0 -> 1 after cutting 1").isFalse();
        assertThat(netns.reaches(1, 0)).as("1 -> 0 after cutting 1").isFalse();
        netns.heal(1);
        assertThat(netns.reaches(0, 1)).as("0 -> 1 after healing 1").isTrue();
        assertThat(netns.reaches(1, 0)).as("1 -> 0 after healing 1").isTrue();
        List<String> names = List.of(netns.namespace(0), netns.namespace(1));
        netns.close();
        netns = null;
        for (String ns : names) assertThat(Netns.exists(ns)).as("%s after close", ns).isFalse();
    }

    @Test
    void theVariablesAloneGiveANodeItsAddressAndSeeds() throws Exception {
        // no namespaces: this part of multi-host.conf runs anywhere, so it is checked without root too
        Files.createDirectories(OUT);
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        ProcessBuilder b = new ProcessBuilder(java("-Xmx256m", "node", "--role", "worker", "--config", MULTI_HOST.toString()))
                .redirectError(OUT.resolve("loopback-node.err").toFile());
        environment(b, Map.of("PIPELAB_HOST", "127.0.0.1", "PIPELAB_PORT", String.valueOf(port),
                "PIPELAB_SEEDS", "127.0.0.1:" + port));
        assertThat(upLine(start(b), "the loopback node")).isEqualTo("pekko://pipelab@127.0.0.1:" + port);
    }

    /** A worker in namespace {@code host} with {@code variables}; its address once Up. */
    private String startNode(int host, Map<String, String> variables) throws IOException {
        ProcessBuilder b = new ProcessBuilder(netns.inside(host, java("-Xmx256m", "node", "--role", "worker",
                "--config", MULTI_HOST.toString()))).redirectError(OUT.resolve("worker-" + host + ".err").toFile());
        environment(b, variables);
        return upLine(start(b), "worker " + host);
    }

    /** The address in the node's {@code up} line, its first line on stdout. */
    private static String upLine(Process p, String what) {
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> {
            try {
                return out.readLine();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        String up;
        try {
            up = line.get(90, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(what + " printed no up line within 90 s (see " + OUT + ")", e);
        }
        UpLine parsed = UpLine.parse(up == null ? "" : up)
                .orElseThrow(() -> new AssertionError(what + "'s first line is not an up line: " + up + " (see " + OUT + ")"));
        return parsed.address();
    }

    private Process start(ProcessBuilder b) throws IOException {
        Process p = b.start();
        started.add(p);
        return p;
    }

    /** The variables of {@code variables} only: none of the PIPELAB_* of the environment the test runs in leaks in. */
    private static void environment(ProcessBuilder b, Map<String, String> variables) {
        VARIABLES.forEach(b.environment()::remove);
        b.environment().putAll(variables);
    }

    /** {@code java -cp <this test's class path> dev.pipelab.cli.Main ARGS}, with a small heap and a quick start. */
    private static List<String> java(String heap, String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                heap, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                Main.class.getName()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** The quickstart's report.json from the embedded one-node cluster, in this JVM. */
    private static JsonNode embedded() throws IOException {
        Path out = OUT.resolve("embedded");
        StringWriter o = new StringWriter();
        StringWriter e = new StringWriter();
        int code = Main.execute(new PrintWriter(o), new PrintWriter(e), "run", SCENARIOS.resolve("quickstart.yaml").toString(),
                "--steps", "3", "--no-dashboard", "--quiet", "--out", out.toString());
        assertThat(code).as("embedded run\nstdout: %s\nstderr: %s", o, e).isZero();
        return JSON.readTree(out.resolve("report.json").toFile());
    }

    /** The report without what deployment and the wall clock decide (as ClusterRunIT compares). */
    private static JsonNode virtual(JsonNode report) {
        ObjectNode copy = report.deepCopy();
        copy.remove("wallClock");
        copy.remove("placement");
        return copy;
    }
}
