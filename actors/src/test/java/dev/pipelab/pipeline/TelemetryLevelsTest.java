package dev.pipelab.pipeline;

import dev.pipelab.monitoring.Event;
import dev.pipelab.monitoring.EventLog;
import dev.pipelab.monitoring.LinkRecord;
import dev.pipelab.monitoring.StageRecord;
import dev.pipelab.monitoring.TelemetryLevel;
import dev.pipelab.monitoring.TransferKind;
import dev.pipelab.schedule.Evaluator;
import dev.pipelab.schedule.Network;
import dev.pipelab.schedule.Schedule;
import dev.pipelab.schedule.Schedules;
import dev.pipelab.schedule.StageCost;
import dev.pipelab.schedule.Timeline;
import dev.pipelab.stage.StageProgram;
import dev.pipelab.stage.TestCosts;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Each actor's own record of a step, at each telemetry level, as the trainer hands it on in {@link Event.StepEnded}:
 * the sums are the evaluator's at every level above off, the spans come at {@code spans} only, and off records nothing.
 */
class TelemetryLevelsTest {

    private static final int P = 2;
    private static final int D = 2;
    private static final int STEPS = 2;

    @RegisterExtension
    static final TestSystems.OneNode node = new TestSystems.OneNode();

    private static final Schedule SCHEDULE = Schedules.interleaved(P, 2, 4).withRecompute();
    private static final List<StageCost> COSTS = TestCosts.of(SCHEDULE, D, true, TestCosts.SLOW);
    private static final RunSpec SPEC = new RunSpec(SCHEDULE, COSTS, Network.uniform(TestCosts.SLOW), 4, D, Long.MAX_VALUE);
    private static final Timeline TIMELINE = Evaluator.evaluate(SCHEDULE, COSTS, SPEC.network(), SPEC.linkBuffer());

    private static List<Event.StepEnded> run(TelemetryLevel level) {
        EventLog log = new EventLog();
        Emulator.run(node.system(), SPEC, RunOptions.virtual(STEPS, log).withTelemetry(level)).orThrow();
        assertThat(log.events()).noneMatch(e -> e instanceof Event.StepAbandoned);
        List<Event.StepEnded> ended = log.events().stream().filter(e -> e instanceof Event.StepEnded)
                .map(e -> (Event.StepEnded) e).toList();
        assertThat(ended).hasSize(STEPS);
        return ended;
    }

    @Test
    void offRecordsNothing() {
        for (Event.StepEnded e : run(TelemetryLevel.OFF)) {
            assertThat(e.stages()).isEmpty();
            assertThat(e.links()).isEmpty();
            assertThat(e.stepSeconds()).isEqualTo(TIMELINE.stepTimeSeconds());
        }
    }

    @Test
    void stepsKeepsTheEvaluatorsSumsAndNoSpans() {
        for (Event.StepEnded e : run(TelemetryLevel.STEPS)) {
            assertSums(e);
            for (StageRecord r : e.stages()) {
                assertThat(r.actions()).isEmpty();
                assertThat(r.memory()).isEmpty();
                assertThat(r.stalls()).isEmpty();
            }
            for (LinkRecord l : e.links()) assertThat(l.transfers()).isEmpty();
        }
    }

    @Test
    void spansAddEveryActionAndTransferBitForBitAndTheSameSums() {
        List<Event.StepEnded> spans = run(TelemetryLevel.SPANS);
        List<Event.StepEnded> steps = run(TelemetryLevel.STEPS);
        for (int k = 0; k < STEPS; k++) {
            Event.StepEnded e = spans.get(k);
            assertSums(e);
            for (StageRecord r : e.stages()) {
                int n = SCHEDULE.actions(r.rank()).size();
                assertThat(r.actions()).hasSize(n + 1);
                for (int j = 0; j < n; j++) {
                    assertThat(r.actions().get(j).startSeconds()).as("rank %d #%d", r.rank(), j).isEqualTo(TIMELINE.start(r.rank(), j));
                    assertThat(r.actions().get(j).endSeconds()).isEqualTo(TIMELINE.end(r.rank(), j));
                }
                assertThat(r.actions().get(n).endSeconds()).isEqualTo(TIMELINE.optimizerEnd(r.rank()));
                assertThat(r.memory()).isNotEmpty();
            }
            for (LinkRecord l : e.links()) {
                assertThat(l.transfers()).hasSize(l.messages());
                double busy = 0;
                for (LinkRecord.Transfer t : l.transfers()) busy += t.endSeconds() - t.startSeconds();
                assertThat(l.busySeconds()).isEqualTo(busy);
                assertThat(l.transfers()).allMatch(t -> (t.kind() == TransferKind.ALLREDUCE) == l.ring());
            }
            // the sums do not depend on the level
            assertThat(e.stages().stream().map(TelemetryLevelsTest::sums).toList())
                    .isEqualTo(steps.get(k).stages().stream().map(TelemetryLevelsTest::sums).toList());
            assertThat(e.links().stream().map(TelemetryLevelsTest::sums).toList())
                    .isEqualTo(steps.get(k).links().stream().map(TelemetryLevelsTest::sums).toList());
        }
    }

    /** Every rank and link of the step, in canonical order, with the evaluator's sums and the schedule's messages. */
    private static void assertSums(Event.StepEnded e) {
        assertThat(e.stages()).extracting(StageRecord::replica).containsExactly(0, 0, 1, 1);
        assertThat(e.stages()).extracting(StageRecord::rank).containsExactly(0, 1, 0, 1);
        for (StageRecord r : e.stages()) {
            assertThat(r.step()).isEqualTo(e.step());
            assertThat(r.busySeconds()).isEqualTo(TIMELINE.busySeconds(r.rank()));
            assertThat(r.peakMemoryBytes()).isEqualTo(TIMELINE.peakMemoryBytes(r.rank()));
            assertThat(r.peakInFlight()).isEqualTo(TIMELINE.peakInFlight(r.rank()));
            assertThat(r.allReduces()).hasSize(2); // one per model stage of the rank (v = 2)
            for (StageRecord.AllReduce a : r.allReduces()) assertThat(a.endSeconds()).isEqualTo(TIMELINE.allReduceEnd(a.stage()));
        }
        // the schedule's messages per pipeline link, and each rank's ring chunks
        Map<List<Integer>, Long> bytes = new HashMap<>();
        Map<List<Integer>, Integer> messages = new HashMap<>();
        Map<Integer, Long> ringBytes = new HashMap<>();
        Map<Integer, Integer> ringMessages = new HashMap<>();
        for (StageProgram program : StageProgram.all(SCHEDULE, COSTS)) {
            int r = program.rank();
            for (int j = 0; j < program.size(); j++) {
                if (!program.remoteOutput(j)) continue;
                bytes.merge(List.of(r, program.outRank(j)), program.outBytes(j), Long::sum);
                messages.merge(List.of(r, program.outRank(j)), 1, Integer::sum);
            }
            for (int c = 0; c < program.chunks(); c++) {
                StageCost sc = COSTS.get(program.stageOfChunk(c));
                ringBytes.merge(r, sc.allReduce().chunkBytes() * sc.allReduce().steps(), Long::sum);
                ringMessages.merge(r, sc.allReduce().steps(), Integer::sum);
            }
        }
        List<LinkRecord> pipelineLinks = e.links().stream().filter(l -> !l.ring()).toList();
        List<LinkRecord> ringLinks = e.links().stream().filter(LinkRecord::ring).toList();
        assertThat(pipelineLinks).hasSize(D * bytes.size());
        assertThat(pipelineLinks).extracting(l -> List.of(l.replica(), l.fromRank(), l.toRank()))
                .containsExactly(List.of(0, 0, 1), List.of(0, 1, 0), List.of(1, 0, 1), List.of(1, 1, 0));
        for (LinkRecord l : pipelineLinks) {
            assertThat(l.bytes()).isEqualTo(bytes.get(List.of(l.fromRank(), l.toRank())));
            assertThat(l.messages()).isEqualTo(messages.get(List.of(l.fromRank(), l.toRank())));
            assertThat(l.busySeconds()).isPositive();
            assertThat(l.maxQueueDepth()).isBetween(0, l.messages());
        }
        assertThat(ringLinks).extracting(l -> List.of(l.replica(), l.fromRank(), l.toReplica()))
                .containsExactly(List.of(0, 0, 1), List.of(0, 1, 1), List.of(1, 0, 0), List.of(1, 1, 0));
        for (LinkRecord l : ringLinks) {
            assertThat(l.bytes()).isEqualTo(ringBytes.get(l.fromRank()));
            assertThat(l.messages()).isEqualTo(ringMessages.get(l.fromRank()));
        }
    }

    private static StageRecord sums(StageRecord r) {
        return new StageRecord(r.step(), r.replica(), r.rank(), r.busySecondsByPhase(), r.busySeconds(), r.liveMemoryBytes(),
                r.peakMemoryBytes(), r.peakInFlight(), r.stallSecondsByRank(), r.allReduces(), r.outOfMemory(), List.of(),
                List.of(), List.of());
    }

    private static LinkRecord sums(LinkRecord l) {
        return new LinkRecord(l.step(), l.replica(), l.toReplica(), l.fromRank(), l.toRank(), l.ring(), l.bytes(),
                l.busySeconds(), l.messages(), l.maxQueueDepth(), List.of());
    }
}
