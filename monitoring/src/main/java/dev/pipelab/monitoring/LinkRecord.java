package dev.pipelab.monitoring;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.List;

/**
 * What one direction of one link carried in one step, recorded by the link actor itself and handed over once.
 * Invariant: the sums count what the link really carried (each transmission it sent on, in the order it sent them,
 * including those a fault dropped and the copies a fault duplicated); {@code transfers} lists them at
 * {@link TelemetryLevel#SPANS} and is empty below. A pipeline link joins ranks {@code fromRank -> toRank} of replica
 * {@code replica} ({@code toReplica == replica}); a ring link ({@code ring}) joins rank {@code fromRank == toRank} of
 * replica {@code replica} to the same rank of replica {@code toReplica}.
 *
 * @param bytes          bytes put on the wire (every transmission)
 * @param busySeconds    sum of {@code end - start} over its transmissions, in carrying order (a span includes the latency)
 * @param messages       messages carried (each counted once, however many transmissions it took)
 * @param maxQueueDepth  the most transmissions that were ready but had not yet started at any moment
 * @param dropped        transmissions a fault dropped (each was retransmitted, unless the link gave up on its message)
 * @param duplicates     second copies a fault delivered
 *
 * <p>{@code dropped} and {@code duplicates} are left out of the serialized form when 0 (and read back as 0), so that a
 * fault-free record crosses nodes byte for byte as before.
 */
public record LinkRecord(int step, int replica, int toReplica, int fromRank, int toRank, boolean ring, long bytes,
                         double busySeconds, int messages, int maxQueueDepth,
                         @JsonInclude(JsonInclude.Include.NON_DEFAULT) int dropped,
                         @JsonInclude(JsonInclude.Include.NON_DEFAULT) int duplicates,
                         List<Transfer> transfers) {

    public LinkRecord {
        if (dropped < 0) throw new IllegalArgumentException("dropped must be >= 0, got " + dropped);
        if (duplicates < 0) throw new IllegalArgumentException("duplicates must be >= 0, got " + duplicates);
        transfers = List.copyOf(transfers);
    }

    /** A record of a link without faults: nothing dropped, nothing duplicated. */
    public LinkRecord(int step, int replica, int toReplica, int fromRank, int toRank, boolean ring, long bytes,
                      double busySeconds, int messages, int maxQueueDepth, List<Transfer> transfers) {
        this(step, replica, toReplica, fromRank, toRank, ring, bytes, busySeconds, messages, maxQueueDepth, 0, 0, transfers);
    }

    /**
     * A transmission on the link: ready at {@code readySeconds} (a retransmission: when the sender's timeout fired;
     * a duplicate: when the original left), left at {@code startSeconds} (link free and payload ready), arrived (or,
     * dropped, would have arrived) at {@code endSeconds}. {@code microBatch} is -1 for an all-reduce chunk.
     *
     * <p>{@code outcome} is left out of the serialized form when it is {@link TransferOutcome#DELIVERED} (and read back
     * as that when absent), so that a fault-free record crosses nodes byte for byte as before and its span keeps
     * within {@code RecordParts.SPAN_BYTES_BOUND}; a span with another outcome counts double in a part's budget.
     */
    public record Transfer(TransferKind kind, int stage, int microBatch, long bytes, double readySeconds,
                           double startSeconds, double endSeconds,
                           @JsonInclude(value = JsonInclude.Include.CUSTOM, valueFilter = Delivered.class)
                           TransferOutcome outcome) {

        public Transfer {
            if (outcome == null) outcome = TransferOutcome.DELIVERED; // absent on the wire means delivered
        }

        /** A transmission that arrived. */
        public Transfer(TransferKind kind, int stage, int microBatch, long bytes, double readySeconds, double startSeconds,
                        double endSeconds) {
            this(kind, stage, microBatch, bytes, readySeconds, startSeconds, endSeconds, TransferOutcome.DELIVERED);
        }

        public boolean delivered() {
            return outcome == TransferOutcome.DELIVERED;
        }
    }

    /** Jackson's filter for {@link Transfer#outcome()}: {@code equals} says which values are left out. */
    static final class Delivered {
        @Override
        public boolean equals(Object value) {
            return value == TransferOutcome.DELIVERED;
        }

        @Override
        public int hashCode() {
            return 0;
        }
    }
}
