package dev.pipelab.pipeline;

import dev.pipelab.monitoring.LinkRecord;
import dev.pipelab.monitoring.StageRecord;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The records of the step in progress, as the trainer receives them, pure. Invariant: the step is complete once every
 * replica has reported (its ranks' records ride on its completion) and every link expected to hand over a record has,
 * in whichever order they came; the records it gives are of the current step only, in canonical order: stages by
 * (replica, rank), pipeline links by (replica, fromRank, toRank), then ring links by (replica, rank).
 */
final class StepRecords {

    private static final Comparator<StageRecord> STAGE_ORDER =
            Comparator.comparingInt(StageRecord::replica).thenComparingInt(StageRecord::rank);
    private static final Comparator<LinkRecord> LINK_ORDER = Comparator.comparing(LinkRecord::ring)
            .thenComparingInt(LinkRecord::replica).thenComparingInt(LinkRecord::fromRank).thenComparingInt(LinkRecord::toRank);

    private final int replicas;
    private final int linksPerStep;
    private int step = -1;
    private final Map<Integer, List<StageRecord>> byReplica = new TreeMap<>();
    private final List<StageRecord> partialStages = new ArrayList<>();
    private final List<LinkRecord> links = new ArrayList<>();
    private int lost;

    /**
     * @param replicas     replicas that report each step
     * @param linksPerStep links that hand over a record each step (those that carry anything; none with telemetry off)
     */
    StepRecords(int replicas, int linksPerStep) {
        this.replicas = replicas;
        this.linksPerStep = linksPerStep;
    }

    /** A new step: nothing received. */
    void begin(int step) {
        this.step = step;
        byReplica.clear();
        partialStages.clear();
        links.clear();
        lost = 0;
    }

    /** {@code n} more of the step's records were sent but did not arrive whole. */
    void lost(int n) {
        lost += n;
    }

    /** The step's records that were sent but did not arrive whole. */
    int lost() {
        return lost;
    }

    /** Whether every replica has reported. */
    boolean replicasDone() {
        return byReplica.size() == replicas;
    }

    /** Link records expected this step that have not come. */
    int missingLinks() {
        return Math.max(0, linksPerStep - links.size());
    }

    /** Replica {@code replica} completed the step with its ranks' records. */
    void replicaDone(int replica, List<StageRecord> records) {
        byReplica.put(replica, List.copyOf(records));
    }

    /** A link handed over its record (of this step or, ignored, another). */
    void linkRecorded(LinkRecord record) {
        if (record.step() == step) links.add(record);
    }

    /** What a stage recorded of a step that will not complete (a failure's or a flush's), kept unless of another step. */
    void partial(List<StageRecord> records) {
        for (StageRecord r : records) if (r.step() == step) partialStages.add(r);
    }

    boolean complete() {
        return replicasDone() && links.size() >= linksPerStep;
    }

    /** Every stage record received, from completed replicas and partial ones, each rank once, in canonical order. */
    List<StageRecord> stages() {
        Map<List<Integer>, StageRecord> unique = new HashMap<>();
        for (List<StageRecord> records : byReplica.values()) {
            for (StageRecord r : records) unique.put(List.of(r.replica(), r.rank()), r);
        }
        for (StageRecord r : partialStages) unique.put(List.of(r.replica(), r.rank()), r); // the latest word of the rank
        return unique.values().stream().sorted(STAGE_ORDER).toList();
    }

    /** Every link record received, in canonical order. */
    List<LinkRecord> links() {
        return links.stream().sorted(LINK_ORDER).toList();
    }
}
