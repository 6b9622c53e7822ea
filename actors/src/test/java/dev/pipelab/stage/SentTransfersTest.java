package dev.pipelab.stage;

import dev.pipelab.link.LinkState;
import dev.pipelab.model.LinkSpec;
import dev.pipelab.monitoring.Event;
import dev.pipelab.monitoring.EventSink;
import dev.pipelab.monitoring.LinkActivity;
import dev.pipelab.schedule.Schedule;
import dev.pipelab.schedule.Schedules;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class SentTransfersTest {

    private static final LinkSpec LINK = new LinkSpec("test", 2.9e9, 0.0017);

    /** Interleaved 1F1B: a middle rank sends activations forward and gradients back, several model stages each. */
    private final Schedule schedule = Schedules.interleaved(3, 2, 6);
    private final StageProgram program = StageProgram.of(schedule, TestCosts.of(schedule, 1, false, LINK), 1);

    /** What the link itself computes: its messages in sequence order, ready when the sending action ends. */
    private List<Event.TransferSpan> reference(int step, int toRank, double[] ends, int finished) {
        List<Integer> positions = new ArrayList<>();
        for (int j = 0; j < finished; j++) if (program.outRank(j) == toRank) positions.add(j);
        positions.sort((a, b) -> Integer.compare(program.outSeq(a), program.outSeq(b)));
        LinkState link = new LinkState(LINK);
        List<Event.TransferSpan> out = new ArrayList<>();
        for (int j : positions) {
            LinkState.Transit t = link.send(program.outBytes(j), ends[j], Double.NEGATIVE_INFINITY);
            out.add(new Event.TransferSpan(step, 0, 1, toRank, program.outKind(j), program.action(j).stage(),
                    program.action(j).microBatch(), program.outBytes(j), ends[j], t.start(), t.arrival()));
        }
        return out;
    }

    private double[] ends(Random random) {
        double[] ends = new double[program.size() + 1];
        double t = 0;
        for (int j = 0; j < ends.length; j++) ends[j] = t += 0.001 + random.nextDouble() * 0.05;
        return ends;
    }

    private static List<Event.Detail> details(List<LinkActivity> batches) {
        List<Event.Detail> out = new ArrayList<>();
        for (LinkActivity b : batches) out.addAll(b.details());
        return out;
    }

    @Test
    void eachStepReportsTheLinksOwnTimesAndARepeatedStepSharesTheLastBatch() {
        assertThat(program.outgoingRanks()).containsExactly(0, 2);
        Random random = new Random(7);
        for (int toRank : program.outgoingRanks()) {
            SentTransfers sent = new SentTransfers(program, 0, toRank, LINK);
            List<LinkActivity> batches = new ArrayList<>();
            EventSink sink = e -> batches.add((LinkActivity) e);
            double[] ends = ends(random);
            int n = program.size();
            sent.report(0, ends, n, sink);
            sent.report(1, ends, n, sink);
            assertThat(batches).hasSize(2);
            assertThat(batches.get(0).details()).isEqualTo(new ArrayList<Event.Detail>(reference(0, toRank, ends, n)));
            assertThat(batches.get(0).transfers()).isEqualTo(program.messagesTo(toRank));
            assertThat(batches.get(1).details()).isEqualTo(new ArrayList<Event.Detail>(reference(1, toRank, ends, n)));
            assertThat(batches.get(1).step()).isEqualTo(1);

            // a step whose middle differs: the link's times from that message on are replayed, the ones before kept
            double[] changed = ends.clone();
            int middle = -1;
            for (int j = n / 2; middle < 0; j++) if (program.outRank(j) == toRank) middle = j;
            for (int j = middle; j < n; j++) changed[j] += 0.25;
            sent.report(2, changed, n, sink);
            assertThat(batches.get(2).details()).isEqualTo(new ArrayList<Event.Detail>(reference(2, toRank, changed, n)));
            // and back: again the first step's times
            sent.report(3, ends, n, sink);
            assertThat(batches.get(3).details()).isEqualTo(new ArrayList<Event.Detail>(reference(3, toRank, ends, n)));
        }
    }

    @Test
    void reportsAsActionsFinishAddUpToTheWholeStep() {
        // wall time: the stage reports after each action; the slices, in order, are the step's transfers
        Random random = new Random(11);
        int n = program.size();
        for (int toRank : program.outgoingRanks()) {
            SentTransfers sent = new SentTransfers(program, 0, toRank, LINK);
            for (int step = 0; step < 3; step++) {
                double[] ends = step == 1 ? ends(new Random(11)) : ends(random); // step 1 repeats step 0's times
                List<LinkActivity> batches = new ArrayList<>();
                for (int finished = 0; finished <= n; finished++) sent.report(step, ends, finished, e -> batches.add((LinkActivity) e));
                assertThat(details(batches)).isEqualTo(new ArrayList<Event.Detail>(reference(step, toRank, ends, n)));
                assertThat(batches).allSatisfy(b -> assertThat(b.transfers()).isPositive());
                assertThat(batches).hasSize(program.messagesTo(toRank));
            }
        }
    }
}
