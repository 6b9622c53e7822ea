package dev.pipelab.schedule;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RoutingTest {

    @Test
    void forwardsGoDownTheStagesAndBackwardsComeBackInTheSendersOrder() {
        // rank 0: 0F0 0F1 0B0 0B1, rank 1: 1F0 1F1 1B0 1B1
        Routing r = Routing.of(Schedules.gpipe(2, 2));
        assertThat(List.of(r.outRank(0, 0), r.outPosition(0, 0), r.outSeq(0, 0))).containsExactly(1, 0, 0);
        assertThat(List.of(r.outRank(0, 1), r.outPosition(0, 1), r.outSeq(0, 1))).containsExactly(1, 1, 1);
        assertThat(List.of(r.outRank(0, 2), r.outPosition(0, 2), r.outSeq(0, 2))).containsOnly(Routing.NONE);
        assertThat(List.of(r.outRank(1, 0), r.outRank(1, 1))).containsOnly(Routing.NONE);
        assertThat(List.of(r.outRank(1, 3), r.outPosition(1, 3), r.outSeq(1, 3))).containsExactly(0, 3, 1);
        assertThat(List.of(r.inputRank(1, 1), r.inputSeq(1, 1))).containsExactly(0, 1);
        assertThat(List.of(r.inputRank(0, 2), r.inputSeq(0, 2))).containsExactly(1, 0);
        assertThat(List.of(r.inputRank(0, 0), r.inputSeq(0, 0))).containsOnly(Routing.NONE);
        assertThat(List.of(r.messages(0, 1), r.messages(1, 0), r.messages(0, 0))).containsExactly(2, 2, 0);
        assertThat(List.of(r.consumer(1, 0, 0), r.consumer(1, 0, 1))).containsExactly(2, 3);
    }

    @Test
    void aMessageBetweenStagesOfOneRankHasNoSequenceNumber() {
        Schedule s = ScheduleText.parse("# name=custom p=1 v=2 m=1 split=false\n0F0 1F0 1B0 0B0\n", "test");
        Routing r = Routing.of(s);
        assertThat(List.of(r.outRank(0, 0), r.outPosition(0, 0), r.outSeq(0, 0))).containsExactly(0, 1, Routing.NONE);
        assertThat(List.of(r.inputRank(0, 1), r.inputSeq(0, 1))).containsExactly(0, Routing.NONE);
        assertThat(List.of(r.outRank(0, 2), r.outPosition(0, 2))).containsExactly(0, 3);
        assertThat(r.messages(0, 0)).isZero();
    }

    @Test
    void everyShippedScheduleRoutesEachInputOnceAndNumbersEachLinkInItsSendersOrder() {
        for (String name : Schedules.NAMES) {
            int v = name.equals("interleaved") || Schedules.V_SHAPED.contains(name) ? 2 : 1;
            Schedule s = Schedules.byName(name, 4, v, 8, new PassTimes(1, 2, 1, 0));
            Routing r = Routing.of(s);
            for (int rank = 0; rank < s.ranks(); rank++) {
                int[] nextSeq = new int[s.ranks()];
                for (int j = 0; j < s.actions(rank).size(); j++) {
                    Action a = s.actions(rank).get(j);
                    assertThat(r.inputRank(rank, j) != Routing.NONE).as(name + " " + a).isEqualTo(Routing.needsInput(a, s.stages()));
                    int dst = r.outRank(rank, j);
                    if (dst == Routing.NONE) continue;
                    int pos = r.outPosition(rank, j);
                    assertThat(r.inputRank(dst, pos)).isEqualTo(rank);
                    int seq = r.outSeq(rank, j);
                    assertThat(seq).as(name + " " + a).isEqualTo(dst == rank ? Routing.NONE : nextSeq[dst]++);
                    assertThat(r.inputSeq(dst, pos)).isEqualTo(seq);
                    if (seq != Routing.NONE) assertThat(r.consumer(rank, dst, seq)).isEqualTo(pos);
                }
                for (int q = 0; q < s.ranks(); q++) assertThat(r.messages(rank, q)).isEqualTo(nextSeq[q]);
            }
        }
    }

    @Test
    void anUnvalidatedScheduleFailsWithTheActionToBlame() {
        Schedule misplaced = new Schedule("custom", 2, 1, 1, false, List.of(List.of(Action.f(1, 0)), List.of(Action.f(0, 0))));
        assertThatThrownBy(() -> Routing.of(misplaced)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("action 1F0 on rank 0 does not fit the schedule (validate it first)");
        Schedule orphan = new Schedule("custom", 2, 1, 2, false,
                List.of(List.of(Action.f(0, 0), Action.b(0, 0)), List.of(Action.f(1, 1), Action.b(1, 1))));
        assertThatThrownBy(() -> Routing.of(orphan)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("action 0F0 sends to a stage that never runs micro-batch 0 (validate the schedule first)");
        assertThatThrownBy(() -> Evaluator.compile(orphan)).hasMessage("action 0F0 sends to a stage that never runs micro-batch 0 (validate the schedule first)");
    }
}
