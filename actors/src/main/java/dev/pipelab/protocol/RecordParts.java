package dev.pipelab.protocol;

import dev.pipelab.monitoring.LinkRecord;
import dev.pipelab.monitoring.StageRecord;

import java.util.ArrayList;
import java.util.List;

/**
 * How a stage's or a link's record of a step crosses nodes within Artery's frame: split into parts of at most
 * {@link #spansPerPart} spans, each part a whole record (the same sums) holding a contiguous slice of the spans, and
 * joined back by concatenating the slices in order. Invariant: {@code join(split(r, n)).equals(r)} for every record
 * and every {@code n >= 1}; a record with at most {@code n} spans is one part, itself (a link's transfer that a fault
 * dropped or duplicated counts as two spans, {@link #weight}).
 *
 * <p>Why parts carry the sums: they are small (bounded by the ranks and model stages, not by the micro-batches), and a
 * receiver that misses a part still has exact sums, so a lost part costs spans, never numbers. Why a count of spans and
 * not a measured size: every span has a bounded CBOR size ({@link #SPAN_BYTES_BOUND}, checked over worst-case values by
 * {@code RecordPartsTest}), so a part's size is bounded without serializing it twice (docs/telemetry.md).
 */
public final class RecordParts {

    /**
     * The most bytes one span (a stage's action, memory change, credit stall or out-of-memory moment, or a link's
     * transfer) takes in a record's CBOR form, field names included: the largest measured is a link transfer at 120.
     */
    public static final int SPAN_BYTES_BOUND = 128;

    /**
     * Bytes of a part kept for everything but its spans: the sums (a few hundred bytes up to ranks and model stages in
     * the hundreds), the message around it (a stage's {@code Done} carries its {@code StageReport}, 18 bytes per action)
     * and Artery's envelope.
     */
    public static final int HEAD_BYTES = 16 * 1024;

    /** The config key of Artery's ordinary frame size, which a part must fit. */
    public static final String FRAME_SIZE_KEY = "pekko.remote.artery.advanced.maximum-frame-size";

    private RecordParts() {}

    /**
     * Spans per part so that a part takes at most a quarter of the frame: {@code (frame / 4 - HEAD_BYTES) /
     * SPAN_BYTES_BOUND}, 384 for Artery's default 256 KiB. A quarter leaves room for a message that carries a part next
     * to other data (a stage's {@code Done} carries its report too).
     *
     * @param frameBytes {@code pekko.remote.artery.advanced.maximum-frame-size}
     */
    public static int spansPerPart(long frameBytes) {
        long n = (frameBytes / 4 - HEAD_BYTES) / SPAN_BYTES_BOUND;
        if (n < 1) throw new IllegalArgumentException("maximum-frame-size of " + frameBytes + " bytes leaves no room for a span; "
                + "it must be at least " + 4 * (HEAD_BYTES + SPAN_BYTES_BOUND) + " bytes");
        return (int) Math.min(n, Integer.MAX_VALUE);
    }

    /** A stage record's spans: its actions, memory changes, credit stalls and out-of-memory moments. */
    public static int spans(StageRecord r) {
        return r.actions().size() + r.memory().size() + r.stalls().size() + r.outOfMemory().size();
    }

    /** The record as parts of at most {@code spansPerPart} spans, in order (actions, memory, stalls, out-of-memory). */
    public static List<StageRecord> split(StageRecord r, int spansPerPart) {
        int total = spans(r);
        if (total <= spansPerPart) return List.of(r);
        List<StageRecord> parts = new ArrayList<>();
        for (int from = 0; from < total; from += spansPerPart) {
            int to = Math.min(total, from + spansPerPart);
            int a = r.actions().size();
            int m = a + r.memory().size();
            int s = m + r.stalls().size();
            parts.add(new StageRecord(r.step(), r.replica(), r.rank(), r.busySecondsByPhase(), r.busySeconds(),
                    r.liveMemoryBytes(), r.peakMemoryBytes(), r.peakInFlight(), r.stallSecondsByRank(), r.allReduces(),
                    slice(r.outOfMemory(), from - s, to - s), slice(r.actions(), from, to), slice(r.memory(), from - a, to - a),
                    slice(r.stalls(), from - m, to - m)));
        }
        return parts;
    }

    /**
     * A transfer's weight in a part's budget of spans: 1, or 2 for one that was not delivered (a fault dropped or
     * duplicated it), whose outcome is written out and makes it larger than {@link #SPAN_BYTES_BOUND}, though within
     * twice that ({@code RecordSizeTest}). Without faults every weight is 1, so records split exactly as before.
     */
    public static int weight(LinkRecord.Transfer t) {
        return t.delivered() ? 1 : 2;
    }

    /**
     * The record as parts of transfers weighing at most {@code spansPerPart} ({@link #weight}; a part holds at least one
     * transfer), in carrying order.
     */
    public static List<LinkRecord> split(LinkRecord r, int spansPerPart) {
        List<LinkRecord.Transfer> all = r.transfers();
        int total = 0;
        for (LinkRecord.Transfer t : all) total += weight(t);
        if (total <= spansPerPart) return List.of(r);
        List<LinkRecord> parts = new ArrayList<>();
        for (int from = 0; from < all.size(); ) {
            int to = from + 1;
            int w = weight(all.get(from));
            while (to < all.size() && w + weight(all.get(to)) <= spansPerPart) w += weight(all.get(to++));
            parts.add(new LinkRecord(r.step(), r.replica(), r.toReplica(), r.fromRank(), r.toRank(), r.ring(), r.bytes(),
                    r.busySeconds(), r.messages(), r.maxQueueDepth(), r.dropped(), r.duplicates(), all.subList(from, to)));
            from = to;
        }
        return parts;
    }

    /** The record whose parts these are (all of them, or those that arrived), in the order they were split. */
    public static StageRecord joinStage(List<StageRecord> parts) {
        if (parts.size() == 1) return parts.get(0);
        StageRecord head = parts.get(0);
        List<StageRecord.Action> actions = new ArrayList<>();
        List<StageRecord.MemoryChange> memory = new ArrayList<>();
        List<StageRecord.CreditStall> stalls = new ArrayList<>();
        List<StageRecord.OutOfMemory> outOfMemory = new ArrayList<>();
        for (StageRecord p : parts) {
            actions.addAll(p.actions());
            memory.addAll(p.memory());
            stalls.addAll(p.stalls());
            outOfMemory.addAll(p.outOfMemory());
        }
        return new StageRecord(head.step(), head.replica(), head.rank(), head.busySecondsByPhase(), head.busySeconds(),
                head.liveMemoryBytes(), head.peakMemoryBytes(), head.peakInFlight(), head.stallSecondsByRank(), head.allReduces(),
                outOfMemory, actions, memory, stalls);
    }

    /** The record whose parts these are (all of them, or those that arrived), in the order they were split. */
    public static LinkRecord joinLink(List<LinkRecord> parts) {
        if (parts.size() == 1) return parts.get(0);
        LinkRecord head = parts.get(0);
        List<LinkRecord.Transfer> transfers = new ArrayList<>();
        for (LinkRecord p : parts) transfers.addAll(p.transfers());
        return new LinkRecord(head.step(), head.replica(), head.toReplica(), head.fromRank(), head.toRank(), head.ring(),
                head.bytes(), head.busySeconds(), head.messages(), head.maxQueueDepth(), head.dropped(), head.duplicates(), transfers);
    }

    /** The elements of {@code list} at positions {@code from..to} (clamped to the list). */
    private static <T> List<T> slice(List<T> list, int from, int to) {
        int f = Math.max(0, from);
        int t = Math.min(list.size(), to);
        return f >= t ? List.of() : list.subList(f, t);
    }
}
