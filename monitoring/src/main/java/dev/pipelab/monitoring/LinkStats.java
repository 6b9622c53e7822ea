package dev.pipelab.monitoring;

/**
 * Traffic on one directed link {@code fromRank -> toRank} of one replica. Invariant: counts and seconds only grow
 * as transfers are added; {@code maxQueueDepth} counts transfers that were ready but had not yet started.
 *
 * @param busySeconds    sum of {@code end - start} of its transfers (the span includes the link's latency)
 * @param stallSeconds   seconds the sender waited for the receiver's credit
 * @param maxQueueDepth  the most transfers waiting at once in {@code [readySeconds, startSeconds)}
 */
public record LinkStats(int replica, int fromRank, int toRank, long bytes, double busySeconds, int transfers,
                        double stallSeconds, int maxQueueDepth) {
}
