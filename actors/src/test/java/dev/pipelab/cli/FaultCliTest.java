package dev.pipelab.cli;

import static dev.pipelab.cli.CliTest.run;
import static dev.pipelab.cli.CliTest.scenario;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults from the command line and the scenario as a user meets them: a bad one exits 2 with a line that names the
 * option or the file position, before anything is written; a good one is listed, its choice resolved.
 */
class FaultCliTest {

    /** quickstart: p=4, d=1, 1F1B (links 0<->1<->2<->3), 20 steps. */
    private static final String QUICKSTART = scenario("quickstart.yaml");

    @TempDir
    Path dir;

    private static final String FAULTY = """
            model: { preset: gpt3-350m }
            hardware: { device: rtx4090-24gb }
            parallelism: { pipeline: 2, data: 2 }
            batch: { microBatchSize: 1, microBatches: 2 }
            training: { steps: 3 }
            faults:
              - { kind: link.loss, target: 0/0->1, atStep: 0, probability: 0.1 }
              - { kind: stage.crash, target: 1/2, atStep: 1 }
              - { kind: link.latency, target: ring:0/1, atStep: 3 }
            """;

    @Test
    void aBadFaultOptionExitsTwoWithItsOccurrenceAndWritesNothing() {
        Path out = dir.resolve("out");
        CliTest.Result r = run("run", "--no-dashboard", "--out", out.toString(), "--fault", "link.latency 0/0->1 at=1",
                "--fault", "link.loss 0/0->1 at=1 probability=2 for=-1", QUICKSTART);
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("""
                --fault #2: for: must be >= 0, got -1
                --fault #2: probability: must be in (0, 1] for link.loss, got 2
                2 errors
                """);
        assertThat(out).doesNotExist();
    }

    @Test
    void aFaultThatDoesNotFitTheRunExitsTwoBeforeAnythingIsWritten() {
        Path out = dir.resolve("out");
        CliTest.Result r = run("run", "--no-dashboard", "--out", out.toString(), "--steps", "5",
                "--fault", "stage.crash 0/4 at=5", "--fault", "link.loss 0/0->2 at=0", "--fault", "link.loss 0/1 at=0",
                "--fault", "node.kill node:0 at=0", "--fault", "link.partition ring:0/0 at=0", QUICKSTART);
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("""
                --fault #1: target: rank 4 is beyond the run's 4 ranks (0..3)
                --fault #1: at: must be within the run's 5 steps (0..4), got 5
                --fault #2: target: 0/0->2 carries no messages in this schedule (links: 0/0->1, 0/1->0, 0/1->2, 0/2->1, 0/2->3, 0/3->2)
                --fault #3: target: link.loss acts on a link (R/A->B or ring:R/K), got 0/1 (a stage)
                --fault #4: target: node faults need a cluster run (pipelab run --cluster): an embedded run has no worker JVMs
                --fault #5: target: ring:0/0: the run has one replica, so no ring links (they join replicas for the all-reduce)
                6 errors
                """);
        assertThat(out).doesNotExist();
    }

    @Test
    void theDefaultOutputFolderIsNotCreatedEither() throws IOException {
        long before = quickstartRuns();
        CliTest.Result r = run("run", "--no-dashboard", "--fault", "stage.crash 0/9 at=0", QUICKSTART);
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).startsWith("--fault #1: target: rank 9 is beyond");
        assertThat(quickstartRuns()).isEqualTo(before);
    }

    private static long quickstartRuns() throws IOException {
        Path runs = Path.of("runs");
        if (!Files.isDirectory(runs)) return 0;
        try (Stream<Path> s = Files.list(runs)) {
            return s.filter(p -> p.getFileName().toString().startsWith("quickstart-")).count();
        }
    }

    @Test
    void theScenariosFaultsAreCheckedByRunAndValidateWithTheirPositions() throws IOException {
        Path file = Files.writeString(dir.resolve("faulty.yaml"), FAULTY);
        Path out = dir.resolve("out");
        String expected = file + ":8:34: faults[1].target: rank 2 is beyond the run's 2 ranks (0..1)\n"
                + file + ":9:53: faults[2].atStep: must be within the run's 3 steps (0..2), got 3\n2 errors\n";
        CliTest.Result run = run("run", "--no-dashboard", "--out", out.toString(), file.toString());
        assertThat(run.code()).isEqualTo(2);
        assertThat(run.err()).isEqualTo(expected);
        assertThat(out).doesNotExist();
        CliTest.Result validate = run("validate", file.toString());
        assertThat(validate.code()).isEqualTo(2);
        assertThat(validate.err()).isEqualTo(expected);
        // --steps lengthens the run, so step 3 is within it; the option's problems come after the file's
        CliTest.Result longer = run("run", "--no-dashboard", "--out", out.toString(), "--steps", "4",
                "--fault", "stage.slowdown 2/0 at=0", file.toString());
        assertThat(longer.err()).isEqualTo(file + ":8:34: faults[1].target: rank 2 is beyond the run's 2 ranks (0..1)\n"
                + "--fault #1: target: replica 2 is beyond the run's 2 replicas (0..1)\n2 errors\n");
        assertThat(out).doesNotExist();
    }

    @Test
    void validateCountsTheFaultsOfAGoodScenario() throws IOException {
        Path file = Files.writeString(dir.resolve("good.yaml"), FAULTY.replace("1/2", "1/1").replace("atStep: 3", "atStep: 2")
                + "  - { kind: node.kill, target: node:5, atStep: 0 }\n");
        CliTest.Result r = run("validate", file.toString());
        assertThat(r.code()).as(r.err()).isZero();
        // a node target is checked when a cluster run has found its workers
        assertThat(r.out()).isEqualTo(file + ": ok (gpt3-350m, p=2 d=2 t=1 v=1, 1f1b, m=2, 4 devices, 4 faults)\n");
    }

    @Test
    void aRunListsItsFaultsWithEveryChoiceResolved() {
        Path out = dir.resolve("out");
        CliTest.Result r = run("run", "--no-dashboard", "--out", out.toString(), "--steps", "2",
                "--fault", "stage.slowdown percent:50 at=1 for=0.5 factor=3 seed=4", "--fault", "link.latency 0/2->1 at=0", QUICKSTART);
        assertThat(r.code()).as(r.err()).isZero();
        // 50% of 4 stages is 2, those seed 4 shuffles first (a golden value of FaultChoice: another seed picks others),
        // each listed with the option it came from
        assertThat(r.out().lines().filter(l -> l.startsWith("  fault  "))).containsExactly(
                "  fault  stage.slowdown 0/0 at=1 for=0.5 factor=3.0 seed=4  (--fault #1)",
                "  fault  stage.slowdown 0/1 at=1 for=0.5 factor=3.0 seed=4  (--fault #1)",
                "  fault  link.latency 0/2->1 at=0 seconds=0.001  (--fault #2)");
        assertThat(out.resolve("report.json")).exists();
    }

    /** What the dashboard's POST /api/faults hands the run: checked like every fault, its choice resolved, or refused. */
    @Test
    void aLiveFaultIsCheckedResolvedAndHandedToTheRun() {
        dev.pipelab.fault.RunShape shape = RunFaults.shape(dev.pipelab.plan.Planner.plan(
                dev.pipelab.scenario.ScenarioLoader.load(Path.of(QUICKSTART))), 20, 0);
        dev.pipelab.fault.FaultInbox inbox = new dev.pipelab.fault.FaultInbox();
        // atStep left out (the form's "now"), a choice of two stages
        assertThat(RunCommand.injectLive(java.util.Map.of("kind", "stage.slowdown", "target", "percent:50", "durationSeconds", 2,
                "factor", 3, "seed", 4), shape, inbox)).isEmpty();
        assertThat(inbox.take()).extracting(f -> f.target().toString()).containsExactly("0/0", "0/1");
        assertThat(RunCommand.injectLive(java.util.Map.of("kind", "link.loss", "target", "0/0->2"), shape, inbox))
                .hasValueSatisfying(reason -> assertThat(reason).contains("0/0->2"));
        assertThat(RunCommand.injectLive(java.util.Map.of("kind", "node.kill", "target", "node:0"), shape, inbox))
                .hasValueSatisfying(reason -> assertThat(reason).contains("cluster"));
        assertThat(RunCommand.injectLive(java.util.Map.of("kind", "stage.melt", "target", "0/0"), shape, inbox))
                .hasValueSatisfying(reason -> assertThat(reason).startsWith("kind: "));
        assertThat(inbox.take()).as("a refused fault changes nothing").isEmpty();
    }

    /** A failure without a checkpoint to recover from ends the run: the reason, a whole report marked failed, exit 1. */
    @Test
    void aFaultThatCannotBeRecoveredFromEndsTheRunWithItsReason() throws java.io.IOException {
        Path out = dir.resolve("out");
        CliTest.Result r = run("run", "--no-dashboard", "--out", out.toString(), "--steps", "4", "--fault", "stage.crash 0/2 at=1+0.01",
                QUICKSTART);
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("injected stage.crash").contains("no checkpoint to recover from");
        com.fasterxml.jackson.databind.JsonNode report = new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(out.resolve("report.json").toFile());
        assertThat(report.path("status").asText()).isEqualTo("failed");
        assertThat(report.path("failure").asText()).contains("no checkpoint to recover from");
        assertThat(report.path("completedSteps").asInt()).isEqualTo(1);
        assertThat(report.path("faults").size()).isEqualTo(1);
        assertThat(out.resolve("trace.json")).exists();
        try (var files = java.nio.file.Files.list(out)) {
            assertThat(files.map(f -> f.getFileName().toString())).as("no half-written file").allMatch(n -> !n.endsWith(".tmp"));
        }
    }
}
