package dev.pipelab.fault;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The shared recovery cost model, by hand: rollback arithmetic, checkpoints, and the spare pool. */
class RecoveryBookTest {

    /** Checkpoint every 2 steps, 1 GB/s, detection 10 s, restart 30 s. */
    private static final RecoverySpec SPEC = new RecoverySpec(2, 1e9, 10, 30, 0.2, 1800, 3, false);

    @Test
    void aFailureLosesTheAttemptAndTheStepsSinceTheCheckpointAndReadsTheCheckpointBack() {
        RecoveryBook b = new RecoveryBook(SPEC, 0);
        assertThat(b.committed(0, 1.0)).isEmpty();
        assertThat(b.committed(1, 1.5)).isEmpty();
        assertThat(b.checkpointDue(1)).isTrue();
        assertThat(b.checkpointed(1, 4_000_000_000L)).isEqualTo(4.0); // 4 GB at 1 GB/s
        assertThat(b.committed(2, 2.0)).isEmpty();
        // the attempt at step 3 began at 8.5 s (1 + 1.5 + 4 + 2) and fails 0.25 s in, noticed 5 s later
        RecoveryBook.Rollback r = b.rollBack(8.75, 5, 0, 8.5);
        assertThat(r.resumeAt()).isEqualTo(2);
        assertThat(r.replayedSteps()).isEqualTo(1);
        assertThat(r.lostWorkSeconds()).isEqualTo(0.25 + 2.0);
        assertThat(r.detectedAtSeconds()).isEqualTo(13.75);
        assertThat(r.restartAtSeconds()).isEqualTo(13.75);
        assertThat(r.recoveredAtSeconds()).isEqualTo(13.75 + 30 + 4.0);
        assertThat(b.committedSteps()).isEqualTo(2);
        RecoveryBook.Totals t = b.totals(50);
        assertThat(t.usefulSeconds()).isEqualTo(2.5);
        assertThat(t.goodput()).isEqualTo(2.5 / 50);
        assertThat(t.checkpoints()).isEqualTo(1);
        assertThat(t.recoveries()).isEqualTo(1);
    }

    @Test
    void commitsComeInOrderOnce() {
        RecoveryBook b = new RecoveryBook(SPEC, 0);
        assertThat(b.committed(1, 1.0)).contains("committed after 0 steps");
        assertThat(b.committed(0, 1.0)).isEmpty();
        assertThat(b.committed(0, 1.0)).contains("committed twice");
    }

    @Test
    void withoutSparesANodeOutForRepairIsWaitedFor() {
        RecoveryBook b = new RecoveryBook(SPEC, 0);
        RecoveryBook.Rollback r = b.rollBack(100, 10, 3600, 99);
        assertThat(r.restartAtSeconds()).isEqualTo(110 + 3600);
        assertThat(r.recoveredAtSeconds()).isEqualTo(110 + 3600 + 30); // nothing to read back: the run's start
        assertThat(b.totals(4000).waitedForSpareSeconds()).isEqualTo(3600);
    }

    @Test
    void oneSpareTakesTheFirstFailedNodeAndTheSecondWaitsForTheFirstRepair() {
        RecoveryBook b = new RecoveryBook(SPEC, 1);
        // first failure at 100: the spare is free, the failed node comes back at 110 + 1000
        RecoveryBook.Rollback first = b.rollBack(100, 10, 1000, 90);
        assertThat(first.restartAtSeconds()).isEqualTo(110);
        // second at 500: the only spare is in use; the repaired node is free at 1110
        RecoveryBook.Rollback second = b.rollBack(500, 10, 1000, 400);
        assertThat(second.restartAtSeconds()).isEqualTo(1110);
        // a failure that needs no node (a software bug) never waits
        RecoveryBook.Rollback third = b.rollBack(2000, 0, 0, 1900);
        assertThat(third.restartAtSeconds()).isEqualTo(2000);
        assertThat(b.totals(3000).waitedForSpareSeconds()).isEqualTo(1110 - 510);
    }
}
