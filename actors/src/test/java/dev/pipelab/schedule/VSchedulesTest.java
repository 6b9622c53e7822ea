package dev.pipelab.schedule;

import org.junit.jupiter.api.Test;

import java.util.Collections;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The V-shaped schedules against their papers' statements, measured by the analytic {@link Evaluator} with uniform
 * model stages and free links. A model of p·S layers is p stages of S layers for 1F1B and 2p chunks of S/2 layers
 * for the V, so a chunk's times and activation are half a 1F1B stage's.
 */
class VSchedulesTest {

    /** Stage costs with the given times and activation stash, nothing else. */
    private static List<StageCost> uniform(int stages, double f, double b, double w, long stash) {
        return Collections.nCopies(stages, new StageCost(f, b, w, 0, 0, 0, stash, 0, 0, RingAllReduce.NONE, 0));
    }

    private static Timeline run(Schedule s, double f, double b, double w, long stash) {
        return Evaluator.evaluate(s, uniform(s.stages(), f, b, w, stash), Network.free());
    }

    @Test
    void theVPlacesStagesRAnd2pMinus1MinusROnRankR() {
        StagePlacement v = StagePlacement.vShape(4);
        assertThat(List.of(v.rankOf(0), v.rankOf(3), v.rankOf(4), v.rankOf(7))).containsExactly(0, 3, 3, 0);
        assertThat(List.of(v.stageOf(1, 0), v.stageOf(1, 1))).containsExactly(1, 6);
        assertThat(VSchedules.zbV(4, 8).placement()).isEqualTo(v);
        assertThat(VSchedules.dualPipeV(4, 8).placement()).isEqualTo(v);
        // the turn at the bottom of the V stays on the last rank: no message crosses a link there
        Routing routing = Routing.of(VSchedules.zbV(4, 8));
        Schedule s = VSchedules.zbV(4, 8);
        for (int j = 0; j < s.actions(3).size(); j++) {
            Action a = s.actions(3).get(j);
            if (a.stage() == 3 && a.kind() == Action.Kind.F) assertThat(routing.outRank(3, j)).isEqualTo(3);
        }
    }

    @Test
    void everyVScheduleIsValidOverTheGrid() {
        for (int p = 1; p <= 8; p++) {
            for (int m = 1; m <= 4 * p + 1; m++) {
                assertThat(ScheduleValidator.validate(VSchedules.zbV(p, m)).problems()).as("zb-v p=%d m=%d", p, m).isEmpty();
                if (m >= 2 * p) {
                    assertThat(ScheduleValidator.validate(VSchedules.dualPipeV(p, m)).problems()).as("dualpipev p=%d m=%d", p, m).isEmpty();
                }
            }
        }
    }

    @Test
    void zbVHasNoBubbleBetweenARanksFirstAndLastActionAnd1F1BsActivationMemory() {
        // Qi et al. 2024 ("Pipeline Parallelism with Controllable Memory"), and the ZB-V row of the zero-bubble
        // authors' comparison: with T_F = T_B = T_W, bubble rate 0 and the activation memory of 1F1B
        long stageStash = 1 << 20;
        for (int p = 1; p <= 8; p++) {
            for (int m = 2 * p - 1; m <= 4 * p; m++) {
                Timeline zbv = run(VSchedules.zbV(p, m), 1, 1, 1, stageStash / 2);
                Timeline oneFOneB = run(Schedules.oneFOneB(p, m), 2, 2, 2, stageStash);
                for (int r = 0; r < p; r++) {
                    int last = zbv.schedule().actions(r).size() - 1;
                    assertThat(zbv.end(r, last) - zbv.start(r, 0)).as("p=%d m=%d rank %d", p, m, r).isEqualTo(zbv.busySeconds(r));
                    // the only idle time is the first forward's way down the V, (p-1) chunk forwards
                    assertThat(zbv.idleSeconds(r)).as("p=%d m=%d rank %d", p, m, r).isEqualTo(p - 1.0);
                    assertThat(zbv.peakInFlight(r)).as("p=%d m=%d rank %d", p, m, r).isEqualTo(2 * p);
                    assertThat(zbv.peakMemoryBytes(r)).isEqualTo(oneFOneB.peakMemoryBytes(0));
                }
                // the same model under 1F1B idles (p-1)(T_F + T_B) per rank: 6(p-1) chunk units against p-1
                assertThat(oneFOneB.idleSeconds(0)).isEqualTo(6.0 * (p - 1));
            }
        }
    }

    @Test
    void zbVWithFewMicroBatchesDropsTheActionsBeyondM() {
        // PyTorch builds max(m, 2p-1) micro-batches' worth of actions and leaves out those beyond m
        Schedule s = VSchedules.zbV(4, 2);
        assertThat(s.size()).isEqualTo(8 * 2 * 3);
        assertThat(ScheduleValidator.validate(s).isValid()).isTrue();
    }

    @Test
    void dualPipeVHoldsPpPlusOneChunksOfActivationOnEveryRank() {
        // DeepSeek-AI, DualPipe (deepseek-ai/DualPipe, its comparison table): DualPipeV's activation per device is
        // PP+1 chunks, PP = 2p model stages on p devices
        long chunkStash = 1 << 19;
        for (int p = 1; p <= 8; p++) {
            for (int m = 2 * p; m <= 4 * p; m++) {
                Timeline t = run(VSchedules.dualPipeV(p, m), 1, 1, 1, chunkStash);
                for (int r = 0; r < p; r++) {
                    assertThat(t.peakInFlight(r)).as("p=%d m=%d rank %d", p, m, r).isEqualTo(2 * p + 1);
                    assertThat(t.peakMemoryBytes(r)).isEqualTo((2L * p + 1) * chunkStash);
                    // the emulator runs DualPipe's overlapped F&B pairs one after the other, and sends a whole
                    // backward's input gradient after its B part: idle is then the V's skew, (p-1) chunk forwards,
                    // within DualPipe's own bound (PP/2-1)(F&B + B - 3W) = (p-1)(3 + 2 - 3) chunk units
                    assertThat(t.idleSeconds(r)).as("p=%d m=%d rank %d", p, m, r).isEqualTo(p - 1.0);
                    assertThat(t.idleSeconds(r)).isLessThanOrEqualTo((p - 1) * (3.0 + 2.0 - 3.0));
                }
            }
        }
    }

    @Test
    void dualPipeVNeedsTwoMicroBatchesPerRank() {
        assertThatThrownBy(() -> VSchedules.dualPipeV(4, 7)).hasMessage("dualpipev needs microBatches >= 2 x pipeline (8), got 7");
    }

    @Test
    void theTextFormKeepsTheVAndACustomPlacement() {
        Schedule s = VSchedules.zbV(3, 5);
        String text = ScheduleText.format(s);
        assertThat(text).startsWith("# name=zb-v p=3 v=2 m=5 split=true placement=v\n");
        assertThat(ScheduleText.parse(text, "t")).isEqualTo(s);
        // without a header the rows show the placement
        String rows = text.substring(text.indexOf('\n') + 1);
        assertThat(ScheduleText.parse(rows, "t").placement()).isEqualTo(StagePlacement.vShape(3));
        Schedule custom = ScheduleText.parse("# name=c p=2 v=2 m=1 split=false placement=0,0,1,1\n0F0 1F0 1B0 0B0\n2F0 3F0 3B0 2B0\n", "t");
        assertThat(custom.placement().name()).isEqualTo("custom");
        assertThat(ScheduleValidator.validate(custom).isValid()).isTrue();
        assertThatThrownBy(() -> ScheduleText.parse("# name=c p=2 v=1 m=1 split=false placement=v\n0F0 0B0\n1F0 1B0\n", "t"))
                .hasMessageContaining("t:1:1: header placement=v holds two stages per rank, but v=1");
        assertThatThrownBy(() -> ScheduleText.parse("# name=c p=2 v=1 m=1 split=false placement=1,0\n1F0 1B0\n0F0 0B0\n", "t"))
                .hasMessageContaining("stage 0 must be on rank 0");
    }
}
