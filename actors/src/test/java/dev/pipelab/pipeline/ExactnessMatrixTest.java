package dev.pipelab.pipeline;

import dev.pipelab.model.LinkSpec;
import dev.pipelab.monitoring.EventLog;
import dev.pipelab.monitoring.LinkRecord;
import dev.pipelab.monitoring.Phase;
import dev.pipelab.monitoring.StageRecord;
import dev.pipelab.monitoring.TransferKind;
import dev.pipelab.monitoring.synthetic.Recorded;
import dev.pipelab.schedule.Action;
import dev.pipelab.schedule.DeadlockException;
import dev.pipelab.schedule.Evaluator;
import dev.pipelab.schedule.Network;
import dev.pipelab.schedule.PassTimes;
import dev.pipelab.schedule.Schedule;
import dev.pipelab.schedule.Schedules;
import dev.pipelab.schedule.StageCost;
import dev.pipelab.schedule.Timeline;
import dev.pipelab.stage.TestCosts;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The main guarantee: a fault-free virtual-time run reproduces the analytic evaluator bit for bit, for every
 * schedule, depth, micro-batch count, data-parallel degree, recomputation, link and buffer in the matrix.
 */
class ExactnessMatrixTest {

    @RegisterExtension
    static final TestSystems.OneNode node = new TestSystems.OneNode();

    /** The profiled times zb-1p and zb-2p are shaped for (B twice F and W): any shape must run as evaluated. */
    static final PassTimes TIMES = new PassTimes(1, 2, 1, 0);

    record Case(String schedule, int p, int v, int m, int d, boolean recompute, boolean slow, int buffer) {
        @Override
        public String toString() {
            return schedule + (v > 1 ? " v=" + v : "") + " p=" + p + " m=" + m + " d=" + d + (recompute ? " recompute" : "")
                    + (slow ? " slow-links" : " free-links") + " buffer=" + (buffer == Evaluator.UNBOUNDED ? "unbounded" : buffer);
        }
    }

    static List<Case> cases() {
        List<Case> out = new ArrayList<>();
        for (String name : Schedules.NAMES) {
            for (int p : new int[] {1, 2, 4}) {
                for (int m : new int[] {1, 4, 8}) {
                    boolean vShaped = Schedules.V_SHAPED.contains(name);
                    int[] vs = name.equals("interleaved") ? new int[] {2, 3} : vShaped ? new int[] {2} : new int[] {1};
                    for (int v : vs) {
                        if (name.equals("interleaved") && m % p != 0) continue;
                        if (name.equals("dualpipev") && m < 2 * p) continue;
                        for (int d : new int[] {1, 2, 3}) {
                            for (boolean recompute : new boolean[] {false, true}) {
                                for (boolean slow : new boolean[] {false, true}) {
                                    for (int buffer : new int[] {Evaluator.UNBOUNDED, 2}) {
                                        out.add(new Case(name, p, v, m, d, recompute, slow, buffer));
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return out;
    }

    @TestFactory
    List<DynamicTest> everyActionStepTimeBusyMemoryAndAllReduceEqualTheEvaluator() {
        return cases().stream().map(c -> DynamicTest.dynamicTest(c.toString(), () -> check(c))).toList();
    }

    private static void check(Case c) {
        Schedule s = Schedules.byName(c.schedule(), c.p(), c.v(), c.m(), TIMES);
        if (c.recompute()) s = s.withRecompute();
        LinkSpec link = c.slow() ? TestCosts.SLOW : LinkSpec.FREE;
        List<StageCost> costs = TestCosts.of(s, c.d(), c.recompute(), link);
        Network network = Network.uniform(link);
        RunSpec spec = new RunSpec(s, costs, network, c.buffer(), c.d(), Long.MAX_VALUE);
        EventLog log = new EventLog();
        RunResult run = Emulator.run(node.system(), spec, RunOptions.virtual(1, log));
        Timeline t;
        try {
            t = Evaluator.evaluate(s, costs, network, c.buffer());
        } catch (DeadlockException e) {
            assertThat(run.status()).isEqualTo(RunResult.Status.DEADLOCKED);
            assertThat(run.deadlock().orElseThrow().stuckActions().stream()
                    .map(x -> x.substring(x.indexOf("rank"), x.indexOf(':'))).distinct())
                    .containsExactlyElementsOf(e.stuckActions().stream().map(x -> x.substring(0, x.indexOf(':'))).toList());
            return;
        }
        assertThat(run.status()).as(() -> run.deadlock().map(RunResult.Deadlock::message).orElse(run.failure().orElse("")))
                .isEqualTo(RunResult.Status.COMPLETED);
        assertSameAsEvaluator(run, 0, t, c.d());
        long spans = Recorded.stages(log.events()).stream().mapToLong(x -> x.actions().size()).sum();
        assertThat(spans).isEqualTo((long) c.d() * (s.size() + c.p()));
        assertTelemetrySameAsEvaluator(log, t, c.d());
    }

    /**
     * The telemetry, too, is the evaluator's, bit for bit: every compute span (each rank's own record) and every
     * pipeline transfer (each link's own record of what it carried).
     */
    static void assertTelemetrySameAsEvaluator(EventLog log, Timeline t, int d) {
        Schedule s = t.schedule();
        long transfers = 0;
        long sends = 0;
        for (int r = 0; r < s.ranks(); r++) {
            for (int j = 0; j < s.actions(r).size(); j++) if (t.sendLink(r, j) >= 0) sends++;
        }
        for (StageRecord a : Recorded.stages(log.events())) {
            int r = a.rank();
            assertThat(a.actions()).hasSize(s.actions(r).size() + 1);
            assertThat(a.busySeconds()).as("busy rank %d", r).isEqualTo(t.busySeconds(r));
            for (int i = 0; i < a.actions().size(); i++) {
                StageRecord.Action span = a.actions().get(i);
                if (i == s.actions(r).size()) {
                    assertThat(span.phase()).isEqualTo(Phase.OPT);
                    assertThat(span.startSeconds()).isEqualTo(t.optimizerStart(r));
                    assertThat(span.endSeconds()).isEqualTo(t.optimizerEnd(r));
                    continue;
                }
                Action act = s.actions(r).get(i);
                assertThat(span.phase().name()).isEqualTo(act.kind().name());
                assertThat(span.stage()).isEqualTo(act.stage());
                assertThat(span.microBatch()).isEqualTo(act.microBatch());
                assertThat(span.startSeconds()).as("span start rank %d #%d", r, i).isEqualTo(t.start(r, i));
                assertThat(span.endSeconds()).as("span end rank %d #%d", r, i).isEqualTo(t.end(r, i));
            }
            long peak = a.memory().stream().mapToLong(StageRecord.MemoryChange::bytes).max().orElse(Long.MIN_VALUE);
            if (!a.memory().isEmpty()) assertThat(peak).as("peak memory rank %d", r).isEqualTo(t.peakMemoryBytes(r));
            assertThat(a.peakMemoryBytes()).as("peak memory rank %d", r).isEqualTo(t.peakMemoryBytes(r));
        }
        for (LinkRecord l : Recorded.links(log.events())) {
            if (l.ring()) continue;
            int r = l.fromRank();
            for (int i = 0; i < l.transfers().size(); i++, transfers++) {
                LinkRecord.Transfer tr = l.transfers().get(i);
                int j = sender(s, t, r, tr);
                assertThat(tr.bytes()).isPositive();
                assertThat(tr.readySeconds()).as("ready %d->%d #%d", r, l.toRank(), i).isEqualTo(t.end(r, j));
                assertThat(tr.startSeconds()).as("start %d->%d #%d", r, l.toRank(), i).isEqualTo(t.transferStart(r, j));
                assertThat(tr.endSeconds()).as("arrival %d->%d #%d", r, l.toRank(), i).isEqualTo(t.arrival(r, j));
            }
        }
        assertThat(transfers).isEqualTo(d * sends);
    }

    /** The position on {@code rank} of the action that sent transfer {@code tr}. */
    private static int sender(Schedule s, Timeline t, int rank, LinkRecord.Transfer tr) {
        Action.Kind kind = tr.kind() == TransferKind.ACTIVATION ? Action.Kind.F : Action.Kind.B;
        for (int j = 0; j < s.actions(rank).size(); j++) {
            Action a = s.actions(rank).get(j);
            if (a.kind() == kind && a.stage() == tr.stage() && a.microBatch() == tr.microBatch() && t.sendLink(rank, j) >= 0) {
                return j;
            }
        }
        throw new AssertionError("no action on rank " + rank + " sent " + tr);
    }

    /** Every number a user would compare, asserted equal (never close). */
    static void assertSameAsEvaluator(RunResult run, int step, Timeline t, int d) {
        Schedule s = t.schedule();
        assertThat(run.stepSeconds(step)).isEqualTo(t.stepTimeSeconds());
        for (int x = 0; x < d; x++) {
            for (int r = 0; r < s.ranks(); r++) {
                for (int j = 0; j < s.actions(r).size(); j++) {
                    assertThat(run.actionStart(step, x, r, j)).as("start of replica %d rank %d #%d %s", x, r, j, s.actions(r).get(j))
                            .isEqualTo(t.start(r, j));
                    assertThat(run.actionEnd(step, x, r, j)).as("end of replica %d rank %d #%d", x, r, j).isEqualTo(t.end(r, j));
                }
                assertThat(run.busySeconds(step, x, r)).as("busy %d", r).isEqualTo(t.busySeconds(r));
                assertThat(run.peakMemoryBytes(step, x, r)).as("peak memory %d", r).isEqualTo(t.peakMemoryBytes(r));
                assertThat(run.peakInFlight(step, x, r)).as("peak in flight %d", r).isEqualTo(t.peakInFlight(r));
                assertThat(run.optimizerStart(step, x, r)).isEqualTo(t.optimizerStart(r));
                assertThat(run.optimizerEnd(step, x, r)).isEqualTo(t.optimizerEnd(r));
            }
            for (int k = 0; k < s.stages(); k++) {
                assertThat(run.allReduceStart(step, x, k)).as("all-reduce start %d", k).isEqualTo(t.allReduceStart(k));
                assertThat(run.allReduceEnd(step, x, k)).as("all-reduce end %d", k).isEqualTo(t.allReduceEnd(k));
            }
            for (int l = 0; l < t.linkCount(); l++) {
                int[] pair = t.linkRanks(l);
                assertThat(run.linkStallSeconds(step, x, pair[0], pair[1])).as("stall %d->%d", pair[0], pair[1])
                        .isEqualTo(t.linkStallSeconds(l));
            }
            assertThat(run.bubbleFraction(step, x)).isEqualTo(t.bubbleFraction());
        }
    }
}
