package dev.pipelab.monitoring.report;

import dev.pipelab.monitoring.StepSummary;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

class OutOfMemoryLinesTest {

    private static final long DEVICE = 80_000_000_000L;

    @Test
    void everyReplicaAlikeIsOneLinePerRank() {
        // Llama 3 405B without recomputation: every one of 128 replicas overflows on every rank, rank 0 needing more
        List<StepSummary.OutOfMemory> moments = new ArrayList<>();
        for (int replica = 127; replica >= 0; replica--) { // arrival order must not matter
            for (int rank = 0; rank < 16; rank++) {
                long needs = rank == 0 ? 102_718_504_960L : 98_515_812_352L;
                moments.add(new StepSummary.OutOfMemory(0, replica, rank, 0.1 * rank, needs, DEVICE));
            }
        }
        List<String> lines = OutOfMemoryLines.of(moments, 128);
        assertThat(lines).hasSize(16);
        assertThat(lines.get(0)).isEqualTo("out of memory: step 0, rank 0 of all 128 replicas needs 102.7 GB of 80.0 GB");
        assertThat(lines.get(15)).isEqualTo("out of memory: step 0, rank 15 of all 128 replicas needs 98.5 GB of 80.0 GB");
    }

    @Test
    void someReplicasAreNamedAsRanges() {
        List<StepSummary.OutOfMemory> moments = new ArrayList<>();
        for (int replica : List.of(9, 0, 1, 2, 3, 7, 10)) moments.add(new StepSummary.OutOfMemory(2, replica, 5, 1.0, 90_000_000_000L, DEVICE));
        // a memory-pressure fault on one replica: another need, its own line, after the smaller one
        moments.add(new StepSummary.OutOfMemory(2, 4, 5, 1.0, 95_000_000_000L, DEVICE));
        // an earlier step comes first
        moments.add(new StepSummary.OutOfMemory(1, 6, 3, 0.5, 81_000_000_000L, DEVICE));
        assertThat(OutOfMemoryLines.of(moments, 16)).containsExactly(
                "out of memory: step 1, rank 3 of replica 6 needs 81.0 GB of 80.0 GB",
                "out of memory: step 2, rank 5 of replicas 0-3, 7, 9-10 (7 of 16) needs 90.0 GB of 80.0 GB",
                "out of memory: step 2, rank 5 of replica 4 needs 95.0 GB of 80.0 GB");
    }

    @Test
    void oneReplicaNamesNone() {
        assertThat(OutOfMemoryLines.of(List.of(new StepSummary.OutOfMemory(0, 0, 1, 0.0, 81_000_000_000L, DEVICE)), 1))
                .containsExactly("out of memory: step 0, rank 1 needs 81.0 GB of 80.0 GB");
        assertThat(OutOfMemoryLines.of(List.of(), 8)).isEmpty();
    }

    @Test
    void rangesJoinRunsOfConsecutiveNumbers() {
        assertThat(OutOfMemoryLines.ranges(new TreeSet<>(List.of(5)))).isEqualTo("5");
        assertThat(OutOfMemoryLines.ranges(new TreeSet<>(List.of(0, 1, 3, 4, 5, 8)))).isEqualTo("0-1, 3-5, 8");
    }
}
