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
        assertThat(Strategy.of("explicit")).isEqualTo(Strategy.EXPLICIT);
        assertThatThrownBy(() -> Strategy.of("random")).hasMessage("placement must be pack, spread or explicit, got 'random'");
        assertThatThrownBy(() -> WorkerPlacement.assign(Strategy.EXPLICIT, List.of(8), 1, 1))
                .hasMessageContaining("explicit placement takes its map");
    }

    @Test
    void explicitTakesTheUsersMapAsWritten() {
        // rank 3 of replica 0 shares worker 2 with replica 1: nothing pack or spread would choose
        int[][] node = WorkerPlacement.explicit(List.of(List.of(0, 0, 1, 2), List.of(2, 2, 1, 0)), List.of(8, 8, 8), 2, 4);
        assertThat(node).isDeepEqualTo(new int[][] {{0, 0, 1, 2}, {2, 2, 1, 0}});
        assertThat(WorkerPlacement.of(node).node(1, 3)).isZero();
    }

    @Test
    void explicitNamesTheEntryThatNamesAMissingWorker() {
        assertThatThrownBy(() -> WorkerPlacement.explicit(List.of(List.of(0, 1), List.of(1, 3)), List.of(8, 8, 8), 2, 2))
                .hasMessage("cluster.workers[1][1]: worker 3 does not exist: the cluster has 3 worker(s), numbered 0..2 in address order");
    }

    @Test
    void explicitHonoursEveryWorkersSlots() {
        assertThatThrownBy(() -> WorkerPlacement.explicit(List.of(List.of(0, 0, 0), List.of(1, 1, 0)), List.of(3, 8), 2, 3))
                .hasMessage("cluster.workers: puts 4 stages on worker 0, which offers 3 slots: move some elsewhere or give it more --slots");
        // exactly full is fine
        assertThat(WorkerPlacement.explicit(List.of(List.of(0, 0, 0)), List.of(3), 1, 3)).isDeepEqualTo(new int[][] {{0, 0, 0}});
    }

    @Test
    void explicitChecksItsShapeAgainstTheRun() {
        // the loader checks the shape against the scenario; checked again here, a map of another run fails clearly
        assertThatThrownBy(() -> WorkerPlacement.explicit(List.of(List.of(0, 0)), List.of(8), 2, 2))
                .hasMessage("cluster.workers: must have one list per replica (2), got 1");
        assertThatThrownBy(() -> WorkerPlacement.explicit(List.of(List.of(0, 0, 0)), List.of(8), 1, 2))
                .hasMessage("cluster.workers[0]: must have one worker index per rank (2), got 3");
    }
}
