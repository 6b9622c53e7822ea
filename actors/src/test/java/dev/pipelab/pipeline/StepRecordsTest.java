package dev.pipelab.pipeline;

import dev.pipelab.monitoring.LinkRecord;
import dev.pipelab.monitoring.StageRecord;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

class StepRecordsTest {

    private static StageRecord stage(int step, int replica, int rank, double busy) {
        return new StageRecord(step, replica, rank, Map.of(), busy, 0, 0, 0, new TreeMap<>(), List.of(), List.of(), List.of(),
                List.of(), List.of());
    }

    private static LinkRecord link(int step, int replica, int from, int to, boolean ring) {
        return new LinkRecord(step, replica, ring ? 1 - replica : replica, from, to, ring, 10, 1.0, 1, 0, List.of());
    }

    @Test
    void aStepIsCompleteWhenEveryReplicaAndEveryLinkIsInWhicheverComesFirst() {
        StepRecords linksLast = new StepRecords(2, 2);
        linksLast.begin(3);
        linksLast.replicaDone(1, List.of(stage(3, 1, 1, 1.0), stage(3, 1, 0, 1.0)));
        linksLast.replicaDone(0, List.of(stage(3, 0, 0, 1.0), stage(3, 0, 1, 1.0)));
        assertThat(linksLast.complete()).isFalse();
        linksLast.linkRecorded(link(3, 1, 0, 0, true));
        assertThat(linksLast.complete()).isFalse();
        linksLast.linkRecorded(link(3, 0, 1, 0, false));
        assertThat(linksLast.complete()).isTrue();

        StepRecords linksFirst = new StepRecords(2, 2);
        linksFirst.begin(3);
        linksFirst.linkRecorded(link(3, 0, 1, 0, false));
        linksFirst.linkRecorded(link(3, 1, 0, 0, true));
        linksFirst.replicaDone(0, List.of(stage(3, 0, 0, 1.0), stage(3, 0, 1, 1.0)));
        assertThat(linksFirst.complete()).isFalse();
        linksFirst.replicaDone(1, List.of(stage(3, 1, 1, 1.0), stage(3, 1, 0, 1.0)));
        assertThat(linksFirst.complete()).isTrue();

        assertThat(linksFirst.stages()).isEqualTo(linksLast.stages());
        assertThat(linksFirst.links()).isEqualTo(linksLast.links());
    }

    @Test
    void recordsComeInCanonicalOrderAndOtherStepsAreIgnored() {
        StepRecords r = new StepRecords(2, 4);
        r.begin(0);
        r.linkRecorded(link(0, 1, 0, 0, true));
        r.linkRecorded(link(0, 0, 0, 0, true));
        r.linkRecorded(link(0, 1, 0, 1, false));
        r.linkRecorded(link(1, 0, 0, 1, false)); // another step's
        r.linkRecorded(link(0, 0, 1, 0, false));
        r.linkRecorded(link(0, 0, 0, 1, false));
        r.replicaDone(1, List.of(stage(0, 1, 1, 1.0), stage(0, 1, 0, 1.0)));
        r.replicaDone(0, List.of(stage(0, 0, 1, 1.0), stage(0, 0, 0, 1.0)));
        assertThat(r.stages()).extracting(s -> List.of(s.replica(), s.rank()))
                .containsExactly(List.of(0, 0), List.of(0, 1), List.of(1, 0), List.of(1, 1));
        assertThat(r.links()).extracting(l -> List.of(l.ring() ? 1 : 0, l.replica(), l.fromRank(), l.toRank()))
                .containsExactly(List.of(0, 0, 0, 1), List.of(0, 0, 1, 0), List.of(0, 1, 0, 1), List.of(1, 0, 0, 0),
                        List.of(1, 1, 0, 0));
        r.begin(1);
        assertThat(r.stages()).isEmpty();
        assertThat(r.links()).isEmpty();
    }

    @Test
    void aPartialRecordIsTheRanksLatestWordAndEachRankCountsOnce() {
        StepRecords r = new StepRecords(2, 0);
        r.begin(5);
        r.replicaDone(0, List.of(stage(5, 0, 0, 1.0), stage(5, 0, 1, 1.0)));
        r.partial(List.of(stage(5, 0, 1, 1.0), stage(5, 1, 0, 0.5), stage(4, 1, 1, 9.0)));
        assertThat(r.complete()).isFalse();
        assertThat(r.stages()).extracting(s -> List.of(s.replica(), s.rank()))
                .containsExactly(List.of(0, 0), List.of(0, 1), List.of(1, 0));
        assertThat(r.stages().get(2).busySeconds()).isEqualTo(0.5);
    }
}
