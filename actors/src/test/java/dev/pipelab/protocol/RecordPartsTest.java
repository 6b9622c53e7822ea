package dev.pipelab.protocol;

import dev.pipelab.monitoring.LinkRecord;
import dev.pipelab.monitoring.Phase;
import dev.pipelab.monitoring.StageRecord;
import dev.pipelab.monitoring.TransferKind;
import dev.pipelab.monitoring.TransferOutcome;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RecordPartsTest {

    /** A stage record with {@code a} actions, {@code m} memory changes, {@code s} stalls and {@code o} out-of-memory moments. */
    static StageRecord stage(int a, int m, int s, int o) {
        List<StageRecord.Action> actions = new ArrayList<>();
        for (int i = 0; i < a; i++) actions.add(new StageRecord.Action(Phase.F, i % 3, i, i * 0.5, i * 0.5 + 0.25, 0.25));
        List<StageRecord.MemoryChange> memory = new ArrayList<>();
        for (int i = 0; i < m; i++) memory.add(new StageRecord.MemoryChange(i * 0.1, 1000L + i));
        List<StageRecord.CreditStall> stalls = new ArrayList<>();
        for (int i = 0; i < s; i++) stalls.add(new StageRecord.CreditStall(1, i, i + 0.5));
        List<StageRecord.OutOfMemory> oom = new ArrayList<>();
        for (int i = 0; i < o; i++) oom.add(new StageRecord.OutOfMemory(0, i, 5000L + i, 4000L));
        return new StageRecord(3, 1, 2, Map.of(Phase.F, 1.5, Phase.OPT, 0.25), 1.75, 200L, 300L, 2,
                new TreeMap<>(Map.of(1, 0.5)), List.of(new StageRecord.AllReduce(2, 1000L, 3.0, 3.25)), oom, actions, memory, stalls);
    }

    static LinkRecord link(int transfers) {
        List<LinkRecord.Transfer> t = new ArrayList<>();
        for (int i = 0; i < transfers; i++) t.add(new LinkRecord.Transfer(TransferKind.ACTIVATION, 0, i, 10L * i, i, i + 0.1, i + 0.2));
        return new LinkRecord(3, 0, 0, 0, 1, false, 12_345L, 6.5, transfers, 4, t);
    }

    @Test
    void aStageRecordSplitsIntoBoundedPartsThatJoinBackExactly() {
        StageRecord r = stage(1000, 1999, 37, 5);
        for (int n : new int[] {1, 7, 384, 3040, 3041}) {
            List<StageRecord> parts = RecordParts.split(r, n);
            assertThat(parts).hasSize((3041 + n - 1) / n);
            for (StageRecord p : parts) {
                assertThat(RecordParts.spans(p)).isBetween(1, n);
                // every part carries the whole record's sums
                assertThat(p.busySeconds()).isEqualTo(r.busySeconds());
                assertThat(p.allReduces()).isEqualTo(r.allReduces());
                assertThat(p.stallSecondsByRank()).isEqualTo(r.stallSecondsByRank());
            }
            assertThat(RecordParts.joinStage(parts)).isEqualTo(r);
        }
        assertThat(RecordParts.split(r, 3041)).containsExactly(r);
    }

    @Test
    void aLinkRecordSplitsIntoBoundedPartsThatJoinBackExactly() {
        LinkRecord r = link(1001);
        List<LinkRecord> parts = RecordParts.split(r, 100);
        assertThat(parts).hasSize(11);
        assertThat(parts.get(10).transfers()).hasSize(1);
        assertThat(parts).allSatisfy(p -> assertThat(p.bytes()).isEqualTo(12_345L));
        assertThat(RecordParts.joinLink(parts)).isEqualTo(r);
        assertThat(RecordParts.split(link(0), 1)).containsExactly(link(0));
    }

    /** A transfer a fault dropped or duplicated weighs two in a part's budget; the fault counts travel in every part. */
    @Test
    void aLinkRecordWithFaultMarkedTransfersSplitsByWeight() {
        List<LinkRecord.Transfer> t = new ArrayList<>();
        TransferOutcome[] outcomes = {TransferOutcome.DROPPED, TransferOutcome.DELIVERED, TransferOutcome.DELIVERED,
                TransferOutcome.DUPLICATE, TransferOutcome.DELIVERED};
        for (int i = 0; i < outcomes.length; i++) {
            t.add(new LinkRecord.Transfer(TransferKind.GRADIENT, 1, i, 10L, i, i + 0.1, i + 0.2, outcomes[i]));
        }
        LinkRecord r = new LinkRecord(3, 0, 0, 1, 0, false, 50L, 1.0, 4, 1, 1, 1, t);
        // weights 2 1 1 2 1: parts of at most 3 are [dropped, delivered], [delivered, duplicate], [delivered]
        List<LinkRecord> parts = RecordParts.split(r, 3);
        assertThat(parts).extracting(p -> p.transfers().size()).containsExactly(2, 2, 1);
        assertThat(parts).allSatisfy(p -> {
            assertThat(p.dropped()).isEqualTo(1);
            assertThat(p.duplicates()).isEqualTo(1);
        });
        assertThat(RecordParts.joinLink(parts)).isEqualTo(r);
        // a weight above the budget still travels, alone
        assertThat(RecordParts.split(r, 1)).extracting(p -> p.transfers().size()).containsExactly(1, 1, 1, 1, 1);
        assertThat(RecordParts.split(r, 7)).containsExactly(r);
        assertThat(RecordParts.split(r, 6)).hasSize(2);
    }

    @Test
    void partsThatArrivedJoinToExactSumsWithFewerSpans() {
        StageRecord r = stage(10, 0, 0, 0);
        List<StageRecord> parts = RecordParts.split(r, 4);
        StageRecord withoutMiddle = RecordParts.joinStage(List.of(parts.get(0), parts.get(2)));
        assertThat(withoutMiddle.actions()).hasSize(6);
        assertThat(withoutMiddle.busySecondsByPhase()).isEqualTo(r.busySecondsByPhase());
    }

    @Test
    void spansPerPartFollowTheFrame() {
        assertThat(RecordParts.spansPerPart(256 * 1024)).isEqualTo((64 * 1024 - RecordParts.HEAD_BYTES) / RecordParts.SPAN_BYTES_BOUND);
        assertThat(RecordParts.spansPerPart(256 * 1024)).isEqualTo(384);
        assertThat(RecordParts.spansPerPart(2 * 1024 * 1024)).isEqualTo(3968);
        assertThatThrownBy(() -> RecordParts.spansPerPart(32 * 1024)).hasMessageContaining("maximum-frame-size of 32768 bytes");
    }
}
