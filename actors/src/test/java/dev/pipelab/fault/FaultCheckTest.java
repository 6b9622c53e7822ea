package dev.pipelab.fault;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Faults are checked against the run they would hit: a wrong target or step is a named problem, a right one none. */
class FaultCheckTest {

    /** Two replicas of a 3-stage pipeline whose messages go 0->1->2 and back; 5 steps; embedded. */
    private static final RunShape RUN = RunShape.of(2, 5, List.of(List.of(1), List.of(0, 2), List.of(1)), 0);

    private static List<String> problems(String text, RunShape shape) {
        Fault f = FaultSyntax.parse(text, "--fault #1").fault().orElseThrow();
        return FaultCheck.check(f, shape).stream().map(FaultProblem::toString).toList();
    }

    @Test
    void faultsThatFitTheRunHaveNoProblem() {
        for (String ok : List.of("stage.crash 1/2 at=4", "link.loss 0/1->2 at=0", "link.loss 1/2->1 at=0", "link.latency ring:1/2 at=0",
                "stage.slowdown all at=3", "link.duplicate percent:50 at=1", "link.partition one at=0")) {
            assertThat(problems(ok, RUN)).as(ok).isEmpty();
        }
        assertThat(problems("node.kill node:2 at=0", RUN.withWorkers(3))).isEmpty();
        assertThat(problems("node.pause one at=0", RUN.withWorkers(3))).isEmpty();
    }

    @Test
    void aTargetBeyondTheRunIsNamed() {
        assertThat(problems("stage.crash 2/0 at=0", RUN)).containsExactly(
                "--fault #1: target: replica 2 is beyond the run's 2 replicas (0..1)");
        assertThat(problems("stage.crash 0/3 at=0", RUN)).containsExactly("--fault #1: target: rank 3 is beyond the run's 3 ranks (0..2)");
        assertThat(problems("link.loss 0/2->3 at=0", RUN)).containsExactly("--fault #1: target: rank 3 is beyond the run's 3 ranks (0..2)");
        assertThat(problems("link.latency ring:0/5 at=0", RUN)).containsExactly(
                "--fault #1: target: rank 5 is beyond the run's 3 ranks (0..2)");
    }

    @Test
    void aLinkTheScheduleDoesNotUseIsNamedWithTheLinksThatExist() {
        assertThat(problems("link.loss 0/0->2 at=0", RUN)).containsExactly("--fault #1: target: 0/0->2 carries no messages in this "
                + "schedule (links: 0/0->1, 0/1->0, 0/1->2, 0/2->1)");
    }

    @Test
    void aRingLinkNeedsSeveralReplicas() {
        RunShape one = RunShape.of(1, 5, List.of(List.of(1), List.of(0)), 0);
        assertThat(problems("link.loss ring:0/1 at=0", one)).containsExactly("--fault #1: target: ring:0/1: the run has one replica, "
                + "so no ring links (they join replicas for the all-reduce)");
        RunShape alone = RunShape.of(1, 5, List.of(List.of()), 0);
        assertThat(problems("link.loss one at=0", alone)).containsExactly("--fault #1: target: 'one' has no link to choose from in "
                + "this run (one stage, one replica: no messages travel)");
    }

    @Test
    void aKindOnTheWrongClassOfTargetIsNamed() {
        assertThat(problems("link.loss 0/1 at=0", RUN)).containsExactly(
                "--fault #1: target: link.loss acts on a link (R/A->B or ring:R/K), got 0/1 (a stage)");
        assertThat(problems("stage.slowdown 0/1->2 at=0", RUN)).containsExactly(
                "--fault #1: target: stage.slowdown acts on a stage (R/K), got 0/1->2 (a link)");
        assertThat(problems("node.kill ring:0/1 at=0", RUN.withWorkers(2))).containsExactly(
                "--fault #1: target: node.kill acts on a node (node:N), got ring:0/1 (a ring link)");
    }

    @Test
    void aNodeFaultNeedsAClusterRunAndOneOfItsWorkers() {
        String embedded = "--fault #1: target: node faults need a cluster run (pipelab run --cluster): an embedded run has no worker JVMs";
        assertThat(problems("node.kill node:0 at=0", RUN)).containsExactly(embedded);
        assertThat(problems("node.pause all at=0", RUN)).containsExactly(embedded);
        assertThat(problems("node.kill node:3 at=0", RUN.withWorkers(3))).containsExactly(
                "--fault #1: target: node 3 is beyond the run's 3 workers (0..2)");
        // before a cluster run has found its workers (pipelab validate) only the class is checked
        assertThat(problems("node.kill node:7 at=0", RUN.withWorkers(RunShape.UNKNOWN_WORKERS))).isEmpty();
    }

    @Test
    void aStepBeyondTheRunIsNamedWithTheOtherProblems() {
        assertThat(problems("stage.crash 0/0 at=5", RUN)).containsExactly("--fault #1: atStep: must be within the run's 5 steps (0..4), got 5");
        assertThat(problems("link.loss 0/0 at=9", RUN)).containsExactly(
                "--fault #1: target: link.loss acts on a link (R/A->B or ring:R/K), got 0/0 (a stage)",
                "--fault #1: atStep: must be within the run's 5 steps (0..4), got 9");
        // a heal after the run's end is no problem: the fault lasts to the end
        assertThat(problems("link.loss 0/0->1 at=4 heal=10", RUN)).isEmpty();
    }

    @Test
    void aScenarioEntrysProblemsNameItsKeyPath() {
        Fault f = Fault.of(FaultKind.STAGE_CRASH, new FaultTarget.Stage(4, 0), 0, 0, Double.POSITIVE_INFINITY, 0, 0, "faults[3]");
        assertThat(FaultCheck.check(List.of(f), RUN)).extracting(FaultProblem::path).containsExactly("faults[3].target");
    }
}
