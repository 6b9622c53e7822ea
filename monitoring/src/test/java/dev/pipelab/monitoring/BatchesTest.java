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
    void actionsGivenAsColumnRangesReadBackLikeSpansAndAreSharedOnlyWhenEqual() {
        byte[] phase = {(byte) Phase.F.ordinal(), (byte) Phase.B.ordinal(), (byte) Phase.R.ordinal(), (byte) Phase.OPT.ordinal()};
        int[] stage = {0, 0, 1, -1};
        int[] mb = {0, 0, 1, -1};
        double[] start = {0, 1, 2, 3};
        double[] end = {1, 2, 3, 4.5};
        double[] duration = {1, 1, 1, 1.5};
        RankActivity.Recorder r = new RankActivity.Recorder(1, 2);
        r.actions(phase, stage, mb, start, end, duration, 0, 4);
        r.memory(0, 10);
        RankActivity first = r.take(0);
        assertThat(first.details()).containsExactly(new Event.ActionSpan(0, 1, 2, 0, Phase.F, 0, 0, 1, 1),
                new Event.ActionSpan(0, 1, 2, 0, Phase.B, 0, 1, 2, 1), new Event.ActionSpan(0, 1, 2, 1, Phase.R, 1, 2, 3, 1),
                new Event.ActionSpan(0, 1, 2, -1, Phase.OPT, -1, 3, 4.5, 1.5), new Event.MemoryChanged(0, 1, 2, 0, 10));
        assertThat(first.atSeconds()).isEqualTo(4.5);

        // the same step again: every column is the first batch's
        r.actions(phase, stage, mb, start, end, duration, 0, 4);
        r.memory(0, 10);
        RankActivity same = r.take(1);
        assertThat(same.startColumn()).isSameAs(first.startColumn());
        assertThat(same.phaseColumn()).isSameAs(first.phaseColumn());
        assertThat(same.step()).isEqualTo(1);

        // the caller's arrays stay its own: rewriting one changes no batch, and a changed range is copied
        start[1] = 1.25;
        r.actions(phase, stage, mb, start, end, duration, 0, 4);
        RankActivity changed = r.take(2);
        assertThat(changed.start(1)).isEqualTo(1.25);
        assertThat(first.start(1)).isEqualTo(1.0);
        assertThat(changed.startColumn()).isNotSameAs(first.startColumn());
        assertThat(changed.endColumn()).isSameAs(first.endColumn());
        assertThat(changed.memoryChanges()).isZero();

        // a slice (wall time) and the rules
        r.actions(phase, stage, mb, start, end, duration, 1, 3);
        RankActivity slice = r.take(3);
        assertThat(slice.actions()).isEqualTo(2);
        assertThat(slice.phase(0)).isEqualTo(Phase.B);
        assertThat(slice.atSeconds()).isEqualTo(3.0);
        r.actions(phase, stage, mb, start, end, duration, 0, 1);
        assertThatThrownBy(() -> r.action(Phase.F, 0, 0, 0, 1, 1)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> r.actions(phase, stage, mb, start, end, duration, 0, 1))
                .isInstanceOf(IllegalStateException.class);
        r.clear();
        assertThatThrownBy(() -> r.actions(phase, stage, mb, start, end, duration, 2, 5))
                .isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> r.actions(phase, stage, mb, start, new double[3], duration, 0, 1))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void memoryChangesGivenAsColumnRangesReadBackLikeChangesAndAreSharedOnlyWhenEqual() {
        byte[] phase = {(byte) Phase.F.ordinal(), (byte) Phase.B.ordinal()};
        double[] start = {0, 1};
        double[] end = {1, 2};
        double[] at = {0, 1, 2};
        long[] bytes = {100, 150, 50};
        RankActivity.Recorder r = new RankActivity.Recorder(1, 2);
        r.actions(phase, new int[] {0, 0}, new int[] {0, 0}, start, end, new double[] {1, 1}, 0, 2);
        r.memoryChanges(at, bytes, 0, 3);
        RankActivity first = r.take(0);
        assertThat(first.details()).containsExactly(new Event.ActionSpan(0, 1, 2, 0, Phase.F, 0, 0, 1, 1),
                new Event.ActionSpan(0, 1, 2, 0, Phase.B, 0, 1, 2, 1), new Event.MemoryChanged(0, 1, 2, 0, 100),
                new Event.MemoryChanged(0, 1, 2, 1, 150), new Event.MemoryChanged(0, 1, 2, 2, 50));

        // a repeat shares the whole batch; a changed time is copied, the caller's arrays stay its own
        r.actions(phase, new int[] {0, 0}, new int[] {0, 0}, start, end, new double[] {1, 1}, 0, 2);
        r.memoryChanges(at, bytes, 0, 3);
        RankActivity same = r.take(1);
        assertThat(same.memoryAtColumn()).isSameAs(first.memoryAtColumn());
        assertThat(same.memoryBytesColumn()).isSameAs(first.memoryBytesColumn());
        at[2] = 2.5;
        r.actions(phase, new int[] {0, 0}, new int[] {0, 0}, start, end, new double[] {1, 1}, 0, 2);
        r.memoryChanges(at, bytes, 0, 3);
        RankActivity changed = r.take(2);
        assertThat(changed.memoryAt(2)).isEqualTo(2.5);
        assertThat(first.memoryAt(2)).isEqualTo(2.0);
        assertThat(changed.memoryBytesColumn()).isSameAs(first.memoryBytesColumn());
        assertThat(changed.startColumn()).isSameAs(first.startColumn());
        assertThat(changed.atSeconds()).isEqualTo(2.5);

        // changes one by one after a range must not be taken for the range (nor compared against it)
        r.memory(0, 100);
        RankActivity rows = r.take(3);
        assertThat(rows.details()).containsExactly(new Event.MemoryChanged(3, 1, 2, 0, 100));

        // a slice, and the rules
        r.memoryChanges(at, bytes, 1, 2);
        assertThat(r.take(4).details()).containsExactly(new Event.MemoryChanged(4, 1, 2, 1, 150));
        r.memoryChanges(at, bytes, 0, 1);
        assertThatThrownBy(() -> r.memory(0, 1)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> r.memoryChanges(at, bytes, 0, 1)).isInstanceOf(IllegalStateException.class);
        r.clear();
        assertThat(r.isEmpty()).isTrue();
        assertThatThrownBy(() -> r.memoryChanges(at, bytes, 2, 4)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> r.memoryChanges(at, new long[2], 0, 1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aLinkBatchWithAnotherStepSharesEveryColumn() {
        LinkActivity.Recorder r = new LinkActivity.Recorder(0, 3, 4);
        r.transfer(0, 3, 0, 100, 0, 0.5, 1);
        LinkActivity first = r.take(2);
        LinkActivity again = first.withStep(3);
        assertThat(again.step()).isEqualTo(3);
        assertThat(again.details()).containsExactly(new Event.TransferSpan(3, 0, 3, 4, "activation", 3, 0, 100, 0, 0.5, 1));
        assertThat(again.endColumn()).isSameAs(first.endColumn());
        assertThat(again.atSeconds()).isEqualTo(first.atSeconds());
        assertThat(first.withStep(2)).isSameAs(first);
        assertThat(first.step()).isEqualTo(2);
    }

    @Test
    void aRecorderAlternatingSpansAndColumnRangesNeverSharesStaleColumns() {
        // the fast path shares every column when the rows equal the remembered ones; it must never compare against rows
        // that describe an older batch than the previous one
        byte[] phase = {(byte) Phase.F.ordinal()};
        RankActivity.Recorder r = new RankActivity.Recorder(0, 0);
        r.action(Phase.F, 0, 0, 0, 1, 1);
        RankActivity spans = r.take(0);
        r.actions(phase, new int[] {0}, new int[] {0}, new double[] {5}, new double[] {6}, new double[] {1}, 0, 1);
        RankActivity columns = r.take(1);
        assertThat(columns.start(0)).isEqualTo(5.0);
        r.action(Phase.F, 0, 0, 0, 1, 1); // equal to the batch before last, not to the previous one
        RankActivity again = r.take(2);
        assertThat(again.start(0)).isEqualTo(0.0);
        assertThat(again.details()).isEqualTo(List.of(new Event.ActionSpan(2, 0, 0, 0, Phase.F, 0, 0, 1, 1)));
        assertThat(spans.start(0)).isEqualTo(0.0);

        LinkActivity.Recorder l = new LinkActivity.Recorder(0, 0, 1);
        l.transfer(0, 0, 0, 8, 0, 0, 1);
        l.take(0);
        l.transfers(new byte[] {0}, new int[] {0}, new int[] {0}, new long[] {8}, new double[] {2}, new double[] {2},
                new double[] {3}, 0, 1);
        assertThat(l.take(1).start(0)).isEqualTo(2.0);
        l.transfer(0, 0, 0, 8, 0, 0, 1);
        assertThat(l.take(2).start(0)).isEqualTo(0.0);
    }

    @Test
    void transfersGivenAsColumnRangesReadBackLikeTransfersAndAreSharedOnlyWhenEqual() {
        byte[] kind = {0, 1, 0};
        int[] stage = {3, 4, 3};
        int[] mb = {0, 0, 1};
        long[] bytes = {100, 200, 100};
        double[] ready = {0, 1, 2};
        double[] start = {0, 1.5, 2};
        double[] end = {1, 2.5, 3.25};
        LinkActivity.Recorder r = new LinkActivity.Recorder(0, 3, 4);
        r.transfers(kind, stage, mb, bytes, ready, start, end, 0, 3);
        assertThat(r.size()).isEqualTo(3);
        LinkActivity first = r.take(0);
        assertThat(first.details()).containsExactly(new Event.TransferSpan(0, 0, 3, 4, "activation", 3, 0, 100, 0, 0, 1),
                new Event.TransferSpan(0, 0, 3, 4, "gradient", 4, 0, 200, 1, 1.5, 2.5),
                new Event.TransferSpan(0, 0, 3, 4, "activation", 3, 1, 100, 2, 2, 3.25));
        assertThat(first.atSeconds()).isEqualTo(3.25);
        r.transfers(kind, stage, mb, bytes, ready, start, end, 0, 3);
        LinkActivity same = r.take(1);
        assertThat(same.endColumn()).isSameAs(first.endColumn());
        assertThat(same.kindColumn()).isSameAs(first.kindColumn());
        end[2] = 4;
        r.transfers(kind, stage, mb, bytes, ready, start, end, 0, 3);
        LinkActivity changed = r.take(2);
        assertThat(changed.end(2)).isEqualTo(4.0);
        assertThat(first.end(2)).isEqualTo(3.25);
        assertThat(changed.atSeconds()).isEqualTo(4.0);
        assertThat(changed.bytesColumn()).isSameAs(first.bytesColumn());
        r.transfers(kind, stage, mb, bytes, ready, start, end, 2, 3);
        assertThatThrownBy(() -> r.transfer(0, 0, 0, 1, 0, 0, 1)).isInstanceOf(IllegalStateException.class);
        r.clear();
        assertThatThrownBy(() -> r.transfers(new byte[] {7}, new int[1], new int[1], new long[1], new double[1],
                new double[1], new double[1], 0, 1)).hasMessageContaining("kind index");
    }

    @Test
    void aStepThatRepeatsSharesEveryColumnAndOneThatDiffersInOneFieldDoesNot() {
        RankActivity.Recorder r = new RankActivity.Recorder(0, 0);
        LinkActivity.Recorder l = new LinkActivity.Recorder(0, 0, 1);
        RankActivity[] ranks = new RankActivity[3];
        LinkActivity[] links = new LinkActivity[3];
        for (int step = 0; step < 3; step++) {
            for (int i = 0; i < 40; i++) {
                r.action(Phase.F, 0, i, i, i + 1, 1);
                r.memory(i, step == 2 && i == 39 ? 7 : 5); // step 2 differs in its last memory change only
                l.transfer(0, 0, i, 8, i, i, step == 2 && i == 0 ? 1.5 : 1); // and in its first arrival
            }
            ranks[step] = r.take(step);
            links[step] = l.take(step);
        }
        assertThat(ranks[1].startColumn()).isSameAs(ranks[0].startColumn());
        assertThat(ranks[1].memoryChanges()).isEqualTo(40);
        assertThat(ranks[2].startColumn()).isSameAs(ranks[0].startColumn());
        assertThat(ranks[2].memoryBytes(39)).isEqualTo(7);
        assertThat(ranks[0].memoryBytes(39)).isEqualTo(5);
        assertThat(links[1].endColumn()).isSameAs(links[0].endColumn());
        assertThat(links[2].end(0)).isEqualTo(1.5);
        assertThat(links[2].startColumn()).isSameAs(links[0].startColumn());
        assertThat(links[0].end(0)).isEqualTo(1.0);
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
