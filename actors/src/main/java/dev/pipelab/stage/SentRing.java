package dev.pipelab.stage;

import dev.pipelab.model.LinkSpec;
import dev.pipelab.monitoring.EventSink;
import dev.pipelab.monitoring.LinkActivity;

import java.util.Arrays;

/**
 * The telemetry of a rank's ring link (its all-reduce chunks to the same rank of the next replica), computed by the
 * sender, as {@link SentTransfers} does for pipeline links. Invariant: the transfers reported are exactly the ring
 * messages the rank has sent this step, in sending order ({@link StageState#ringSends}), with the link's own times
 * ({@link LinkReport}, over each chunk's own link spec). Why: the link wrote every chunk whole into a recorder, a cache
 * miss per chunk.
 */
final class SentRing {

    /** This step's sends so far, as the state gives them. */
    private final double[] ready;
    private final int[] stage;
    private final long[] bytes;
    private final LinkSpec[] link;
    private final LinkReport out;

    SentRing(int replica, int rank, int messagesPerStep) {
        int n = messagesPerStep;
        ready = new double[n];
        stage = new int[n];
        bytes = new long[n];
        link = new LinkSpec[n];
        byte[] kind = new byte[n];
        Arrays.fill(kind, (byte) LinkActivity.kindIndex("allreduce"));
        int[] microBatch = new int[n];
        Arrays.fill(microBatch, -1);
        out = new LinkReport(replica, rank, rank, kind, microBatch);
    }

    /** Reports the ring messages {@code state} has sent since the last report of its step, as one batch; nothing when none. */
    void report(StageState state, EventSink sink) {
        int to = state.ringSends(ready, stage, bytes, link);
        out.report(state.step(), to, ready, stage, bytes, link, sink);
    }
}
