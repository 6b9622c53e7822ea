package dev.pipelab.monitoring;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class LedgerTest {

    /** d = 2 replicas of p = 3 ranks, m = 4 micro-batches per replica and step. */
    private static final int D = 2;
    private static final int P = 3;
    private static final int M = 4;

    /** Attempt {@code attempt} committing training step {@code step} soundly: offsets step·m·d + replica·m + mb. */
    private static Event.StepCommitted commit(int attempt, int step) {
        List<Event.Consumed> replicas = new ArrayList<>();
        for (int replica = 0; replica < D; replica++) replicas.add(consumed(replica, (long) step * M * D + (long) replica * M, M));
        return new Event.StepCommitted(attempt, step, replicas);
    }

    private static Event.Consumed consumed(int replica, long first, int count) {
        List<Long> offsets = new ArrayList<>();
        for (int i = 0; i < count; i++) offsets.add(first + i);
        return new Event.Consumed(replica, offsets, List.of(1, 1, 1));
    }

    /** A recovery after attempt {@code attempt} failed, resuming from {@code from}, replaying {@code replayed} steps. */
    private static Event.Recovered recovered(int attempt, int from, int replayed) {
        return new Event.Recovered(attempt, 0, "stage 0/1 crashed", 10.0 * attempt + 1, 10.0 * attempt + 2,
                10.0 * attempt + 5, from, replayed, 3.0);
    }

    private static Ledger ledger(List<Event.StepCommitted> commits, List<Event.Recovered> recoveries) {
        return Ledger.of(D, P, M, commits, recoveries);
    }

    @Test
    void aFaultFreeRunBalancesWithOneCommitPerStep() {
        Ledger l = ledger(List.of(commit(0, 0), commit(1, 1), commit(2, 2)), List.of());
        assertThat(l.problems()).isEmpty();
        assertThat(l.balanced()).isTrue();
        assertThat(l.steps()).isEqualTo(3);
        assertThat(l.lineage()).extracting(Event.StepCommitted::step).containsExactly(0, 1, 2);
        assertThat(l.discarded()).isEmpty();
        assertThat(l.verdict()).isEqualTo("balanced (3 training steps)");
        assertThat(l.problems(3)).isEmpty();
        assertThat(l.problems(4)).containsExactly("the lineage holds 3 training steps, expected 4");
    }

    @Test
    void aReplayAfterARecoveryCountsTheLastAttemptAndDiscardsTheEarlierCommits() {
        // steps 0..3 committed by attempts 0..3; attempt 4 fails; the checkpoint after step 1 lets steps 2 and 3 replay
        List<Event.StepCommitted> commits = List.of(commit(0, 0), commit(1, 1), commit(2, 2), commit(3, 3),
                commit(5, 2), commit(6, 3), commit(7, 4));
        Ledger l = ledger(commits, List.of(recovered(4, 2, 2)));
        assertThat(l.problems()).isEmpty();
        assertThat(l.steps()).isEqualTo(5);
        assertThat(l.lineage()).extracting(Event.StepCommitted::step).containsExactly(0, 1, 5, 6, 7);
        assertThat(l.discarded()).containsExactly(2, 3);
        assertThat(l.attempts()).containsEntry(2, List.of(2, 5)).containsEntry(3, List.of(3, 6)).containsEntry(4, List.of(7));

        // the same events in any order give the same ledger
        List<Event.StepCommitted> shuffled = new ArrayList<>(commits);
        Collections.shuffle(shuffled, new Random(5));
        assertThat(ledger(shuffled, List.of(recovered(4, 2, 2)))).isEqualTo(l);
    }

    @Test
    void twoRecoveriesInARowEachDiscardWhatCameBeforeThem() {
        // attempt 3 fails (resume from 1, replay step 1 and 2), the replay of step 1 (attempt 4) succeeds, attempt 5 fails
        // again (resume from 1: replays step 1 once more)
        List<Event.StepCommitted> commits = List.of(commit(0, 0), commit(1, 1), commit(2, 2), commit(4, 1), commit(6, 1),
                commit(7, 2));
        Ledger l = ledger(commits, List.of(recovered(3, 1, 2), recovered(5, 1, 1)));
        assertThat(l.problems()).isEmpty();
        assertThat(l.lineage()).extracting(Event.StepCommitted::step).containsExactly(0, 6, 7);
        assertThat(l.discarded()).containsExactly(1, 2, 4);
    }

    @Test
    void aReplayedStepWithoutTheRecoveryThatDiscardsItIsCountedTwice() {
        Ledger l = ledger(List.of(commit(0, 0), commit(1, 1), commit(3, 1)), List.of());
        assertThat(l.balanced()).isFalse();
        assertThat(l.problems()).contains("training step 1: committed 2 times (attempts 1, 3), expected once");
        // the counted one is the last attempt's; its offsets are those of the first: no offset is checked twice
        assertThat(l.lineage()).extracting(Event.StepCommitted::step).containsExactly(0, 3);
        assertThat(l.problems()).hasSize(1);
    }

    @Test
    void aGapInTheLineageIsCaught() {
        Ledger l = ledger(List.of(commit(0, 0), commit(1, 2)), List.of());
        assertThat(l.problems()).containsExactly("training step 1: never committed (later steps were)");
        // a recovery that goes back further than it replays leaves a gap too
        Ledger back = ledger(List.of(commit(0, 0), commit(1, 1), commit(3, 2)), List.of(recovered(2, 1, 1)));
        assertThat(back.problems()).containsExactly("training step 1: never committed (later steps were)");
    }

    @Test
    void offsetsLostOrCountedTwiceAreCaughtWithTheirPlace() {
        Event.StepCommitted shortOne = new Event.StepCommitted(1, 1, List.of(consumed(0, 8, 3), consumed(1, 12, 4)));
        Event.StepCommitted twice = new Event.StepCommitted(2, 2, List.of(
                new Event.Consumed(0, List.of(16L, 17L, 17L, 19L), List.of(1, 1, 1)), consumed(1, 20, 4)));
        // step 3 re-consumes step 0's offsets 0..3 (a replay that resumed from the wrong offset)
        Event.StepCommitted stale = new Event.StepCommitted(3, 3, List.of(consumed(0, 0, 4), consumed(1, 28, 4)));
        Ledger l = ledger(List.of(commit(0, 0), shortOne, twice, stale), List.of());
        assertThat(l.problems()).containsExactly(
                "training step 1 (attempt 1) replica 0: consumed 3 offsets, expected 4",
                "training step 2 (attempt 2) replica 0: consumed offset 17 more than once",
                "training step 3 (attempt 3) replica 0: consumed offset 0, already consumed by training step 0 replica 0",
                "training step 3 (attempt 3) replica 0: consumed offset 1, already consumed by training step 0 replica 0",
                "training step 3 (attempt 3) replica 0: consumed offset 2, already consumed by training step 0 replica 0",
                "training step 3 (attempt 3) replica 0: consumed offset 3, already consumed by training step 0 replica 0");
        assertThat(l.verdict()).startsWith("NOT balanced: 6 problems: training step 1 (attempt 1) replica 0: consumed 3")
                .endsWith("; ...");
    }

    @Test
    void replicasMissingUnknownOrTwiceAndOptimizerStepsAreChecked() {
        Event.StepCommitted missing = new Event.StepCommitted(0, 0, List.of(consumed(0, 0, 4)));
        Event.StepCommitted odd = new Event.StepCommitted(1, 1, List.of(consumed(0, 8, 4), consumed(0, 12, 4),
                consumed(2, 16, 4), new Event.Consumed(1, List.of(20L, 21L, 22L, 23L), List.of(1, 2, 0))));
        Event.StepCommitted ranks = new Event.StepCommitted(2, 2, List.of(consumed(0, 24, 4),
                new Event.Consumed(1, List.of(28L, 29L, 30L, 31L), List.of(1, 1))));
        Ledger l = ledger(List.of(missing, odd, ranks), List.of());
        assertThat(l.problems()).containsExactly(
                "training step 0 (attempt 0) replica 1: consumed nothing (missing)",
                "training step 1 (attempt 1) replica 0: listed twice",
                "training step 1 (attempt 1) replica 2: no such replica, expected 0..1",
                "training step 1 (attempt 1) replica 1 rank 1: applied the optimizer 2 times, expected once",
                "training step 1 (attempt 1) replica 1 rank 2: applied the optimizer 0 times, expected once",
                "training step 2 (attempt 2) replica 1: optimizer steps of 2 ranks, expected 3");
    }

    @Test
    void aRecoveryThatMiscountsItsReplayOrAnAttemptThatBothCommittedAndFailedIsCaught() {
        Ledger miscount = ledger(List.of(commit(0, 0), commit(1, 1), commit(3, 1)), List.of(recovered(2, 1, 3)));
        assertThat(miscount.problems()).containsExactly(
                "recovery of attempt 2: says it replays 3 step(s) from training step 1, but 1 commit(s) from there were thrown away");
        Ledger both = ledger(List.of(commit(0, 0), commit(1, 1)), List.of(recovered(1, 1, 0)));
        assertThat(both.problems()).containsExactly("attempt 1: committed training step 1 and also failed (a recovery names it)");
        Ledger twoCommits = ledger(List.of(commit(0, 0), commit(0, 1)), List.of());
        assertThat(twoCommits.problems()).contains("attempt 0: two different commits (training steps 0 and 1)");
    }

    @Test
    void offsetsAreWrittenAsCompactRangesInConsumptionOrder() {
        assertThat(Ledger.ranges(List.of(0L, 1L, 2L, 3L, 8L, 9L, 5L))).isEqualTo("0-3,8-9,5");
        assertThat(Ledger.ranges(List.of(7L))).isEqualTo("7");
        assertThat(Ledger.ranges(List.of(3L, 2L, 2L))).isEqualTo("3,2,2");
        assertThat(Ledger.ranges(List.of())).isEmpty();
    }
}
