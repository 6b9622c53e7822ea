package dev.pipelab.cluster;

import dev.pipelab.cluster.WorkerPlacement.Strategy;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** pack keeps replicas together and apart from each other, spread deals round-robin, and both honour every worker's slots. */
class WorkerPlacementTest {

    @Test
    void packKeepsEachReplicaOnOneWorkerAndTheReplicasOnDifferentWorkers() {
        int[][] node = WorkerPlacement.assign(Strategy.PACK, List.of(8, 8, 8), 2, 4);
        assertThat(node[0]).containsOnly(0);
        assertThat(node[1]).containsOnly(1);
    }

    @Test
    void packSpillsAReplicaOnlyWhenItsWorkerIsFull() {
        // 3 slots each: replica 0 fills worker 0 and spills one rank onto the emptiest other worker
        int[][] node = WorkerPlacement.assign(Strategy.PACK, List.of(3, 3, 3), 2, 4);
        assertThat(node[0]).containsExactly(0, 0, 0, 1);
        assertThat(node[1]).containsExactly(2, 2, 2, 1);
    }

    @Test
    void spreadDealsStagesRoundRobinAndSkipsFullWorkers() {
        assertThat(WorkerPlacement.assign(Strategy.SPREAD, List.of(8, 8, 8), 2, 4))
                .isDeepEqualTo(new int[][] {{0, 1, 2, 0}, {1, 2, 0, 1}});
        assertThat(WorkerPlacement.assign(Strategy.SPREAD, List.of(1, 8), 1, 4)).isDeepEqualTo(new int[][] {{0, 1, 1, 1}});
    }

    @Test
    void tooFewSlotsFailWithTheNumbers() {
        assertThatThrownBy(() -> WorkerPlacement.assign(Strategy.PACK, List.of(2, 2), 2, 4))
                .hasMessage("the 2 worker(s) offer 4 slots for 8 stages (2 replicas x 4 ranks): add workers or give them more --slots");
        assertThatThrownBy(() -> WorkerPlacement.assign(Strategy.SPREAD, List.of(), 1, 1)).hasMessage("no workers to place on");
    }

    @Test
    void strategiesAreNamedInLowerCase() {
        assertThat(Strategy.of("spread")).isEqualTo(Strategy.SPREAD);
        assertThatThrownBy(() -> Strategy.of("explicit")).hasMessage("placement must be pack or spread, got 'explicit'");
    }
}
