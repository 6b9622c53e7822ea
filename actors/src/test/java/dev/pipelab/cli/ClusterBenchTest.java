package dev.pipelab.cli;

import dev.pipelab.cluster.WorkerPlacement;
import dev.pipelab.plan.Plan;
import dev.pipelab.plan.Planner;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code pipelab bench cluster} before it starts anything: bad flags and a scenario it cannot measure are one line and
 * exit 2 (no process is started for them), and the default scenario is the one its documentation names.
 */
class ClusterBenchTest {

    @Test
    void nodesOutsideTheRangeIsOneLineAndExitTwo() {
        CliTest.Result r = CliTest.run("bench", "cluster", "--nodes", "0");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err().strip()).isEqualTo("pipelab: --nodes must be in 1..64, got 0");
    }

    @Test
    void aRealNumericsScenarioIsRefusedBeforeAnyWorkerStarts() {
        CliTest.Result r = CliTest.run("bench", "cluster", "--scenario", CliTest.scenario("tiny-transformer-real.yaml"));
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err().strip()).isEqualTo("pipelab: bench cluster: --scenario must use emulated numerics, not training.numerics: real");
        assertThat(r.out()).doesNotContain("cluster start-up");
    }

    @Test
    void moreStagesThanTheWorkersSlotsAreRefusedBeforeAnyWorkerStarts() {
        // the default scenario's 16 stages on one worker of cores x 4 slots (8 on 2 cores)
        int slots = Runtime.getRuntime().availableProcessors() * 4;
        // on 4 cores or more one worker holds them, and the bench would really run
        assumeTrue(slots < 16, "one worker of " + slots + " slots holds the 16 stages here");
        CliTest.Result r = CliTest.run("bench", "cluster", "--nodes", "1");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err().strip()).isEqualTo("pipelab: bench cluster: 16 stages (2 replicas x 8 ranks) need more than the " + slots
                + " slots of 1 worker(s): raise --nodes");
        assertThat(r.out()).doesNotContain("cluster start-up");
    }

    @Test
    void theDefaultScenarioPutsEachReplicaOnOneWorkerWithPackAndEveryStageOnTheNextWithSpread() {
        Plan plan = Planner.plan(ClusterBench.defaultScenario());
        assertThat(plan.pipeline()).isEqualTo(8);
        assertThat(plan.data()).isEqualTo(2);
        assertThat(plan.microBatches()).isEqualTo(64);
        // three workers of 8 slots (2 cores x 4): pack keeps the pipeline edges inside a JVM and sends the ring across
        int[][] pack = WorkerPlacement.assign(WorkerPlacement.Strategy.PACK, List.of(8, 8, 8), 2, 8);
        assertThat(Arrays.stream(pack[0]).distinct().count()).isEqualTo(1);
        assertThat(Arrays.stream(pack[1]).distinct().count()).isEqualTo(1);
        assertThat(pack[0][0]).isNotEqualTo(pack[1][0]);
        int[][] spread = WorkerPlacement.assign(WorkerPlacement.Strategy.SPREAD, List.of(8, 8, 8), 2, 8);
        for (int[] replica : spread) for (int s = 1; s < replica.length; s++) assertThat(replica[s]).isNotEqualTo(replica[s - 1]);
    }
}
