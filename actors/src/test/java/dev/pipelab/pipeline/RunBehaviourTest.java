package dev.pipelab.pipeline;

import dev.pipelab.model.LinkSpec;
import dev.pipelab.monitoring.Event;
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
import dev.pipelab.schedule.RingAllReduce;
import dev.pipelab.schedule.Schedule;
import dev.pipelab.schedule.ScheduleText;
import dev.pipelab.schedule.Schedules;
import dev.pipelab.schedule.StageCost;
import dev.pipelab.schedule.Timeline;
import dev.pipelab.stage.OomPolicy;
import dev.pipelab.stage.TestCosts;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Determinism, data loading, deadlock, backpressure, the ring all-reduce and out-of-memory, in virtual time. */
class RunBehaviourTest {

    @RegisterExtension
    static final TestSystems.OneNode node = new TestSystems.OneNode();

    private static RunResult run(RunSpec spec, RunOptions options) {
        return Emulator.run(node.system(), spec, options);
    }

    private static RunSpec interleavedWithRing() {
        Schedule s = Schedules.interleaved(2, 2, 4).withRecompute();
        List<StageCost> costs = TestCosts.of(s, 2, true, TestCosts.SLOW);
        // a buffer of 2 deadlocks interleaved 1F1B here (the evaluator agrees); 4 does not
        return new RunSpec(s, costs, Network.uniform(TestCosts.SLOW), 4, 2, Long.MAX_VALUE);
    }

    @Test
    void twoVirtualRunsGiveTheSameEventsAndTheSameResult() {
        RunSpec spec = interleavedWithRing();
        EventLog a = new EventLog();
        EventLog b = new EventLog();
        RunResult ra = run(spec, RunOptions.virtual(2, a)).orThrow();
        RunResult rb = run(spec, RunOptions.virtual(2, b)).orThrow();
        assertThat(ra).isEqualTo(rb);
        // the records come in one canonical order, so the streams are equal as they are
        assertThat(a.events()).isEqualTo(b.events());
        assertThat(Recorded.stages(a.events())).hasSize(2 * 2 * 2); // steps x replicas x ranks
        assertThat(Recorded.links(a.events())).isNotEmpty();
    }

    @Test
    void everyStepReproducesTheEvaluatorAndTheRunAxisAddsStepTimes() {
        RunSpec spec = interleavedWithRing();
        EventLog log = new EventLog();
        RunResult r = run(spec, RunOptions.virtual(3, log)).orThrow();
        Timeline t = Evaluator.evaluate(spec.schedule(), spec.costs(), spec.network(), spec.linkBuffer());
        for (int k = 0; k < 3; k++) ExactnessMatrixTest.assertSameAsEvaluator(r, k, t, 2);
        double step = t.stepTimeSeconds();
        assertThat(log.events().stream().filter(e -> e instanceof Event.StepStarted).map(e -> (Event.StepStarted) e).toList())
                .containsExactly(new Event.StepStarted(0, 0.0, 0, 4), new Event.StepStarted(1, step, 8, 4),
                        new Event.StepStarted(2, step + step, 16, 4));
        assertThat(log.events().stream().filter(e -> e instanceof Event.StepEnded).map(e -> (Event.StepEnded) e)
                .map(e -> new Event.StepEnded(e.step(), e.stepSeconds(), e.runSeconds(), e.committedOffset())).toList())
                .containsExactly(new Event.StepEnded(0, step, step, 8), new Event.StepEnded(1, step, step + step, 16),
                        new Event.StepEnded(2, step, step + step + step, 24));
        assertThat(r.runSeconds()).isEqualTo(step + step + step);
    }

    @Test
    void eachStepConsumesExactlyItsMicroBatchesPerReplicaEachOnce() {
        RunSpec spec = interleavedWithRing();
        RunResult r = run(spec, RunOptions.virtual(2, new EventLog())).orThrow();
        for (int k = 0; k < 2; k++) {
            for (int x = 0; x < 2; x++) {
                long base = k * 8L + x * 4L;
                assertThat(r.report(k, x, 0).consumedOffsets()).containsExactlyInAnyOrder(base, base + 1, base + 2, base + 3);
            }
        }
    }

    private static Schedule contradictingFifo() {
        List<List<Action>> rows = new ArrayList<>();
        rows.add(List.of(Action.f(0, 0), Action.f(0, 1), Action.b(0, 0), Action.b(0, 1)));
        rows.add(List.of(Action.f(1, 1), Action.f(1, 0), Action.b(1, 0), Action.b(1, 1)));
        return new Schedule("custom", 2, 1, 2, false, rows);
    }

    @Test
    void aConsumerOrderContradictingTheFifoDeadlocksWithOneSlotAndIsReportedNotHung() {
        Schedule s = contradictingFifo();
        List<StageCost> costs = Collections.nCopies(2, StageCost.compute(1, 1, 1));
        EventLog log = new EventLog();
        RunResult r = run(new RunSpec(s, costs, Network.free(), 1, 1, Long.MAX_VALUE), RunOptions.virtual(1, log));
        assertThat(r.status()).isEqualTo(RunResult.Status.DEADLOCKED);
        assertThat(r.steps()).isEmpty();
        // the partial step reaches the telemetry: 0F0 ran and its activation crossed the link
        Event.StepAbandoned abandoned = log.events().stream().filter(e -> e instanceof Event.StepAbandoned)
                .map(e -> (Event.StepAbandoned) e).findFirst().orElseThrow();
        assertThat(abandoned.step()).isZero();
        assertThat(abandoned.reason()).contains("deadlock");
        assertThat(abandoned.stages()).extracting(StageRecord::rank).containsExactly(0, 1);
        assertThat(abandoned.stages().get(0).actions()).containsExactly(new StageRecord.Action(Phase.F, 0, 0, 0, 1, 1));
        assertThat(abandoned.links()).hasSize(1);
        assertThat(abandoned.links().get(0).transfers()).containsExactly(
                new LinkRecord.Transfer(TransferKind.ACTIVATION, 0, 0, 0, 1, 1, 1));
        assertThat(log.events()).noneMatch(e -> e instanceof Event.StepEnded);
        RunResult.Deadlock d = r.deadlock().orElseThrow();
        assertThat(d.stuckActions()).containsExactly(
                "rank 0 action #1 0F1: waits for credit on link 0->1 (buffer 1 full until 1F0 starts)",
                "rank 1 action #0 1F1: waits for the activation of 0F1");
        assertThatThrownBy(() -> Evaluator.evaluate(s, costs, Network.free(), 1))
                .isInstanceOfSatisfying(DeadlockException.class, e -> assertThat(e.stuckActions()).isEqualTo(d.stuckActions()));
        assertThat(d.grid()).isEqualTo(ScheduleText.grid(s));
        assertThat(d.message()).contains("deadlock at step 0", "rank 1 | 1F1 1F0 1B0 1B1");
        assertThatThrownBy(r::orThrow).hasMessageContaining("waits for credit on link 0->1");
    }

    @Test
    void theSameScheduleWithUnboundedBuffersCompletes() {
        Schedule s = contradictingFifo();
        List<StageCost> costs = Collections.nCopies(2, StageCost.compute(1, 1, 1));
        RunResult r = run(new RunSpec(s, costs, Network.free(), Evaluator.UNBOUNDED, 1, Long.MAX_VALUE),
                RunOptions.virtual(1, new EventLog())).orThrow();
        assertThat(r.stepSeconds(0)).isEqualTo(Evaluator.evaluate(s, costs, Network.free()).stepTimeSeconds());
    }

    @Test
    void aDeadlockInOneReplicaOfSeveralNamesTheReplica() {
        Schedule s = contradictingFifo();
        List<StageCost> costs = Collections.nCopies(2, new StageCost(1, 1, 1, 0, 0, 0, 0, 0, 0, RingAllReduce.fixed(0.5), 0));
        RunResult r = run(new RunSpec(s, costs, Network.free(), 1, 2, Long.MAX_VALUE), RunOptions.virtual(1, new EventLog()));
        assertThat(r.deadlock().orElseThrow().stuckActions()).containsExactly(
                "replica 0 rank 0 action #1 0F1: waits for credit on link 0->1 (buffer 1 full until 1F0 starts)",
                "replica 0 rank 1 action #0 1F1: waits for the activation of 0F1",
                "replica 1 rank 0 action #1 0F1: waits for credit on link 0->1 (buffer 1 full until 1F0 starts)",
                "replica 1 rank 1 action #0 1F1: waits for the activation of 0F1");
    }

    @Test
    void aSlowLinkWithASmallBufferStallsTheSenderAndNeverQueuesMoreThanTheBuffer() {
        for (int buffer : new int[] {1, 2}) {
            Schedule s = Schedules.gpipe(2, 8);
            LinkSpec slow = new LinkSpec("very-slow", 1e8, 0.02);
            List<StageCost> costs = TestCosts.of(s, 1, false, slow);
            RunSpec spec = new RunSpec(s, costs, Network.uniform(slow), buffer, 1, Long.MAX_VALUE);
            EventLog log = new EventLog();
            RunResult r = run(spec, RunOptions.virtual(1, log)).orThrow();
            Timeline t = Evaluator.evaluate(s, costs, spec.network(), buffer);
            ExactnessMatrixTest.assertSameAsEvaluator(r, 0, t, 1);

            List<StageRecord> ranks = Recorded.stages(log.events());
            assertThat(ranks.get(0).stalls()).isNotEmpty()
                    .allSatisfy(st -> assertThat(st.endSeconds()).isGreaterThan(st.startSeconds()));
            for (StageRecord rank : ranks) {
                int from = rank.rank();
                double stalled = 0;
                for (StageRecord.CreditStall st : rank.stalls()) stalled += st.endSeconds() - st.startSeconds();
                assertThat(stalled).isCloseTo(r.linkStallSeconds(0, 0, from, 1 - from), Offset.offset(1e-9));
                assertThat(rank.stallSecondsByRank().getOrDefault(1 - from, 0.0)).isEqualTo(r.linkStallSeconds(0, 0, from, 1 - from));
            }
            assertThat(r.linkStallSeconds(0, 0, 0, 1)).isPositive();

            // activations waiting at rank 1 (arrived, consumer not started) never exceed the buffer
            Map<Integer, Double> arrival = new HashMap<>();
            for (LinkRecord l : Recorded.links(log.events())) {
                for (LinkRecord.Transfer ts : l.transfers()) {
                    if (ts.kind() == TransferKind.ACTIVATION) arrival.put(ts.microBatch(), ts.endSeconds());
                }
            }
            Map<Integer, Double> consumed = new HashMap<>();
            for (StageRecord.Action a : ranks.get(1).actions()) {
                if (a.phase() == Phase.F) consumed.put(a.microBatch(), a.startSeconds());
            }
            assertThat(arrival).hasSize(8);
            for (double at : arrival.values()) {
                long waiting = arrival.keySet().stream().filter(mb -> arrival.get(mb) <= at && at < consumed.get(mb)).count();
                assertThat(waiting).as("buffer %d at %s", buffer, at).isLessThanOrEqualTo(buffer);
            }
            // memory never above the peak the evaluator allows
            long peak0 = t.peakMemoryBytes(0);
            assertThat(ranks.get(0).memory().stream().mapToLong(StageRecord.MemoryChange::bytes).max().orElseThrow())
                    .isEqualTo(peak0);
            assertThat(ranks.get(0).peakMemoryBytes()).isEqualTo(peak0);
        }
    }

    @Test
    void theRingSendsTwoTimesDMinusOneChunksPerStagePerReplicaAndEndsWhenTheEvaluatorSays() {
        int d = 4;
        Schedule s = Schedules.oneFOneB(2, 4);
        List<StageCost> costs = TestCosts.of(s, d, false, TestCosts.SLOW);
        RunSpec spec = new RunSpec(s, costs, Network.uniform(TestCosts.SLOW), Evaluator.UNBOUNDED, d, Long.MAX_VALUE);
        EventLog log = new EventLog();
        RunResult r = run(spec, RunOptions.virtual(1, log)).orThrow();
        Timeline t = Evaluator.evaluate(s, costs, spec.network());
        Map<List<Integer>, Integer> chunks = new HashMap<>();
        for (LinkRecord l : Recorded.links(log.events())) {
            if (!l.ring()) continue;
            assertThat(l.toReplica()).isEqualTo((l.replica() + 1) % d);
            for (LinkRecord.Transfer ts : l.transfers()) {
                assertThat(ts.kind()).isEqualTo(TransferKind.ALLREDUCE);
                chunks.merge(List.of(l.replica(), ts.stage()), 1, Integer::sum);
                assertThat(ts.bytes()).isEqualTo(costs.get(ts.stage()).allReduce().chunkBytes());
            }
        }
        assertThat(chunks).hasSize(d * s.stages());
        assertThat(chunks.values()).allMatch(n -> n == 2 * (d - 1));
        List<StageRecord.AllReduce> spans = Recorded.stages(log.events()).stream().flatMap(x -> x.allReduces().stream()).toList();
        assertThat(spans).hasSize(d * s.stages());
        for (StageRecord.AllReduce a : spans) {
            assertThat(a.startSeconds()).isEqualTo(t.allReduceStart(a.stage()));
            assertThat(a.endSeconds()).isEqualTo(t.allReduceEnd(a.stage()));
            assertThat(a.endSeconds()).isEqualTo(costs.get(a.stage()).allReduce().endFrom(a.startSeconds()));
        }
        ExactnessMatrixTest.assertSameAsEvaluator(r, 0, t, d);
    }

    @Test
    void aScheduleThatDoesNotFitTheCostsFailsAtOnce() {
        Schedule s = Schedules.gpipe(2, 2);
        List<StageCost> costs = Collections.nCopies(2, StageCost.compute(1, 1, 0));
        List<List<Action>> rows = List.of(List.of(Action.f(0, 0), Action.b(0, 0)), List.of(Action.f(1, 1), Action.b(1, 1)));
        Schedule broken = new Schedule("custom", 2, 1, 2, false, rows);
        assertThatThrownBy(() -> run(new RunSpec(broken, costs, Network.free(), 1, 1, Long.MAX_VALUE), RunOptions.virtual(1, new EventLog())))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("0F0 sends to a stage that never runs micro-batch 0");
        assertThat(run(new RunSpec(s, costs, Network.free(), 1, 1, Long.MAX_VALUE), RunOptions.virtual(1, new EventLog())).completed()).isTrue();
    }

    private static RunSpec tinyMemory() {
        Schedule s = Schedules.gpipe(2, 4);
        List<StageCost> costs = TestCosts.of(s, 1, false, LinkSpec.FREE);
        // rank 1 holds 40 GB static + 4 stashes of ~1 GB: allow two stashes only
        long capacity = costs.get(1).staticBytes() + 2 * costs.get(1).stashBytes() + 5;
        return new RunSpec(s, costs, Network.free(), Evaluator.UNBOUNDED, 1, capacity);
    }

    @Test
    void outOfMemoryFailsTheRunNamingStageStepAndBytes() {
        RunSpec spec = tinyMemory();
        EventLog log = new EventLog();
        RunResult r = run(spec, RunOptions.virtual(2, log));
        assertThat(r.status()).isEqualTo(RunResult.Status.FAILED);
        long bytes = spec.costs().get(1).staticBytes() + 3 * spec.costs().get(1).stashBytes();
        assertThat(r.failure().orElseThrow()).contains("out of memory at step 0", "stage 1 (rank 1, replica 0)",
                "needs " + bytes + " bytes", "the device has " + spec.memoryBytes());
        // the failed step is abandoned with what ran, the moment of the overflow in the failing rank's record
        Event.StepAbandoned abandoned = log.events().stream().filter(e -> e instanceof Event.StepAbandoned)
                .map(e -> (Event.StepAbandoned) e).findFirst().orElseThrow();
        assertThat(abandoned.reason()).isEqualTo(r.failure().orElseThrow());
        StageRecord rank1 = abandoned.stages().stream().filter(x -> x.rank() == 1).findFirst().orElseThrow();
        assertThat(rank1.outOfMemory()).containsExactly(new StageRecord.OutOfMemory(1,
                Evaluator.evaluate(spec.schedule(), spec.costs(), spec.network()).start(1, 2), bytes, spec.memoryBytes()));
    }

    @Test
    void outOfMemoryOnlyWarnsUnderWarnAndTheRunStillMatchesTheEvaluator() {
        RunSpec spec = tinyMemory();
        EventLog log = new EventLog();
        RunResult r = run(spec, RunOptions.virtual(2, log).withOom(OomPolicy.WARN)).orThrow();
        assertThat(Recorded.stages(log.events()).stream().filter(x -> x.rank() == 1).map(x -> x.outOfMemory().size()))
                .containsExactly(1, 1); // once per step
        Timeline t = Evaluator.evaluate(spec.schedule(), spec.costs(), spec.network());
        ExactnessMatrixTest.assertSameAsEvaluator(r, 1, t, 1);
        assertThat(r.peakMemoryBytes(0, 0, 1)).isGreaterThan(spec.memoryBytes());
    }
}
