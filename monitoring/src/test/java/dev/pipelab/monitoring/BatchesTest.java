package dev.pipelab.monitoring;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BatchesTest {

    @Test
    void aRecorderGrowsPastItsFirstArraysAndTakeHandsOutExactlyWhatWasRecorded() {
        RankActivity.Recorder r = new RankActivity.Recorder(2, 3);
        List<Event.Detail> expected = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            Phase ph = Phase.values()[i % 4];
            r.action(ph, i % 7, i, i, i + 0.5, 0.5);
            expected.add(new Event.ActionSpan(5, 2, 3, i % 7, ph, i, i, i + 0.5, 0.5));
        }
        r.action(Phase.OPT, -1, -1, 100, 101, 1);
        expected.add(new Event.ActionSpan(5, 2, 3, -1, Phase.OPT, -1, 100, 101, 1));
        for (int i = 0; i < 40; i++) {
            r.memory(i * 0.25, 1000L + i);
            expected.add(new Event.MemoryChanged(5, 2, 3, i * 0.25, 1000L + i));
        }
        for (int i = 0; i < 9; i++) {
            r.stall(4, i, i + 0.125);
            expected.add(new Event.CreditStall(5, 2, 3, 4, i, i + 0.125));
        }
        for (int i = 0; i < 6; i++) {
            r.allReduce(i, 64L << i, 90 + i, 91 + i);
            expected.add(new Event.AllReduceSpan(5, 2, 3, i, 64L << i, 90 + i, 91 + i));
        }
        RankActivity a = r.take(5);
        assertThat(a.details()).isEqualTo(expected);
        assertThat(a.actions()).isEqualTo(101);
        assertThat(a.atSeconds()).isEqualTo(101.0);
        assertThat(r.isEmpty()).isTrue();
        r.memory(1, 1);
        RankActivity next = r.take(6);
        assertThat(next.details()).containsExactly(new Event.MemoryChanged(6, 2, 3, 1, 1));
        assertThat(a.details()).isEqualTo(expected); // the first batch does not share the recorder's arrays
        assertThatThrownBy(() -> a.duration(101)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void aLinkRecorderKeepsKindsAndRejectsUnknownOnes() {
        LinkActivity.Recorder r = new LinkActivity.Recorder(1, 0, 1);
        List<Event.Detail> expected = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            String kind = LinkActivity.KINDS.get(i % 3);
            r.transfer(kind, i, i % 3 == 2 ? -1 : i, 10L * i, i, i + 1, i + 2.5);
            expected.add(new Event.TransferSpan(7, 1, 0, 1, kind, i, i % 3 == 2 ? -1 : i, 10L * i, i, i + 1, i + 2.5));
        }
        LinkActivity l = r.take(7);
        assertThat(l.details()).isEqualTo(expected);
        assertThat(l.atSeconds()).isEqualTo(51.5);
        assertThatThrownBy(() -> r.transfer("weights", 0, 0, 1, 0, 0, 1)).hasMessageContaining("activation");
    }

    @Test
    void batchingKeepsEveryEventWhereItWasAndExpandingGivesTheSpansBack() {
        Random random = new Random(11);
        for (int trial = 0; trial < 200; trial++) {
            List<Object> stream = new ArrayList<>();
            int n = 1 + random.nextInt(40);
            for (int i = 0; i < n; i++) {
                int step = random.nextInt(2);
                int replica = random.nextInt(2);
                int rank = random.nextInt(2);
                double t = random.nextInt(8) * 0.5;
                switch (random.nextInt(8)) {
                    case 0 -> stream.add(new Event.ActionSpan(step, replica, rank, rank, Phase.F, i, t, t + 1));
                    case 1 -> stream.add(new Event.MemoryChanged(step, replica, rank, t, i));
                    case 2 -> stream.add(new Event.CreditStall(step, replica, rank, 1 - rank, t, t + 0.5));
                    case 3 -> stream.add(new Event.AllReduceSpan(step, replica, rank, rank, 8, t, t + 2));
                    case 4, 5 -> stream.add(new Event.TransferSpan(step, replica, rank, 1 - rank, "activation", rank, i, 16, t,
                            t, t + 1));
                    case 6 -> stream.add(new Event.StepEnded(step, 4, 4 * (step + 1), 0));
                    default -> stream.add(new Event.StepLoss(step, i));
                }
            }
            List<Event> batched = Events.batched(stream);
            List<Object> back = Events.expanded(batched);
            // same multiset, and every plain event has the same spans before it (spans only move within a run of
            // spans of one batch key: a batch groups by kind)
            assertThat(back).containsExactlyInAnyOrderElementsOf(stream);
            assertThat(plainEventPositions(back)).isEqualTo(plainEventPositions(stream));
            for (Event e : batched) {
                if (e instanceof Event.Batch b) assertThat(b.details()).isNotEmpty();
            }
        }
    }

    private static List<Integer> plainEventPositions(List<Object> stream) {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < stream.size(); i++) if (stream.get(i) instanceof Event) out.add(i);
        return out;
    }

    @Test
    void detailsOfALogFlattenItsBatchesInOrder() {
        EventLog log = new EventLog();
        List<Object> spans = List.of(new Event.ActionSpan(0, 0, 0, 0, Phase.F, 0, 0, 1),
                new Event.ActionSpan(0, 0, 1, 1, Phase.F, 0, 1, 2),
                new Event.TransferSpan(0, 0, 0, 1, "activation", 0, 0, 4, 1, 1, 1.5));
        Events.batched(spans).forEach(log::emit);
        log.emit(new Event.StepEnded(0, 2, 2, 1));
        assertThat(log.events()).hasSize(4);
        assertThat(log.details()).containsExactlyElementsOf(spans.stream().map(o -> (Event.Detail) o).toList());
    }
}
