package dev.pipelab.stage;

import dev.pipelab.link.LinkState;
import dev.pipelab.model.LinkSpec;
import dev.pipelab.monitoring.EventSink;
import dev.pipelab.monitoring.LinkActivity;

/**
 * The telemetry of one outgoing pipeline link, computed by its sender: which of the rank's messages the link carried,
 * when each was ready, left and arrived. Invariant: the transfers reported are exactly the rank's remote sends to
 * {@code toRank} that have finished, in sequence order, and their times are the link's own: a message is ready when
 * the action that produced it ends ({@link StageState.Send#ready}), and {@link LinkState} (the arithmetic the
 * {@link dev.pipelab.link.Link} itself runs, in the same order) gives its start and arrival.
 *
 * <p>Why the sender and not the link: the link would have to write each message's ready time as it passes, into
 * memory that has gone cold since its last message (the actors' traffic evicts it), and that one store, waited for at
 * the fence of the next send, cost about a seventh of a monitored run's time. The sender already keeps its actions'
 * end times, so at a flush it gathers them and replays the link's arithmetic in one tight loop; when the ready times
 * repeat the last step's, as every step of a virtual-time run does, the last replay stands.
 */
final class SentTransfers {

    private final LinkSpec spec;
    private final LinkActivity.Recorder recorder;
    /** By sequence number: the sender's position that sends it, and the message's kind index, stage, micro-batch and size. */
    private final int[] position;
    private final byte[] kind;
    private final int[] stage;
    private final int[] microBatch;
    private final long[] bytes;
    /** By sequence number: ready, start and arrival, the last replay's beyond this step's reported ones. */
    private final double[] ready;
    private final double[] start;
    private final double[] arrival;
    /** How many entries of {@link #ready} (and the times replayed from them) hold a replay, of this step or the last. */
    private int filled;
    /** Whether this step's ready times so far equal the last replay's (so its start and arrival times still hold). */
    private boolean same;
    /** The replay's link state after this step's {@link #reported} transfers (valid once {@link #same} is false). */
    private final LinkState replay;
    private int reported;
    private int step = -1;
    /** The last batch reported, the range of sequence numbers it covered, and whether a time has changed since. */
    private LinkActivity last;
    private int lastFrom;
    private int lastTo;
    private boolean rewritten = true;

    SentTransfers(StageProgram program, int replica, int toRank, LinkSpec spec) {
        this.spec = spec;
        this.recorder = new LinkActivity.Recorder(replica, program.rank(), toRank);
        this.replay = new LinkState(spec);
        int n = program.messagesTo(toRank);
        this.position = new int[n];
        this.kind = new byte[n];
        this.stage = new int[n];
        this.microBatch = new int[n];
        this.bytes = new long[n];
        this.ready = new double[n];
        this.start = new double[n];
        this.arrival = new double[n];
        java.util.Arrays.fill(position, -1);
        for (int j = 0; j < program.size(); j++) {
            if (program.outRank(j) != toRank || !program.remoteOutput(j)) continue;
            int seq = program.outSeq(j);
            position[seq] = j;
            kind[seq] = (byte) LinkActivity.kindIndex(program.outKind(j));
            stage[seq] = program.action(j).stage();
            microBatch[seq] = program.action(j).microBatch();
            bytes[seq] = program.outBytes(j);
        }
        for (int seq = 0; seq < n; seq++) {
            if (position[seq] < 0 || (seq > 0 && position[seq] <= position[seq - 1])) {
                throw new IllegalStateException("rank " + program.rank() + ": its messages to rank " + toRank
                        + " are not sent in sequence order (message " + seq + ")");
            }
        }
    }

    /**
     * Reports the transfers of the messages sent since the last report of this step (those whose sending position is
     * below {@code finished}), with {@code ends} the sender's action end times by position, into {@code sink} as one
     * batch of {@code step}; nothing when there are none.
     */
    void report(int step, double[] ends, int finished, EventSink sink) {
        if (step != this.step) {
            this.step = step;
            reported = 0;
            same = true;
        }
        int to = reported;
        while (to < position.length && position[to] < finished) to++;
        if (to == reported) return;
        for (int i = reported; i < to; i++) {
            double r = ends[position[i]];
            if (same && i < filled && Double.doubleToRawLongBits(r) == Double.doubleToRawLongBits(ready[i])) continue;
            if (same) { // the first difference: the link state as it was after this step's transfers before i
                same = false;
                replay.reset();
                for (int k = 0; k < i; k++) replay.send(spec, bytes[k], ready[k], Double.NEGATIVE_INFINITY);
            }
            ready[i] = r;
            LinkState.Transit t = replay.send(spec, bytes[i], r, Double.NEGATIVE_INFINITY); // as Link.onTransfer
            start[i] = t.start();
            arrival[i] = t.arrival();
            rewritten = true;
        }
        if (!same) filled = to;
        if (!rewritten && reported == lastFrom && to == lastTo) {
            last = last.withStep(step); // the same transfers with the same times as the last batch: nothing to compare
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
