package dev.pipelab.stage;

import dev.pipelab.link.LinkState;
import dev.pipelab.model.LinkSpec;
import dev.pipelab.monitoring.EventSink;
import dev.pipelab.monitoring.LinkActivity;

import java.util.Arrays;

/**
 * The telemetry of a rank's ring link (its all-reduce chunks to the same rank of the next replica), computed by the
 * sender, as {@link SentTransfers} does for pipeline links. Invariant: the transfers reported are exactly the ring
 * messages the rank has sent this step, in sending order ({@link StageState#ringSends}), with the link's own times:
 * {@link LinkState} over each chunk's own link spec, as the {@link dev.pipelab.link.Link} runs it. Why: the link
 * wrote every chunk whole into a recorder, a cache miss per chunk.
 */
final class SentRing {

    private static final byte ALLREDUCE = (byte) LinkActivity.kindIndex("allreduce");

    private final LinkActivity.Recorder recorder;
    private final LinkState replay = new LinkState(LinkSpec.FREE);
    /** This step's sends so far, as the state gives them. */
    private final double[] freshReady;
    private final int[] freshStage;
    private final long[] freshBytes;
    private final LinkSpec[] freshLink;
    /** The last replay: the sends and their times (kind and micro-batch are the same for every ring message). */
    private final byte[] kind;
    private final int[] microBatch;
    private final int[] stage;
    private final long[] bytes;
    private final LinkSpec[] link;
    private final double[] ready;
    private final double[] start;
    private final double[] arrival;
    private int filled;
    private boolean same;
    private int reported;
    private int step = -1;
    private LinkActivity last;
    private int lastFrom;
    private int lastTo;
    private boolean rewritten = true;

    SentRing(int replica, int rank, int messagesPerStep) {
        this.recorder = new LinkActivity.Recorder(replica, rank, rank);
        int n = messagesPerStep;
        freshReady = new double[n];
        freshStage = new int[n];
        freshBytes = new long[n];
        freshLink = new LinkSpec[n];
        kind = new byte[n];
        Arrays.fill(kind, ALLREDUCE);
        microBatch = new int[n];
        Arrays.fill(microBatch, -1);
        stage = new int[n];
        bytes = new long[n];
        link = new LinkSpec[n];
        ready = new double[n];
        start = new double[n];
        arrival = new double[n];
    }

    /** Reports the ring messages {@code state} has sent since the last report of its step, as one batch; nothing when none. */
    void report(StageState state, EventSink sink) {
        if (state.step() != step) {
            step = state.step();
            reported = 0;
            same = true;
        }
        int to = state.ringSends(freshReady, freshStage, freshBytes, freshLink);
        if (to == reported) return;
        for (int i = reported; i < to; i++) {
            if (same && i < filled && Double.doubleToRawLongBits(freshReady[i]) == Double.doubleToRawLongBits(ready[i])
                    && freshStage[i] == stage[i] && freshBytes[i] == bytes[i] && freshLink[i].equals(link[i])) {
                continue;
            }
            if (same) { // the first difference: the link state as it was after this step's messages before i
                same = false;
                replay.reset();
                for (int k = 0; k < i; k++) replay.send(link[k], bytes[k], ready[k], Double.NEGATIVE_INFINITY);
            }
            ready[i] = freshReady[i];
            stage[i] = freshStage[i];
            bytes[i] = freshBytes[i];
            link[i] = freshLink[i];
            LinkState.Transit t = replay.send(link[i], bytes[i], ready[i], Double.NEGATIVE_INFINITY); // as Link.onRingTransfer
            start[i] = t.start();
            arrival[i] = t.arrival();
            rewritten = true;
        }
        if (!same) filled = to;
        if (!rewritten && reported == lastFrom && to == lastTo) {
            last = last.withStep(step);
        } else {
            recorder.transfers(kind, stage, microBatch, bytes, ready, start, arrival, reported, to);
            last = recorder.take(step);
            lastFrom = reported;
            lastTo = to;
            rewritten = false;
        }
        reported = to;
        sink.emit(last);
    }
}
