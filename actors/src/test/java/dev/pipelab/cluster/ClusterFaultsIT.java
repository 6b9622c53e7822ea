package dev.pipelab.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every stage and link fault kind on every schedule family, on three worker JVMs ({@code pipelab node}, 127.0.0.1, free
 * ports) with the stages spread one per worker and two replicas (so pipeline edges and ring all-reduce chunks cross
 * JVMs): the run completes, its ledger balances, and its report equals the embedded run's apart from the wall clock and
 * the placement (faults act in the actors, whose emulated times do not depend on where they run). Node faults are in
 * {@link NodeFaultsIT}. The workers start once for the class and are reaped, also when a test fails.
 */
class ClusterFaultsIT {

    private static final Path SCENARIO = Path.of("..", "scenarios", "quickstart.yaml").toAbsolutePath().normalize();
    private static final Path OUT = Path.of("target", "cluster-faults-it").toAbsolutePath();
    private static final WorkerProcesses processes = new WorkerProcesses(OUT);
    private static String seed;

    @BeforeAll
    static void startWorkers() throws Exception {
        seed = processes.startCluster(3).get(0).hostPort();
    }

    @AfterAll
    static void reap() throws InterruptedException {
        assertThat(processes.reap(List.of())).as("worker logs in " + OUT).isEmpty();
    }

    static Stream<Arguments> matrix() {
        List<String> faults = List.of(
                "stage.crash 1/1 at=1+0.05",
                "stage.slowdown 1/1 at=1+0.05 for=0.2 factor=3",
                "stage.memory_pressure 1/1 at=1 for=0.2 fraction=0.95",
                "link.latency 0/1->2 at=1 for=0.3 seconds=0.01",
                "link.bandwidth 0/1->2 at=1 for=0.3 factor=0.1",
                "link.loss ring:1/0 at=1 for=0.3 probability=0.3 seed=3",
                "link.duplicate ring:1/0 at=1 for=0.3 probability=0.3 seed=3",
                "link.partition 0/1->2 at=1+0.01 for=100");
        List<Arguments> out = new ArrayList<>();
        for (String schedule : List.of("gpipe", "1f1b", "interleaved", "zb-h1")) {
            for (String fault : faults) out.add(Arguments.of(schedule, fault));
        }
        return out.stream();
    }

    private static JsonNode run(String name, List<String> args) throws IOException {
        List<String> all = new ArrayList<>(List.of("--steps", "4", "--quiet", "--set", "parallelism.data=2",
                "--set", "batch.microBatches=8", "--set", "training.linkBuffer=4", "--set", "recovery.checkpointEverySteps=1",
                "--set", "recovery.timeoutSeconds=5"));
        all.addAll(args);
        return InProcessRun.of(SCENARIO, OUT.resolve(name), all).succeeded().report();
    }

    @ParameterizedTest(name = "{1} on {0}")
    @MethodSource("matrix")
    void aFaultOnThreeWorkersGivesTheEmbeddedReport(String schedule, String fault) throws IOException {
        List<String> args = new ArrayList<>(List.of("--set", "training.schedule=" + schedule, "--fault", fault));
        if (schedule.equals("interleaved")) args.addAll(List.of("--set", "parallelism.virtualStages=2"));
        String name = schedule + "-" + fault.substring(0, fault.indexOf(' '));
        JsonNode embedded = run(name + "-embedded", args);
        List<String> onCluster = new ArrayList<>(args);
        onCluster.addAll(List.of("--cluster", seed, "--placement", "spread"));
        JsonNode cluster = run(name + "-cluster", onCluster);
        assertThat(cluster.path("status").asText()).isEqualTo("completed");
        assertThat(cluster.path("recovery").path("ledger").path("balanced").asBoolean()).as("ledger").isTrue();
        assertThat(cluster.path("faults").size()).isEqualTo(1);
        assertThat(InProcessRun.virtual(cluster)).isEqualTo(InProcessRun.virtual(embedded));
        int recoveries = cluster.path("recovery").path("recoveries").size();
        if (fault.startsWith("stage.crash")) assertThat(recoveries).as("recovered once").isEqualTo(1);
        // a 100 s partition breaks the step after each 5 s timeout until it heals: every recovery (30 s of restart)
        // moves the run past a part of it
        if (fault.startsWith("link.partition")) assertThat(recoveries).as("recovered until it healed").isEqualTo(3);
    }
}
