package dev.pipelab.link;

import java.util.Arrays;

/**
 * The sender's side of one link's credit protocol, pure. Invariant: message {@code n} may leave only once the
 * receiver has started the consumer of message {@code n - buffer} (taken it out of its buffer), so at most
 * {@code buffer} messages wait at the receiver; {@code buffer == Integer.MAX_VALUE} means unbounded (no credit
 * is ever needed). Sequence numbers restart at 0 every step.
 */
public final class CreditWindow {

    /** Buffer size meaning "no limit" (same value as {@code Evaluator.UNBOUNDED}). */
    public static final int UNBOUNDED = Integer.MAX_VALUE;

    private final int buffer;
    private double[] grantedAt;
    private int sent;
    private int granted;
    private int maxOutstanding;
    private double stallSeconds;

    /**
     * @param buffer   messages the receiver can hold, ≥ 1, or {@link #UNBOUNDED}
     * @param messages messages this link carries per step (sizing only)
     */
    public CreditWindow(int buffer, int messages) {
        if (buffer < 1) throw new IllegalArgumentException("buffer must be >= 1, got " + buffer);
        if (messages < 0) throw new IllegalArgumentException("messages must be >= 0, got " + messages);
        this.buffer = buffer;
        this.grantedAt = new double[Math.max(1, messages)];
        reset();
    }

    /** Forgets the previous step: no credit received, nothing sent, no stall. */
    public void reset() {
        Arrays.fill(grantedAt, Double.NaN);
        sent = 0;
        granted = 0;
        maxOutstanding = 0;
        stallSeconds = 0;
    }

    public int buffer() { return buffer; }

    public boolean bounded() { return buffer != UNBOUNDED; }

    /** Whether sending message {@code seq} needs a credit at all. */
    public boolean needsCredit(int seq) {
        return bounded() && seq >= buffer;
    }

    /**
     * The emulated time from which message {@code seq} may be produced: {@code -Infinity} when it needs no
     * credit, {@code NaN} while the credit has not arrived, else the start of the consumer of {@code seq - buffer}.
     */
    public double creditTime(int seq) {
        if (!needsCredit(seq)) return Double.NEGATIVE_INFINITY;
        int slot = seq - buffer;
        return slot < grantedAt.length ? grantedAt[slot] : Double.NaN;
    }

    /** The receiver started the consumer of message {@code seq} at {@code startSeconds}. Duplicates are ignored. */
    public void granted(int seq, double startSeconds) {
        if (seq < 0) throw new IllegalArgumentException("seq must be >= 0, got " + seq);
        if (seq >= grantedAt.length) {
            int old = grantedAt.length;
            grantedAt = Arrays.copyOf(grantedAt, Math.max(seq + 1, 2 * old));
            Arrays.fill(grantedAt, old, grantedAt.length, Double.NaN);
        }
        if (Double.isNaN(grantedAt[seq])) {
            grantedAt[seq] = startSeconds;
            granted++;
        }
    }

    /** Message {@code seq} was handed to the link. Returns the messages now sent and not yet consumed. */
    public int sent(int seq) {
        sent = Math.max(sent, seq + 1);
        int outstanding = sent - granted;
        maxOutstanding = Math.max(maxOutstanding, outstanding);
        return outstanding;
    }

    /** Adds time the sender waited for credit alone. */
    public void stalled(double seconds) {
        stallSeconds += seconds;
    }

    public double stallSeconds() { return stallSeconds; }

    /** Most messages sent and not yet known consumed, over the step (≤ buffer + credits still in flight). */
    public int maxOutstanding() { return maxOutstanding; }
}
