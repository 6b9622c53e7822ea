package dev.pipelab.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Node faults on real processes: three {@code pipelab node} workers (JVMs on 127.0.0.1, free ports) and
 * {@code pipelab run --cluster} in this JVM as the coordinator. A {@code node.kill} really kills a worker with SIGKILL;
 * the coordinator notices through Pekko's failure detector, moves that worker's stages to the others and replays from
 * the last checkpoint, and the run completes with every training step committed once. A {@code node.pause} really
 * stops a worker (SIGSTOP) for less than the failure detector tolerates, then continues it (SIGCONT): the run completes
 * without a recovery and the worker lives on. Each test starts its own workers and reaps them, also when it fails.
 */
class NodeFaultsIT {

    private static final Path SCENARIOS = Path.of("..", "scenarios").toAbsolutePath().normalize();
    private static final Path OUT = Path.of("target", "node-faults-it").toAbsolutePath();

    private static InProcessRun run(String name, List<String> args) {
        List<String> all = new ArrayList<>(List.of("--steps", "4"));
        all.addAll(args);
        return InProcessRun.of(SCENARIOS.resolve("quickstart.yaml"), OUT.resolve(name), all);
    }

    /** The schedule's settings on the quickstart (interleaved needs two model stages per rank and m a multiple of p). */
    private static List<String> schedule(String name) {
        List<String> args = new ArrayList<>(List.of("--set", "training.schedule=" + name, "--set", "batch.microBatches=8"));
        if (name.equals("interleaved")) args.addAll(List.of("--set", "parallelism.virtualStages=2"));
        return args;
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpipe", "1f1b", "interleaved", "zb-h1"})
    void aKilledWorkersStagesMoveToTheOthersAndTheRunCompletes(String scheduleName) throws Exception {
        WorkerProcesses workers = new WorkerProcesses(OUT.resolve("kill-" + scheduleName));
        Process victim = null;
        try {
            workers.startCluster(3);
            victim = workers.inCoordinatorOrder().get(1).process();
            List<String> args = new ArrayList<>(schedule(scheduleName));
            args.addAll(List.of("--cluster", workers.seed(), "--placement", "spread", "--set", "recovery.checkpointEverySteps=1",
                    "--fault", "node.kill node:1 at=2+0.05"));
            JsonNode report = run("kill-" + scheduleName, args).succeeded().report();
            assertThat(report.path("status").asText()).isEqualTo("completed");
            assertThat(victim.waitFor(30, TimeUnit.SECONDS)).as("the killed worker is gone").isTrue();
            assertThat(victim.exitValue()).as("killed by SIGKILL").isEqualTo(128 + 9);
            assertThat(report.path("recovery").path("recoveries").size()).isEqualTo(1);
            JsonNode recovery = report.path("recovery").path("recoveries").get(0);
            assertThat(recovery.path("reason").asText()).contains("node 1").contains("node.kill");
            assertThat(recovery.path("wallDetectSeconds").asDouble()).as("Pekko's failure detector and downing").isBetween(3.0, 60.0);
            assertThat(recovery.path("wallRestartSeconds").asDouble()).isPositive();
            assertThat(report.path("recovery").path("ledger").path("balanced").asBoolean()).isTrue();
            assertThat(report.path("completedSteps").asInt()).isGreaterThanOrEqualTo(4);
        } finally {
            List<String> unclean = workers.reap(victim == null ? List.of() : List.of(victim));
            assertThat(unclean).as("worker logs in " + OUT).isEmpty();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpipe", "1f1b", "interleaved", "zb-h1"})
    void aPausedWorkerStallsAndTheRunGoesOnWithoutARecovery(String scheduleName) throws Exception {
        WorkerProcesses workers = new WorkerProcesses(OUT.resolve("pause-" + scheduleName));
        try {
            workers.startCluster(3);
            Process paused = workers.inCoordinatorOrder().get(2).process();
            List<String> args = new ArrayList<>(schedule(scheduleName));
            args.addAll(List.of("--cluster", workers.seed(), "--placement", "spread", "--set", "recovery.checkpointEverySteps=1",
                    "--fault", "node.pause node:2 at=1 for=2"));
            JsonNode report = run("pause-" + scheduleName, args).succeeded().report();
            assertThat(report.path("status").asText()).isEqualTo("completed");
            assertThat(report.path("recovery").path("recoveries").size()).isZero();
            assertThat(paused.isAlive()).as("the paused worker lives on").isTrue();
            // the pause stalled the node's stages for 2 emulated seconds in the step it fell in
            double slowest = 0;
            for (JsonNode s : report.path("steps")) slowest = Math.max(slowest, s.path("stepTimeSeconds").asDouble());
            assertThat(slowest).isGreaterThan(2.0);
        } finally {
            assertThat(workers.reap(List.of())).as("worker logs in " + OUT).isEmpty();
        }
    }
}
