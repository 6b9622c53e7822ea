package dev.pipelab.stage;

import dev.pipelab.model.LinkSpec;
import dev.pipelab.monitoring.EventSink;
import dev.pipelab.monitoring.LinkActivity;

import java.util.Arrays;

/**
 * The telemetry of one outgoing pipeline link, computed by its sender: which of the rank's messages the link carried,
 * when each was ready, left and arrived. Invariant: the transfers reported are exactly the rank's remote sends to
 * {@code toRank} that have finished, in sequence order, and their times are the link's own: a message is ready when
 * the action that produced it ends ({@link StageState.Send#ready}), and {@link LinkReport} replays the link's
 * arithmetic for its start and arrival.
 *
 * <p>Why the sender and not the link: the link would have to write each message's ready time as it passes, into
 * memory that has gone cold since its last message (the actors' traffic evicts it), and that one store, waited for at
 * the fence of the next send, cost about a seventh of a monitored run's time. The sender already keeps its actions'
 * end times, so at a flush it gathers them in one tight loop.
 */
final class SentTransfers {

    /** By sequence number: the sender's position that sends it, its model stage, size and link (all static). */
    private final int[] position;
    private final int[] stage;
    private final long[] bytes;
    private final LinkSpec[] link;
    /** By sequence number: this step's ready times, gathered at each report. */
    private final double[] ready;
    private final LinkReport out;

    SentTransfers(StageProgram program, int replica, int toRank, LinkSpec spec) {
        int n = program.messagesTo(toRank);
        this.position = new int[n];
        this.stage = new int[n];
        this.bytes = new long[n];
        this.link = new LinkSpec[n];
        this.ready = new double[n];
        byte[] kind = new byte[n];
        int[] microBatch = new int[n];
        Arrays.fill(position, -1);
        Arrays.fill(link, spec);
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
        this.out = new LinkReport(replica, program.rank(), toRank, kind, microBatch);
    }

    /**
     * Reports the transfers of the messages sent since the last report of this step (those whose sending position is
     * below {@code finished}), with {@code ends} the sender's action end times by position, into {@code sink} as one
     * batch of {@code step}; nothing when there are none.
     */
    void report(int step, double[] ends, int finished, EventSink sink) {
        int from = out.reported(step);
        int to = from;
        while (to < position.length && position[to] < finished) to++;
        for (int i = from; i < to; i++) ready[i] = ends[position[i]];
        out.report(step, to, ready, stage, bytes, link, sink);
    }
}
