package dev.pipelab.link;

import dev.pipelab.fault.FaultKind;
import dev.pipelab.fault.FaultWindow;
import dev.pipelab.model.LinkSpec;
import dev.pipelab.monitoring.TransferOutcome;

import java.util.ArrayList;
import java.util.List;

/**
 * How the {@code link.*} faults of one step act on the messages of one link, pure (docs/faults.md). Invariant: a
 * transmission is judged by the windows that cover the moment it leaves ({@link FaultWindow#covers}), and a message is
 * transmitted again, {@code rto} after each drop, until one transmission gets through or the next would leave
 * {@code timeoutSeconds} or more after the first; every transmission occupies the link.
 *
 * <ul>
 *   <li>{@code link.latency}: its {@code seconds} are added to the arrival (several add up);</li>
 *   <li>{@code link.bandwidth}: the occupancy is divided by its {@code factor} (several multiply);</li>
 *   <li>{@code link.partition}: the transmission is dropped;</li>
 *   <li>{@code link.loss}: the transmission is dropped with its {@code probability};</li>
 *   <li>{@code link.duplicate}: with its {@code probability}, the transmission that got through is followed on the wire
 *   by a second copy (as netem's {@code duplicate} does), which the receiver drops by position.</li>
 * </ul>
 *
 * <p>The retransmission timeout starts at {@code retransmitSeconds} and doubles after every drop: TCP's exponential
 * backoff (RFC 6298, section 5.5). A coin flip is a hash of (seed, fault, kind, step, link, message, transmission),
 * never a stateful random generator, so the outcome of a transmission does not depend on the order in which messages
 * of different links interleave, and two runs of one scenario are identical.
 */
public final class LinkFaults {

    /** No fault: every message is one transmission that gets through. */
    public static final LinkFaults NONE = new LinkFaults(0, "", List.of(), 1, 1);

    /** One transmission of a message: when it was ready and left, when it arrived (or would have), what became of it. */
    public record Attempt(double readySeconds, double startSeconds, double arrivalSeconds, TransferOutcome outcome) {}

    /** What became of a message: its transmissions in the order they left. */
    public sealed interface Carried {
        List<Attempt> attempts();
    }

    /** The message got through: one {@code DELIVERED} attempt, last or followed by its {@code DUPLICATE} copy. */
    public record Through(List<Attempt> attempts) implements Carried {
        public Through {
            attempts = List.copyOf(attempts);
        }
    }

    /**
     * The sender gave up at {@code atSeconds} (the first transmission's start plus the timeout): every attempt was
     * dropped, the last one by fault {@code fault} of kind {@code kind}.
     */
    public record GaveUp(List<Attempt> attempts, int fault, FaultKind kind, double atSeconds) implements Carried {
        public GaveUp {
            attempts = List.copyOf(attempts);
        }
    }

    private final int step;
    private final long linkHash;
    private final List<FaultWindow> windows;
    private final double retransmitSeconds;
    private final double timeoutSeconds;

    /**
     * @param step              the step the windows belong to (it enters the coin flips)
     * @param link              the link's name (it enters the coin flips)
     * @param windows           the step's windows of {@code link.*} faults on this link
     * @param retransmitSeconds the first retransmission timeout, > 0
     * @param timeoutSeconds    how long after its first transmission a message may still be retransmitted, finite, > 0
     */
    public LinkFaults(int step, String link, List<FaultWindow> windows, double retransmitSeconds, double timeoutSeconds) {
        if (!(retransmitSeconds > 0) || Double.isInfinite(retransmitSeconds)) {
            throw new IllegalArgumentException("retransmitSeconds must be finite and > 0, got " + retransmitSeconds);
        }
        // finite, or a partition that never heals would be retransmitted into forever
        if (!(timeoutSeconds > 0) || Double.isInfinite(timeoutSeconds)) {
            throw new IllegalArgumentException("timeoutSeconds must be finite and > 0, got " + timeoutSeconds);
        }
        for (FaultWindow w : windows) check(w);
        this.step = step;
        this.linkHash = hash(link);
        this.windows = List.copyOf(windows);
        this.retransmitSeconds = retransmitSeconds;
        this.timeoutSeconds = timeoutSeconds;
    }

    private static void check(FaultWindow w) {
        String where = "fault " + w.fault() + " (" + w.kind().key() + ")";
        if (w.kind().target() != FaultKind.Target.LINK) throw new IllegalArgumentException(where + ": not a link fault");
        double v = w.value();
        boolean ok = switch (w.kind()) {
            case LINK_LATENCY -> v >= 0 && Double.isFinite(v);
            case LINK_BANDWIDTH -> v > 0 && v <= 1;
            case LINK_LOSS, LINK_DUPLICATE -> v >= 0 && v <= 1;
            default -> true;
        };
        if (!ok) {
            String expected = switch (w.kind()) {
                case LINK_LATENCY -> "finite and >= 0";
                case LINK_BANDWIDTH -> "within (0, 1]";
                default -> "within [0, 1]";
            };
            throw new IllegalArgumentException(where + ": " + w.kind().parameter().orElseThrow().name() + " must be "
                    + expected + ", got " + v);
        }
    }

    /** Whether no window acts on this link (then the link sends as it does without faults). */
    public boolean none() {
        return windows.isEmpty();
    }

    public List<FaultWindow> windows() {
        return windows;
    }

    public double timeoutSeconds() {
        return timeoutSeconds;
    }

    /**
     * Carries message {@code message} ({@code bytes}, ready at {@code readySeconds}) on {@code state} with {@code spec}:
     * sends its transmissions on the link and, if one gets through, counts the message ({@link LinkState#carried}).
     *
     * @param message the message's number on this link in the step (a pipeline link's sequence number, a ring link's
     *                stage and chunk index), which the coin flips use
     */
    public Carried carry(LinkState state, LinkSpec spec, long bytes, double readySeconds, long message) {
        List<Attempt> attempts = new ArrayList<>(1);
        double ready = readySeconds;
        double rto = retransmitSeconds;
        double deadline = Double.NaN;
        FaultWindow lastCause = null;
        for (int attempt = 0; ; attempt++) {
            double start = state.startFor(ready);
            if (attempt == 0) deadline = start + timeoutSeconds;
            else if (start >= deadline) return new GaveUp(attempts, lastCause.fault(), lastCause.kind(), deadline);
            LinkState.Transit t = state.transmit(spec, bytes, ready, bandwidthFactor(start), extraLatency(start));
            FaultWindow cause = dropCause(start, message, attempt);
            if (cause != null) {
                attempts.add(new Attempt(ready, t.start(), t.arrival(), TransferOutcome.DROPPED));
                lastCause = cause;
                ready = t.start() + rto;
                rto *= 2;
                continue;
            }
            attempts.add(new Attempt(ready, t.start(), t.arrival(), TransferOutcome.DELIVERED));
            state.carried();
            if (duplicated(start, message, attempt)) {
                // the copy joins the queue as the original leaves, and is judged by the windows at its own start
                double copyStart = state.startFor(t.start());
                LinkState.Transit c = state.transmit(spec, bytes, t.start(), bandwidthFactor(copyStart), extraLatency(copyStart));
                attempts.add(new Attempt(t.start(), c.start(), c.arrival(), TransferOutcome.DUPLICATE));
            }
            return new Through(attempts);
        }
    }

    /** The product of the factors of the {@code link.bandwidth} windows that cover {@code t} (1 when none does). */
    double bandwidthFactor(double t) {
        double f = 1;
        for (FaultWindow w : windows) if (w.kind() == FaultKind.LINK_BANDWIDTH && w.covers(t)) f *= w.value();
        return f;
    }

    /** The sum of the seconds of the {@code link.latency} windows that cover {@code t} (0 when none does). */
    double extraLatency(double t) {
        double s = 0;
        for (FaultWindow w : windows) if (w.kind() == FaultKind.LINK_LATENCY && w.covers(t)) s += w.value();
        return s;
    }

    /** The window that drops transmission {@code attempt} of {@code message} leaving at {@code t}, or null: a partition first. */
    private FaultWindow dropCause(double t, long message, int attempt) {
        for (FaultWindow w : windows) if (w.kind() == FaultKind.LINK_PARTITION && w.covers(t)) return w;
        for (FaultWindow w : windows) {
            if (w.kind() == FaultKind.LINK_LOSS && w.covers(t) && coin(w, message, attempt) < w.value()) return w;
        }
        return null;
    }

    private boolean duplicated(double t, long message, int attempt) {
        for (FaultWindow w : windows) {
            if (w.kind() == FaultKind.LINK_DUPLICATE && w.covers(t) && coin(w, message, attempt) < w.value()) return true;
        }
        return false;
    }

    /** The coin of window {@code w} for transmission {@code attempt} of {@code message}: uniform in [0, 1). */
    double coin(FaultWindow w, long message, int attempt) {
        return coin(w.seed(), w.fault(), w.kind(), step, linkHash, message, attempt);
    }

    /**
     * A pure coin flip, uniform in [0, 1): the top 53 bits of a SplitMix64 hash chain (Steele, Lea and Flood, "Fast
     * splittable pseudorandom number generators", OOPSLA 2014) over the flip's identity.
     */
    static double coin(long seed, int fault, FaultKind kind, int step, long linkHash, long message, int attempt) {
        long h = mix(seed);
        h = mix(h ^ fault);
        h = mix(h ^ hash(kind.key()));
        h = mix(h ^ step);
        h = mix(h ^ linkHash);
        h = mix(h ^ message);
        h = mix(h ^ attempt);
        return (h >>> 11) * 0x1.0p-53;
    }

    /** A 64-bit hash of a name, from its characters only (so the same on every JVM). */
    static long hash(String s) {
        long h = 0x9E3779B97F4A7C15L;
        for (int i = 0; i < s.length(); i++) h = mix(h ^ s.charAt(i));
        return h;
    }

    /** SplitMix64's step: add the golden gamma, then its finalizer (a bijection on 64 bits). */
    private static long mix(long z) {
        z += 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** A message's number on a ring link: its stage and chunk index. */
    public static long ringMessage(int stage, int index) {
        return ((long) stage << 32) | (index & 0xffffffffL);
    }
}
