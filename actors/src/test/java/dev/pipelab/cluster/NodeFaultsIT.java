package dev.pipelab.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pipelab.cli.Main;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
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

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path SCENARIOS = Path.of("..", "scenarios").toAbsolutePath().normalize();
    private static final Path OUT = Path.of("target", "node-faults-it").toAbsolutePath();

    private record Ran(int code, String out, String err, JsonNode report) {}

    private static Ran run(String name, List<String> args) throws IOException {
        Path out = OUT.resolve(name);
        List<String> all = new ArrayList<>(List.of("run", SCENARIOS.resolve("quickstart.yaml").toString(), "--steps", "4",
                "--no-dashboard", "--out", out.toString()));
        all.addAll(args);
        StringWriter o = new StringWriter();
        StringWriter e = new StringWriter();
        int code = Main.execute(new PrintWriter(o), new PrintWriter(e), all.toArray(String[]::new));
        return new Ran(code, o.toString(), e.toString(), JSON.readTree(out.resolve("report.json").toFile()));
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
            Ran r = run("kill-" + scheduleName, args);
            assertThat(r.code()).as("stdout: %s\nstderr: %s", r.out(), r.err()).isZero();
            assertThat(r.report().path("status").asText()).isEqualTo("completed");
            assertThat(victim.waitFor(30, TimeUnit.SECONDS)).as("the killed worker is gone").isTrue();
            assertThat(victim.exitValue()).as("killed by SIGKILL").isEqualTo(128 + 9);
            assertThat(r.report().path("recovery").path("recoveries").size()).isEqualTo(1);
            JsonNode recovery = r.report().path("recovery").path("recoveries").get(0);
            assertThat(recovery.path("reason").asText()).contains("node 1").contains("node.kill");
            assertThat(recovery.path("wallDetectSeconds").asDouble()).as("Pekko's failure detector and downing").isBetween(3.0, 60.0);
            assertThat(recovery.path("wallRestartSeconds").asDouble()).isPositive();
            assertThat(r.report().path("recovery").path("ledger").path("balanced").asBoolean()).isTrue();
            assertThat(r.report().path("completedSteps").asInt()).isGreaterThanOrEqualTo(4);
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
            Ran r = run("pause-" + scheduleName, args);
            assertThat(r.code()).as("stdout: %s\nstderr: %s", r.out(), r.err()).isZero();
            assertThat(r.report().path("status").asText()).isEqualTo("completed");
            assertThat(r.report().path("recovery").path("recoveries").size()).isZero();
            assertThat(paused.isAlive()).as("the paused worker lives on").isTrue();
            // the pause stalled the node's stages for 2 emulated seconds in the step it fell in
            double slowest = 0;
            for (JsonNode s : r.report().path("steps")) slowest = Math.max(slowest, s.path("stepTimeSeconds").asDouble());
            assertThat(slowest).isGreaterThan(2.0);
        } finally {
            assertThat(workers.reap(List.of())).as("worker logs in " + OUT).isEmpty();
        }
    }
}
