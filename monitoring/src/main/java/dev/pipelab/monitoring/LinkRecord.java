package dev.pipelab.monitoring;

import java.util.List;

/**
 * What one direction of one link carried in one step, recorded by the link actor itself and handed over once.
 * Invariant: the sums count what the link really carried (each message it sent on, in the order it sent them);
 * {@code transfers} lists them at {@link TelemetryLevel#SPANS} and is empty below. A pipeline link joins ranks
 * {@code fromRank -> toRank} of replica {@code replica} ({@code toReplica == replica}); a ring link ({@code ring})
 * joins rank {@code fromRank == toRank} of replica {@code replica} to the same rank of replica {@code toReplica}.
 *
 * @param bytes          bytes carried
 * @param busySeconds    sum of {@code end - start} over its transfers, in carrying order (a span includes the latency)
 * @param messages       messages carried
 * @param maxQueueDepth  the most messages that were ready but had not yet started at any moment
 */
public record LinkRecord(int step, int replica, int toReplica, int fromRank, int toRank, boolean ring, long bytes,
                         double busySeconds, int messages, int maxQueueDepth, List<Transfer> transfers) {

    public LinkRecord {
        transfers = List.copyOf(transfers);
    }

    /**
     * A message on the link: ready at {@code readySeconds}, left at {@code startSeconds} (link free and payload
     * ready), arrived at {@code endSeconds}. {@code microBatch} is -1 for an all-reduce chunk.
     */
    public record Transfer(TransferKind kind, int stage, int microBatch, long bytes, double readySeconds,
                           double startSeconds, double endSeconds) {}
}
