package dev.pipelab.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pipelab.cli.Main;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Three worker processes of {@code pipelab node} (real JVMs on 127.0.0.1, free ports) and {@code pipelab run --cluster}
 * in this JVM as the coordinator: every report.json equals the embedded run's apart from wallClock and placement,
 * with {@code pack} and {@code spread}; SIGTERM makes a node leave and exit 0. Invariant: every process the test starts is reaped, also when an assertion
 * fails (SIGTERM, then SIGKILL after a timeout, in {@link #reap}).
 */
class ClusterRunIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path SCENARIOS = Path.of("..", "scenarios").toAbsolutePath().normalize();
    private static final Path OUT = Path.of("target", "cluster-run-it").toAbsolutePath();
    private static final Pattern UP = Pattern.compile("^pipelab node: up worker (pekko://pipelab@(\\S+)) slots=(\\d+) version=\\S+$");

    private static final List<Process> started = new ArrayList<>();
    private static final List<String> workers = new ArrayList<>();
    private static String seed;

    /** A started worker and the address its {@code up} line gave. */
    private record Worker(Process process, String address, String hostPort) {}

    @BeforeAll
    static void startWorkers() throws Exception {
        Files.createDirectories(OUT);
        Worker first = startWorker(0, List.of());
        seed = first.hostPort();
        workers.add(first.address());
        // the others join the first together: two JVMs start faster side by side than one after the other
        List<CompletableFuture<Worker>> others = new ArrayList<>();
        for (int i = 1; i < 3; i++) others.add(startWorkerAsync(i, List.of("--seeds", seed)));
        for (CompletableFuture<Worker> w : others) workers.add(w.join().address());
    }

    /**
     * Reaps every process, whatever happened: SIGTERM, then SIGKILL after 20 s. Then checks what SIGTERM must do to a
     * node: leave the cluster and exit 0 (a node killed here fails the class, after it was reaped).
     */
    @AfterAll
    static void reap() throws InterruptedException {
        for (Process p : started) p.destroy();
        List<String> unclean = new ArrayList<>();
        for (Process p : started) {
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
                unclean.add("pid " + p.pid() + " ignored SIGTERM for 20 s and was killed");
            } else if (p.exitValue() != 0) {
                unclean.add("pid " + p.pid() + " exited " + p.exitValue() + " on SIGTERM");
            }
        }
        assertThat(unclean).as("worker logs in " + OUT).isEmpty();
    }

    private static CompletableFuture<Worker> startWorkerAsync(int index, List<String> extra) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return startWorker(index, extra);
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    /** {@code java -cp <this test's class path> dev.pipelab.cli.Main node --role worker --port 0 ...}, up. */
    private static Worker startWorker(int index, List<String> extra) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "node", "--role", "worker", "--host", "127.0.0.1", "--port", "0"));
        cmd.addAll(extra);
        Process p = new ProcessBuilder(cmd).redirectError(OUT.resolve("worker-" + index + ".err").toFile()).start();
        synchronized (started) {
            started.add(p);
        }
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
            up = line.get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("worker " + index + " printed no up line within 60 s (see " + OUT + ")", e);
        }
        assertThat(up).as("worker %d's first line", index).isNotNull().matches(UP);
        Matcher m = UP.matcher(up);
        assertThat(m.matches()).isTrue();
        return new Worker(p, m.group(1), m.group(2));
    }

    /** {@code pipelab run} of the quickstart in-process; returns report.json. */
    private static JsonNode run(String name, List<String> args) throws IOException {
        return run("quickstart.yaml", name, args);
    }

    /** {@code pipelab run} in-process for 3 steps; returns report.json. */
    private static JsonNode run(String scenario, String name, List<String> args) throws IOException {
        Path out = OUT.resolve(name);
        List<String> all = new ArrayList<>(List.of("run", SCENARIOS.resolve(scenario).toString(), "--steps", "3",
                "--no-dashboard", "--quiet", "--out", out.toString()));
        all.addAll(args);
        StringWriter o = new StringWriter();
        StringWriter e = new StringWriter();
        int code = Main.execute(new PrintWriter(o), new PrintWriter(e), all.toArray(String[]::new));
        assertThat(code).as("pipelab %s\nstdout: %s\nstderr: %s", all, o, e).isZero();
        return JSON.readTree(out.resolve("report.json").toFile());
    }

    /** The report without what deployment and the wall clock decide. */
    private static JsonNode virtual(JsonNode report) {
        ObjectNode copy = report.deepCopy();
        copy.remove("wallClock");
        copy.remove("placement");
        return copy;
    }

    private void assertSameAsEmbedded(String name, List<String> scenarioArgs) throws IOException {
        JsonNode embedded = run(name + "-embedded", scenarioArgs);
        assertThat(embedded.has("placement")).as("an embedded run has no placement").isFalse();
        for (String placement : List.of("pack", "spread")) {
            List<String> args = new ArrayList<>(scenarioArgs);
            args.addAll(List.of("--cluster", seed, "--placement", placement));
            JsonNode cluster = run(name + "-" + placement, args);
            assertThat(virtual(cluster)).as("%s with %s", name, placement).isEqualTo(virtual(embedded));
            List<String> keys = new ArrayList<>();
            cluster.fieldNames().forEachRemaining(keys::add);
            assertThat(keys.subList(keys.size() - 3, keys.size())).containsExactly("status", "placement", "wallClock");
            JsonNode placed = cluster.path("placement");
            int p = embedded.path("plan").path("pipeline").asInt();
            int d = embedded.path("plan").path("data").asInt();
            assertThat(placed.size()).isEqualTo(p * d);
            for (JsonNode e : placed) assertThat(workers).contains(e.path("node").asText());
            if (placement.equals("pack")) {
                // each replica's ranks together (8 slots a worker on 2 cores), replicas on different workers
                Set<String> replicaNodes = new HashSet<>();
                for (int r = 0; r < d; r++) {
                    int replica = r;
                    Set<String> nodes = new HashSet<>();
                    placed.forEach(e -> {
                        if (e.path("replica").asInt() == replica) nodes.add(e.path("node").asText());
                    });
                    if (Runtime.getRuntime().availableProcessors() * Node.SLOTS_PER_CORE >= p) assertThat(nodes).hasSize(1);
                    replicaNodes.addAll(nodes);
                }
                assertThat(replicaNodes).hasSize(Math.min(d, workers.size()));
            } else {
                // round-robin: neighbouring stages on different workers
                for (int i = 1; i < placed.size(); i++) {
                    assertThat(placed.get(i).path("node").asText()).isNotEqualTo(placed.get(i - 1).path("node").asText());
                }
            }
        }
    }

    @Test
    void quickstartOnThreeWorkersGivesTheEmbeddedReport() throws IOException {
        assertSameAsEmbedded("quickstart", List.of());
    }

    @Test
    void twoReplicasOnThreeWorkersGiveTheEmbeddedReport() throws IOException {
        // pack puts the replicas on different workers: the ring all-reduce crosses JVMs
        assertSameAsEmbedded("two-replicas", List.of("--set", "parallelism.data=2"));
    }

    @Test
    void realNumericsAcrossWorkersGiveTheEmbeddedLossesAndWeightsBitForBit() throws IOException {
        // spread with 2 replicas of 2 ranks: activations, gradients and all-reduce chunks all cross JVMs
        List<String> twoReplicas = List.of("--set", "parallelism.data=2");
        JsonNode embedded = run("tiny-transformer-real.yaml", "real-embedded", twoReplicas);
        List<String> args = new ArrayList<>(twoReplicas);
        args.addAll(List.of("--cluster", seed, "--placement", "spread"));
        JsonNode cluster = run("tiny-transformer-real.yaml", "real-spread", args);
        // real runs measure their action times, so only the numerics are compared
        assertThat(cluster.path("loss")).hasSize(3).isEqualTo(embedded.path("loss"));
        assertThat(Files.readAllBytes(OUT.resolve("real-spread").resolve("weights.plwt")))
                .isEqualTo(Files.readAllBytes(OUT.resolve("real-embedded").resolve("weights.plwt")));
        Set<String> nodes = new HashSet<>();
        cluster.path("placement").forEach(e -> nodes.add(e.path("node").asText()));
        assertThat(nodes).hasSize(3);
    }

    @Test
    void anExplicitMapIsFollowedAndChangesNoNumberAndAMissingWorkerIsRefusedBeforeAnythingRuns() throws IOException {
        JsonNode embedded = run("explicit-embedded", List.of());
        // ranks 0 and 1 on the last worker, then the first, then the middle one: what neither pack nor spread does
        JsonNode cluster = run("explicit", List.of("--cluster", seed, "--placement", "explicit", "--set", "cluster.workers=[[2, 2, 0, 1]]"));
        assertThat(virtual(cluster)).isEqualTo(virtual(embedded));
        // workers are numbered in the coordinator's order: by host (all 127.0.0.1), then port
        List<String> ordered = workers.stream().sorted(Comparator.comparingInt(a -> Integer.parseInt(a.substring(a.lastIndexOf(':') + 1))))
                .toList();
        List<String> placed = new ArrayList<>();
        cluster.path("placement").forEach(e -> placed.add(e.path("node").asText()));
        assertThat(placed).containsExactly(ordered.get(2), ordered.get(2), ordered.get(0), ordered.get(1));

        Path out = OUT.resolve("explicit-missing-worker");
        StringWriter o = new StringWriter();
        StringWriter e = new StringWriter();
        int code = Main.execute(new PrintWriter(o), new PrintWriter(e), "run", SCENARIOS.resolve("quickstart.yaml").toString(),
                "--steps", "1", "--no-dashboard", "--quiet", "--out", out.toString(), "--cluster", seed, "--placement", "explicit",
                "--set", "cluster.workers=[[0, 1, 2, 3]]");
        assertThat(code).as(e.toString()).isEqualTo(2);
        assertThat(e.toString().lines().findFirst()).hasValue("pipelab: " + SCENARIOS.resolve("quickstart.yaml")
                + ": cluster.workers[0][3]: worker 3 does not exist: the cluster has 3 worker(s), numbered 0..2 in address order");
        assertThat(out.resolve("report.json")).doesNotExist();
    }

    @Test
    void aRunWithoutWorkersFailsWithAReasonNotAHang() {
        StringWriter o = new StringWriter();
        StringWriter e = new StringWriter();
        // a seed nobody listens on: the coordinator never becomes Up
        int code = Main.execute(new PrintWriter(o), new PrintWriter(e), "run", SCENARIOS.resolve("quickstart.yaml").toString(),
                "--steps", "1", "--no-dashboard", "--quiet", "--out", OUT.resolve("no-cluster").toString(),
                "--cluster", "127.0.0.1:1", "--cluster-timeout", "2");
        assertThat(code).isEqualTo(2);
        assertThat(e.toString()).contains("--cluster 127.0.0.1:1").contains("did not become Up within 2 s");
    }
}
