package dev.pipelab.stage;

import dev.pipelab.link.LinkState;
import dev.pipelab.model.LinkSpec;
import dev.pipelab.monitoring.EventSink;
import dev.pipelab.monitoring.LinkActivity;

/**
 * What a sender reports of one of its links ({@link SentTransfers}, {@link SentRing}): given the messages it has sent
 * this step (ready time, model stage, size and link spec each, by sending order), the link's times, replayed with
 * {@link LinkState} as the {@link dev.pipelab.link.Link} runs it (the same code, the same order, so the same bits).
 * Invariant: each call reports the messages since the last report of its step, as one batch. When this step's messages
 * so far equal the last replay's, their times still hold and nothing is replayed; when a batch equals the last batch
 * (every step of a virtual-time run), the last batch is re-issued with the new step without comparing a column.
 */
final class LinkReport {

    private final LinkActivity.Recorder recorder;
    private final LinkState replay = new LinkState(LinkSpec.FREE);
    /** By sending order, never changing: each message's kind index and micro-batch. */
    private final byte[] kind;
    private final int[] microBatch;
    /** By sending order, the last replay: the messages and their times. */
    private final int[] stage;
    private final long[] bytes;
    private final LinkSpec[] link;
    private final double[] ready;
    private final double[] start;
    private final double[] arrival;
    /** How many entries hold a replay, of this step or an earlier one. */
    private int filled;
    /** Whether this step's messages so far equal the last replay's (so their times still hold). */
    private boolean same;
    private int reported;
    private int step = -1;
    /** The last batch reported, the range it covered, and whether a message has changed since. */
    private LinkActivity last;
    private int lastFrom;
    private int lastTo;
    private boolean rewritten = true;

    LinkReport(int replica, int fromRank, int toRank, byte[] kind, int[] microBatch) {
        if (kind.length != microBatch.length) throw new IllegalArgumentException("kind and micro-batch columns differ in length");
        this.recorder = new LinkActivity.Recorder(replica, fromRank, toRank);
        this.kind = kind;
        this.microBatch = microBatch;
        int n = kind.length;
        stage = new int[n];
        bytes = new long[n];
        link = new LinkSpec[n];
        ready = new double[n];
        start = new double[n];
        arrival = new double[n];
    }

    /** How many of step {@code step}'s messages were reported already (0 for a step not seen yet). */
    int reported(int step) {
        return step == this.step ? reported : 0;
    }

    /**
     * Reports messages {@code [reported(step), to)} of step {@code step}, given by sending order in the caller's arrays
     * (which stay the caller's), into {@code sink} as one batch; nothing when there are none.
     */
    void report(int step, int to, double[] readyAt, int[] stageOf, long[] size, LinkSpec[] on, EventSink sink) {
        if (step != this.step) {
            this.step = step;
            reported = 0;
            same = true;
        }
        if (to == reported) return;
        for (int i = reported; i < to; i++) {
            if (same && i < filled && Double.doubleToRawLongBits(readyAt[i]) == Double.doubleToRawLongBits(ready[i])
                    && stageOf[i] == stage[i] && size[i] == bytes[i] && (on[i] == link[i] || on[i].equals(link[i]))) {
                continue;
            }
            if (same) { // the first difference: the link state as it was after this step's messages before i
                same = false;
                replay.reset();
                for (int k = 0; k < i; k++) replay.send(link[k], bytes[k], ready[k], Double.NEGATIVE_INFINITY);
            }
            ready[i] = readyAt[i];
            stage[i] = stageOf[i];
            bytes[i] = size[i];
            link[i] = on[i];
            LinkState.Transit t = replay.send(link[i], bytes[i], ready[i], Double.NEGATIVE_INFINITY); // as the Link does
            start[i] = t.start();
            arrival[i] = t.arrival();
            rewritten = true;
        }
        if (!same) filled = to;
        if (!rewritten && reported == lastFrom && to == lastTo) {
            last = last.withStep(step); // the same messages with the same times as the last batch: nothing to compare
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
