package dev.pipelab.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pipelab.cli.Main;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Three worker processes of {@code pipelab node} (real JVMs on 127.0.0.1, free ports) and {@code pipelab run --cluster}
 * in this JVM as the coordinator: for the quickstart (d=1 and d=2), interleaved 4x8 and ZB-H2 4x8, every report.json
 * equals the embedded run's apart from wallClock and placement, with {@code pack} and {@code spread}, and the real
 * model's losses and weights file are bit for bit the embedded run's; placement[] shows that pipeline edges (spread)
 * and ring all-reduce chunks (two replicas) really cross JVMs. SIGTERM makes a node leave and exit 0. The three
 * workers start once for the class. Invariant: every process the test starts is reaped, also when an assertion
 * fails (SIGTERM, then SIGKILL after a timeout, in {@link #reap}).
 */
class ClusterRunIT {

    private static final Path SCENARIOS = Path.of("..", "scenarios").toAbsolutePath().normalize();
    private static final Path OUT = Path.of("target", "cluster-run-it").toAbsolutePath();
    private static final WorkerProcesses processes = new WorkerProcesses(OUT);
    private static final List<String> workers = new ArrayList<>();
    private static String seed;

    @BeforeAll
    static void startWorkers() throws Exception {
        List<WorkerProcesses.Worker> started = processes.startCluster(3);
        seed = started.get(0).hostPort();
        for (WorkerProcesses.Worker w : started) workers.add(w.address());
    }

    /**
     * Reaps every process, whatever happened: SIGTERM, then SIGKILL after 20 s. Then checks what SIGTERM must do to a
     * node: leave the cluster and exit 0 (a node killed here fails the class, after it was reaped).
     */
    @AfterAll
    static void reap() throws InterruptedException {
        assertThat(processes.reap(List.of())).as("worker logs in " + OUT).isEmpty();
    }

    /** {@code pipelab run} of the quickstart in-process; returns report.json. */
    private static JsonNode run(String name, List<String> args) throws IOException {
        return run("quickstart.yaml", name, args);
    }

    /** {@code pipelab run} in-process for 3 steps; returns report.json. */
    private static JsonNode run(String scenario, String name, List<String> args) throws IOException {
        List<String> all = new ArrayList<>(List.of("--steps", "3", "--quiet"));
        all.addAll(args);
        return InProcessRun.of(SCENARIOS.resolve(scenario), OUT.resolve(name), all).succeeded().report();
    }

    /** The report without what deployment and the wall clock decide. */
    private static JsonNode virtual(JsonNode report) {
        return InProcessRun.virtual(report);
    }

    /** The quickstart on the embedded node, then on the three workers with pack and with spread: the same virtual report. */
    private void assertSameAsEmbedded(String name, List<String> scenarioArgs) throws IOException {
        assertSameAsEmbedded("quickstart.yaml", name, scenarioArgs);
    }

    /**
     * {@code scenario} on the embedded node, then on the three workers with pack and with spread: each report equals the
     * embedded one apart from wallClock and placement, and placement[] names every (replica, rank) once, on a worker.
     * Returns the cluster reports by placement, for the caller's checks of what crossed JVMs.
     */
    private Map<String, JsonNode> assertSameAsEmbedded(String scenario, String name, List<String> scenarioArgs) throws IOException {
        JsonNode embedded = run(scenario, name + "-embedded", scenarioArgs);
        assertThat(embedded.has("placement")).as("an embedded run has no placement").isFalse();
        assertThat(embedded.path("status").asText()).isEqualTo("completed");
        Map<String, JsonNode> byPlacement = new HashMap<>();
        for (String placement : List.of("pack", "spread")) {
            List<String> args = new ArrayList<>(scenarioArgs);
            args.addAll(List.of("--cluster", seed, "--placement", placement));
            JsonNode cluster = run(scenario, name + "-" + placement, args);
            assertThat(virtual(cluster)).as("%s with %s", name, placement).isEqualTo(virtual(embedded));
            byPlacement.put(placement, cluster);
            List<String> keys = new ArrayList<>();
            cluster.fieldNames().forEachRemaining(keys::add);
            assertThat(keys.subList(keys.size() - 3, keys.size())).containsExactly("status", "placement", "wallClock");
            JsonNode placed = cluster.path("placement");
            int p = embedded.path("plan").path("pipeline").asInt();
            int d = embedded.path("plan").path("data").asInt();
            assertThat(placed.size()).isEqualTo(p * d);
            for (JsonNode e : placed) assertThat(workers).contains(e.path("node").asText());
            String[][] node = nodes(cluster, d, p);
            if (placement.equals("pack")) {
                // each replica's ranks together (8 slots a worker on 2 cores), replicas on different workers
                Set<String> replicaNodes = new HashSet<>();
                for (int r = 0; r < d; r++) {
                    Set<String> nodes = new HashSet<>(List.of(node[r]));
                    if (Runtime.getRuntime().availableProcessors() * Node.SLOTS_PER_CORE >= p) assertThat(nodes).hasSize(1);
                    replicaNodes.addAll(nodes);
                }
                assertThat(replicaNodes).hasSize(Math.min(d, workers.size()));
            } else {
                // round-robin over three workers: every pipeline edge of every replica joins two JVMs
                assertThat(crossingPipelineEdges(node)).as("%s spread: pipeline edges across JVMs", name).isEqualTo(d * (p - 1));
            }
        }
        return byPlacement;
    }

    /** placement[] as {@code [replica][rank]} = the worker's address; fails when an entry is missing or repeated. */
    private static String[][] nodes(JsonNode report, int data, int pipeline) {
        String[][] node = new String[data][pipeline];
        for (JsonNode e : report.path("placement")) {
            int r = e.path("replica").asInt();
            int s = e.path("rank").asInt();
            assertThat(node[r][s]).as("placement of replica %d rank %d given twice", r, s).isNull();
            node[r][s] = e.path("node").asText();
        }
        for (String[] replica : node) assertThat(replica).doesNotContainNull();
        return node;
    }

    /** Edges rank s -> s+1 within a replica whose two ends sit on different workers (activations and gradients cross). */
    private static int crossingPipelineEdges(String[][] node) {
        int n = 0;
        for (String[] replica : node) for (int s = 1; s < replica.length; s++) if (!replica[s].equals(replica[s - 1])) n++;
        return n;
    }

    /** Ranks whose ring all-reduce joins replicas on at least two workers (its chunks cross JVMs). */
    private static int ranksWhoseRingCrossesJvms(String[][] node) {
        int n = 0;
        for (int s = 0; s < node[0].length; s++) {
            Set<String> ring = new HashSet<>();
            for (String[] replica : node) ring.add(replica[s]);
            if (ring.size() > 1) n++;
        }
        return n;
    }

    @Test
    void quickstartOnThreeWorkersGivesTheEmbeddedReport() throws IOException {
        assertSameAsEmbedded("quickstart", List.of());
    }

    @Test
    void twoReplicasOnThreeWorkersGiveTheEmbeddedReport() throws IOException {
        Map<String, JsonNode> runs = assertSameAsEmbedded("quickstart.yaml", "two-replicas", List.of("--set", "parallelism.data=2"));
        // pack puts the replicas on different workers: every rank's ring all-reduce chunks cross JVMs, no pipeline edge does
        String[][] pack = nodes(runs.get("pack"), 2, 4);
        assertThat(ranksWhoseRingCrossesJvms(pack)).isEqualTo(4);
        assertThat(crossingPipelineEdges(pack)).isZero();
        // spread deals the 8 stages round-robin over 3 workers (replica 0 on workers 0 1 2 0, replica 1 on 1 2 0 1):
        // every pipeline edge and every rank's ring cross JVMs
        String[][] spread = nodes(runs.get("spread"), 2, 4);
        assertThat(ranksWhoseRingCrossesJvms(spread)).isEqualTo(4);
        assertThat(crossingPipelineEdges(spread)).isEqualTo(6);
    }

    @Test
    void interleavedFourByEightOnThreeWorkersGivesTheEmbeddedReport() throws IOException {
        // v=2 virtual stages per rank: the chunks of a rank live on one worker, and the last chunk of rank 3 feeds the
        // second chunk of rank 0, so spread also crosses JVMs on the wrap-around edge
        Map<String, JsonNode> runs = assertSameAsEmbedded("interleaved-4x8.yaml", "interleaved-4x8", List.of());
        assertThat(runs.get("pack").path("schedule").asText()).isEqualTo("interleaved");
    }

    @Test
    void zbH2FourByEightOnThreeWorkersGivesTheEmbeddedReport() throws IOException {
        // no shipped ZB-H2 scenario: the 1F1B 4x8 one with its schedule overridden, and B split into an input-gradient
        // part and a weight-gradient part of 1 s each, so that W is real work that ZB-H2 moves into the bubbles
        Map<String, JsonNode> runs = assertSameAsEmbedded("1f1b-4x8.yaml", "zb-h2-4x8", List.of("--set", "training.schedule=zb-h2",
                "--set", "costs.backwardInputSeconds=1.0", "--set", "costs.backwardWeightSeconds=1.0"));
        assertThat(runs.get("spread").path("schedule").asText()).isEqualTo("zb-h2");
    }

    @Test
    void realNumericsAcrossWorkersGiveTheEmbeddedLossesAndWeightsBitForBit() throws IOException {
        // 2 replicas of 2 ranks. pack: each replica on its own worker, so the all-reduce chunks (gradients as tensors)
        // cross JVMs; spread: stages on workers 0 1 and 2 0, so activations and gradients cross JVMs as well
        List<String> twoReplicas = List.of("--set", "parallelism.data=2");
        JsonNode embedded = run("tiny-transformer-real.yaml", "real-embedded", twoReplicas);
        byte[] weights = Files.readAllBytes(OUT.resolve("real-embedded").resolve("weights.plwt"));
        for (String placement : List.of("pack", "spread")) {
            List<String> args = new ArrayList<>(twoReplicas);
            args.addAll(List.of("--cluster", seed, "--placement", placement));
            JsonNode cluster = run("tiny-transformer-real.yaml", "real-" + placement, args);
            // real runs measure their action times, so only the numerics are compared
            assertThat(cluster.path("loss")).as(placement).hasSize(3).isEqualTo(embedded.path("loss"));
            assertThat(Files.readAllBytes(OUT.resolve("real-" + placement).resolve("weights.plwt"))).as(placement).isEqualTo(weights);
            String[][] node = nodes(cluster, 2, 2);
            assertThat(ranksWhoseRingCrossesJvms(node)).as(placement).isEqualTo(2);
            assertThat(crossingPipelineEdges(node)).as(placement).isEqualTo(placement.equals("pack") ? 0 : 2);
        }
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
