package dev.pipelab.pipeline;

import dev.pipelab.fault.RecoveryBook;
import dev.pipelab.fault.RecoverySpec;
import dev.pipelab.monitoring.Event;
import dev.pipelab.protocol.Payload;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The lineage's ledger checks and the arithmetic of a recovery, by hand (docs/faults.md). */
class LineageTest {

    /** m = 2, checkpoints every 2 steps at 1 GB/s, restart 30 s. */
    private static final RecoverySpec SPEC = new RecoverySpec(2, 1e9, 10, 30, 0.2, 1800, 3, false);

    private static List<Event.Consumed> consumed(long first) {
        return List.of(new Event.Consumed(0, List.of(first, first + 1), List.of(1, 1)));
    }

    @Test
    void aStepCommitsOnceWithItsOwnOffsetsAndOneOptimizerStepPerRank() {
        Lineage l = new Lineage(2, SPEC, 0);
        assertThat(l.commit(0, 1.5, consumed(0))).isEmpty();
        assertThat(l.commit(0, 1.5, consumed(0))).isEqualTo("ledger: training step 0 committed twice");
        assertThat(l.commit(2, 1.5, consumed(4))).isEqualTo("ledger: training step 2 committed after 1 steps");
        assertThat(l.commit(1, 1.5, consumed(1))).isEqualTo("ledger: offset 1 consumed in training steps 0 and 1");
        assertThat(l.commit(1, 1.5, List.of(new Event.Consumed(0, List.of(2L), List.of(1, 1)))))
                .isEqualTo("ledger: replica 0 consumed 1 micro-batches in training step 1");
        assertThat(l.commit(1, 1.5, List.of(new Event.Consumed(0, List.of(2L, 3L), List.of(1, 2)))))
                .isEqualTo("ledger: replica 0 rank 1 applied the optimizer 2 times for training step 1");
        assertThat(l.commit(1, 1.5, consumed(2))).isEmpty();
    }

    @Test
    void aFailureRollsBackToTheLastCheckpointAndCostsRestartAndReading() {
        Lineage l = new Lineage(2, SPEC, 0);
        assertThat(l.commit(0, 1.0, consumed(0))).isEmpty();
        assertThat(l.checkpointDue(0)).isFalse();
        assertThat(l.commit(1, 2.0, consumed(2))).isEmpty();
        assertThat(l.checkpointDue(1)).isTrue();
        assertThat(l.checkpointed(1, Map.of(0, List.of(new Payload(new byte[] {1}))), 4_000_000_000L)).isEqualTo(4.0);
        assertThat(l.checkpointStep()).isEqualTo(2);
        assertThat(l.commit(2, 3.0, consumed(4))).isEmpty();
        // training step 3 fails 0.5 s into its attempt, which began at t = 10: step 2 is replayed
        assertThat(l.failed(3)).isEqualTo(1);
        RecoveryBook.Rollback back = l.rollBack(10.5, 0, 0, 10.0);
        assertThat(back.resumeAt()).isEqualTo(2);
        assertThat(back.replayedSteps()).isEqualTo(1);
        assertThat(back.lostWorkSeconds()).isEqualTo(0.5 + 3.0);
        assertThat(back.recoveredAtSeconds()).isEqualTo(10.5 + 30 + 4.0);
        // the replay consumes step 2's offsets again, which the rollback released
        assertThat(l.commit(2, 3.0, consumed(4))).isEmpty();
        RunResult.Recovery t = l.totals(100.0, 7);
        assertThat(t).isEqualTo(new RunResult.Recovery(1, 1, 3.5, 6.0, 100.0, 7, 1, 4.0));
        assertThat(t.goodput()).isEqualTo(0.06);
    }

    @Test
    void theRunsStartIsACheckpointThatNeedsNothingReadBack() {
        Lineage l = new Lineage(2, SPEC, 0);
        RecoveryBook.Rollback back = l.rollBack(0.25, 0, 0, 0.0);
        assertThat(back).isEqualTo(new RecoveryBook.Rollback(0, 0, 0.25, 0.25, 0.25, 30.25));
        assertThat(l.checkpointState()).isEmpty();
        assertThat(l.failed(0)).isEqualTo(1);
        assertThat(l.failed(0)).isEqualTo(2);
    }
}
