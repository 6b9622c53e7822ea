package dev.pipelab.pipeline;

import dev.pipelab.protocol.Control;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class QuiescenceTest {

    private static Control.Report stage(int wave, long sent, long received, boolean done, String stuck) {
        return new Control.Report(wave, "stage", 0, sent, received, true, 0, done, stuck.isEmpty() ? List.of() : List.of(stuck));
    }

    private static Control.Report link(int wave, long sent, long received) {
        return new Control.Report(wave, "link", Integer.MAX_VALUE, sent, received, true, Control.Report.NO_STEP, true, List.of());
    }

    @Test
    void twoIdenticalQuietWavesAreADeadlock() {
        Quiescence q = new Quiescence(2);
        q.newStep(0);
        assertThat(q.blocked(0)).isEqualTo(Quiescence.Next.PROBE);
        assertThat(q.reply(stage(1, 3, 2, false, "rank 0 waits"))).isEqualTo(Quiescence.Next.NOTHING);
        assertThat(q.reply(link(1, 2, 3))).isEqualTo(Quiescence.Next.PROBE); // quiet once: confirm
        q.reply(stage(2, 3, 2, false, "rank 0 waits"));
        assertThat(q.reply(link(2, 2, 3))).isEqualTo(Quiescence.Next.DEADLOCK);
        assertThat(q.stuck()).containsExactly("rank 0 waits");
    }

    @Test
    void aMessageInFlightOrProgressBetweenWavesIsNoDeadlock() {
        Quiescence q = new Quiescence(2);
        q.newStep(0);
        q.blocked(0);
        q.reply(stage(1, 3, 2, false, "x"));
        assertThat(q.reply(link(1, 1, 3))).isEqualTo(Quiescence.Next.NOTHING); // 4 sent, 3 received: in flight
        assertThat(q.blocked(0)).isEqualTo(Quiescence.Next.PROBE);
        q.reply(stage(2, 3, 2, false, "x"));
        assertThat(q.reply(link(2, 2, 3))).isEqualTo(Quiescence.Next.PROBE);
        q.reply(stage(3, 4, 3, false, "x")); // progressed between the waves
        assertThat(q.reply(link(3, 3, 4))).isEqualTo(Quiescence.Next.PROBE);
    }

    @Test
    void everyStageDoneIsNoDeadlockAndANoticeDuringAWaveProbesAgain() {
        Quiescence q = new Quiescence(1);
        q.newStep(0);
        q.blocked(0);
        assertThat(q.blocked(0)).isEqualTo(Quiescence.Next.NOTHING);
        assertThat(q.reply(stage(1, 0, 0, true, ""))).isEqualTo(Quiescence.Next.PROBE); // noticed during the wave
        assertThat(q.reply(stage(2, 0, 0, true, ""))).isEqualTo(Quiescence.Next.NOTHING);
        assertThat(q.blocked(7)).isEqualTo(Quiescence.Next.NOTHING); // another step's notice
    }

    @Test
    void aStageThatHasNotStartedTheStepIsNotIdle() {
        Quiescence q = new Quiescence(1);
        q.newStep(1);
        q.blocked(1);
        Control.Report behind = new Control.Report(1, "stage", 0, 0, 0, true, 0, true, List.of());
        assertThat(q.reply(behind)).isEqualTo(Quiescence.Next.NOTHING);
    }

    @Test
    void theDataLoaderHandsOutAndCommitsEachOffsetOnce() {
        DataLoader loader = new DataLoader(1, 3, 4);
        assertThat(loader.offsets(2)).containsExactly(28L, 29L, 30L, 31L);
        assertThat(loader.commit(1, List.of(16L, 17L, 18L, 19L))).contains("step 1 completed but 0 is the next to commit");
        assertThat(loader.commit(0, List.of(4L, 5L, 5L, 7L))).contains("offset 5 consumed twice");
        assertThat(loader.commit(0, List.of(4L, 5L, 6L))).contains("consumed 3 micro-batches, expected 4");
        assertThat(loader.commit(0, List.of(4L, 5L, 6L, 8L))).contains("offset 8 is not one of this step's");
        assertThat(loader.commit(0, List.of(7L, 5L, 6L, 4L))).isEmpty();
        assertThat(loader.committedSteps()).isEqualTo(1);
    }
}
