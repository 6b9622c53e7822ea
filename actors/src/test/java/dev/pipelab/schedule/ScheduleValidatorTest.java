package dev.pipelab.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ScheduleValidatorTest {

    /** 1F1B p=4 m=8 with one rank's row replaced. */
    private static Schedule withRow(Schedule s, int rank, List<Action> row) {
        List<List<Action>> rows = new ArrayList<>(s.actionsByRank());
        rows.set(rank, row);
        return new Schedule(s.name(), s.ranks(), s.virtualStages(), s.microBatches(), s.splitBackward(), rows);
    }

    private static List<Action> row(Schedule s, int rank) {
        return new ArrayList<>(s.actions(rank));
    }

    @Test
    void aValidScheduleRendersItsGridAndOk() {
        ScheduleValidator.Result r = ScheduleValidator.validate(Schedules.oneFOneB(2, 2));
        assertThat(r.isValid()).isTrue();
        assertThat(r.render()).isEqualTo("""
                # name=1f1b p=2 v=1 m=2 split=false
                rank 0 | 0F0 0F1 0B0 0B1
                rank 1 | 1F0 1B0 1F1 1B1
                ok
                """);
    }

    @Test
    void aMissingBackwardIsReportedAndTheRankWaitingForItIsMarked() {
        Schedule good = Schedules.oneFOneB(2, 2);
        List<Action> r1 = row(good, 1);
        r1.remove(Action.b(1, 1));
        ScheduleValidator.Result r = ScheduleValidator.validate(withRow(good, 1, r1));
        assertThat(r.render()).isEqualTo("""
                # name=1f1b p=2 v=1 m=2 split=false
                rank 0 |  0F0   0F1   0B0  [0B1]
                rank 1 |  1F0   1B0   1F1
                2 problems:
                  rank 0 #3 0B1: deadlock: never runs, waits for 1B1 (which no rank runs)
                  rank 1 #- 1B1: missing: stage 1 runs 1 of 2 B (expected one per micro-batch)
                """);
    }

    @Test
    void aForwardAndBackwardSwappedOnOneRankMarksTheBackward() {
        Schedule good = Schedules.oneFOneB(4, 8);
        List<Action> r2 = row(good, 2);
        // rank 2: 2F0 2F1 2B0 2F2 ... -> swap 2F2 and its neighbour 2B0 is fine; swap 2B3 before 2F3 is not
        int f3 = r2.indexOf(Action.f(2, 3));
        int b3 = r2.indexOf(Action.b(2, 3));
        r2.set(f3, Action.b(2, 3));
        r2.set(b3, Action.f(2, 3));
        ScheduleValidator.Result r = ScheduleValidator.validate(withRow(good, 2, r2));
        String out = r.render();
        assertThat(out).contains("rank 2 |  2F0   2F1   2B0   2F2   2B1  [2B3]  2B2 ");
        assertThat(out).contains("rank 2 #5 2B3: runs before its forward 2F3 (#8)");
        assertThat(out).contains("rank 2 #5 2B3: deadlock: never runs, waits for 2F3 (at rank 2 #8, which never runs); 10 more actions on this rank never run");
    }

    @Test
    void aDuplicateIsMarkedAtItsSecondOccurrence() {
        Schedule good = Schedules.gpipe(2, 2);
        List<Action> r0 = row(good, 0);
        r0.add(Action.b(0, 1));
        ScheduleValidator.Result r = ScheduleValidator.validate(withRow(good, 0, r0));
        assertThat(r.render()).isEqualTo("""
                # name=gpipe p=2 v=1 m=2 split=false
                rank 0 |  0F0   0F1   0B0   0B1  [0B1]
                rank 1 |  1F0   1F1   1B0   1B1
                1 problem:
                  rank 0 #4 0B1: duplicate: 0B1 already runs at rank 0 #3
                """);
    }

    @Test
    void anActionOnTheWrongRankIsMarked() {
        Schedule good = Schedules.gpipe(2, 1);
        Schedule bad = new Schedule("gpipe", 2, 1, 1, false, List.of(
                List.of(Action.f(0, 0), Action.b(0, 0)),
                List.of(Action.f(1, 0), Action.b(1, 0), Action.f(0, 0))));
        assertThat(ScheduleValidator.validate(good).isValid()).isTrue();
        ScheduleValidator.Result r = ScheduleValidator.validate(bad);
        assertThat(r.render()).contains("rank 1 |  1F0   1B0  [0F0]");
        assertThat(r.problems()).extracting(ScheduleProblem::toString).contains(
                "rank 1 #2 0F0: on the wrong rank: stage 0 lives on rank 0 (placement loop)",
                "rank 1 #2 0F0: duplicate: 0F0 already runs at rank 0 #0");
    }

    @Test
    void aCrossRankDeadlockShowsTheFirstStuckActionOfEachRank() {
        // each rank waits for the other: rank 0 wants 0B0 (needs 1B0) before 0F1; rank 1 wants 1F1 before 1B0
        Schedule bad = new Schedule("custom", 2, 1, 2, false, List.of(
                List.of(Action.f(0, 0), Action.b(0, 0), Action.f(0, 1), Action.b(0, 1)),
                List.of(Action.f(1, 0), Action.f(1, 1), Action.b(1, 0), Action.b(1, 1))));
        ScheduleValidator.Result r = ScheduleValidator.validate(bad);
        assertThat(r.render()).isEqualTo("""
                # name=custom p=2 v=1 m=2 split=false
                rank 0 |  0F0  [0B0]  0F1   0B1
                rank 1 |  1F0  [1F1]  1B0   1B1
                2 problems:
                  rank 0 #1 0B0: deadlock: never runs, waits for 1B0 (at rank 1 #2, which never runs); 2 more actions on this rank never run
                  rank 1 #1 1F1: deadlock: never runs, waits for 0F1 (at rank 0 #2, which never runs); 2 more actions on this rank never run
                """);
    }

    @Test
    void splitBackwardNeedsEveryWAfterItsBAndNoWOtherwise() {
        Schedule noSplit = new Schedule("custom", 1, 1, 1, false, List.of(
                List.of(Action.f(0, 0), Action.b(0, 0), Action.w(0, 0))));
        assertThat(ScheduleValidator.validate(noSplit).problems()).extracting(ScheduleProblem::toString)
                .containsExactly("rank 0 #2 0W0: W in a schedule that does not split the backward (split=false)");
        Schedule early = new Schedule("custom", 1, 1, 1, true, List.of(
                List.of(Action.f(0, 0), Action.w(0, 0), Action.b(0, 0))));
        assertThat(ScheduleValidator.validate(early).problems()).extracting(ScheduleProblem::toString).containsExactly(
                "rank 0 #1 0W0: runs before its backward 0B0 (#2)",
                "rank 0 #1 0W0: deadlock: never runs, waits for 0B0 (at rank 0 #2, which never runs); 1 more action on this rank never run");
        Schedule missingW = new Schedule("custom", 1, 1, 1, true, List.of(List.of(Action.f(0, 0), Action.b(0, 0))));
        assertThat(ScheduleValidator.validate(missingW).problems()).extracting(ScheduleProblem::toString)
                .containsExactly("rank 0 #- 0W0: missing: stage 0 runs 0 of 1 W (expected one per micro-batch)");
    }

    @Test
    void rangesAndRecomputeOrder() {
        Schedule bad = new Schedule("custom", 1, 1, 1, false, List.of(
                List.of(Action.f(0, 0), Action.b(0, 0), Action.r(0, 0), Action.f(1, 0), Action.f(0, 5))));
        assertThat(ScheduleValidator.validate(bad).problems()).extracting(ScheduleProblem::toString).containsExactly(
                "rank 0 #2 0R0: recompute after its backward 0B0 (#1): expected before it",
                "rank 0 #3 1F0: stage 1 out of range: expected [0, 1) for p=1 v=1",
                "rank 0 #4 0F5: micro-batch 5 out of range: expected [0, 1)");
    }
}
