package dev.pipelab.monitoring;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;

/** Between batched events and single spans. */
public final class Events {

    private Events() {}

    /** Every span of {@code events}' batches, batch by batch in stream order (see {@link Event.Batch#details()}). */
    public static List<Event.Detail> details(Collection<? extends Event> events) {
        List<Event.Detail> out = new ArrayList<>();
        for (Event e : events) if (e instanceof Event.Batch b) out.addAll(b.details());
        return out;
    }

    /**
     * {@code events} with each batch replaced by its spans in place: {@link Event}s and {@link Event.Detail}s, mixed,
     * in stream order. For consumers that read a finished run span by span (trace, report, text Gantt).
     */
    public static List<Object> expanded(Collection<? extends Event> events) {
        List<Object> out = new ArrayList<>();
        for (Event e : events) {
            if (e instanceof Event.Batch b) out.addAll(b.details());
            else out.add(e);
        }
        return out;
    }

    /**
     * A stream of events and single spans as consumers receive it: each run of consecutive spans of the same rank
     * (actions, memory changes, credit waits and all-reduces of {@code (step, replica, rank)}) becomes one
     * {@link RankActivity}, each run of consecutive transfers of the same link and step one {@link LinkActivity}, and
     * every {@link Event} stays where it was. Why: synthetic streams are easiest written span by span; grouping only
     * consecutive spans keeps every order the stream states (a span after a {@code StepEnded} stays after it).
     *
     * @param stream {@link Event}s and {@link Event.Detail}s, mixed
     */
    public static List<Event> batched(List<?> stream) {
        List<Event> out = new ArrayList<>();
        RankActivity.Recorder rank = null;
        long[] rankKey = null;
        LinkActivity.Recorder link = null;
        long[] linkKey = null;
        for (Object o : stream) {
            Objects.requireNonNull(o, "stream element");
            long[] key = rankKeyOf(o);
            if (key == null && o instanceof Event.TransferSpan t) {
                key = new long[] {t.step(), t.replica(), t.fromRank(), t.toRank()};
                if (link != null && !java.util.Arrays.equals(key, linkKey)) {
                    out.add(link.take((int) linkKey[0]));
                    link = null;
                }
                if (rank != null) {
                    out.add(rank.take((int) rankKey[0]));
                    rank = null;
                }
                if (link == null) {
                    link = new LinkActivity.Recorder(t.replica(), t.fromRank(), t.toRank());
                    linkKey = key;
                }
                link.transfer(t.kind(), t.stage(), t.microBatch(), t.bytes(), t.readySeconds(), t.startSeconds(), t.endSeconds());
                continue;
            }
            if (link != null) {
                out.add(link.take((int) linkKey[0]));
                link = null;
            }
            if (key == null) {
                if (rank != null) {
                    out.add(rank.take((int) rankKey[0]));
                    rank = null;
                }
                if (!(o instanceof Event e)) throw new IllegalArgumentException("not an event or a span: " + o);
                out.add(e);
                continue;
            }
            if (rank != null && !java.util.Arrays.equals(key, rankKey)) {
                out.add(rank.take((int) rankKey[0]));
                rank = null;
            }
            if (rank == null) {
                rank = new RankActivity.Recorder((int) key[1], (int) key[2]);
                rankKey = key;
            }
            if (o instanceof Event.ActionSpan a) {
                rank.action(a.phase(), a.stage(), a.microBatch(), a.startSeconds(), a.endSeconds(), a.durationSeconds());
            } else if (o instanceof Event.MemoryChanged m) {
                rank.memory(m.atSeconds(), m.bytes());
            } else if (o instanceof Event.CreditStall c) {
                rank.stall(c.toRank(), c.startSeconds(), c.endSeconds());
            } else if (o instanceof Event.AllReduceSpan a) {
                rank.allReduce(a.stage(), a.bytes(), a.startSeconds(), a.endSeconds());
            }
        }
        if (rank != null) out.add(rank.take((int) rankKey[0]));
        if (link != null) out.add(link.take((int) linkKey[0]));
        return out;
    }

    private static long[] rankKeyOf(Object o) {
        if (o instanceof Event.ActionSpan a) return new long[] {a.step(), a.replica(), a.rank()};
        if (o instanceof Event.MemoryChanged m) return new long[] {m.step(), m.replica(), m.rank()};
        if (o instanceof Event.CreditStall c) return new long[] {c.step(), c.replica(), c.fromRank()};
        if (o instanceof Event.AllReduceSpan a) return new long[] {a.step(), a.replica(), a.rank()};
        return null;
    }
}
