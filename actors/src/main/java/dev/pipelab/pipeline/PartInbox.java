package dev.pipelab.pipeline;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The parts of records that crossed nodes in pieces ({@code RecordParts}), by sender, pure. Invariant: the parts of
 * one record come from one sender to one receiver in order (Pekko keeps each sender-receiver pair's order, and a
 * remote message that is dropped is never delivered later), so when the last part arrives every other part of that
 * record has arrived or never will: {@link #last} says at once which record is whole and which lost parts.
 *
 * @param <K> who sent the record (a rank, a link)
 * @param <R> the record type
 */
final class PartInbox<K, R> {

    /** The parts of one record that arrived, in order, and how many never did. */
    record Arrived<R>(List<R> parts, int lost) {
        Arrived {
            parts = List.copyOf(parts);
        }
    }

    private final Map<K, List<R>> pending = new LinkedHashMap<>();

    /** A part that is not its record's last. */
    void part(K sender, R part) {
        pending.computeIfAbsent(sender, k -> new ArrayList<>()).add(part);
    }

    /** The last part of {@code sender}'s record, which had {@code parts} parts: every part that arrived, in order. */
    Arrived<R> last(K sender, R part, int parts) {
        List<R> all = pending.getOrDefault(sender, new ArrayList<>());
        pending.remove(sender);
        all.add(part);
        return new Arrived<>(all, Math.max(0, parts - all.size()));
    }

    /** The parts of records whose last part has not come (it may never), by sender; forgets them. */
    Map<K, List<R>> drain() {
        Map<K, List<R>> left = new LinkedHashMap<>(pending);
        pending.clear();
        return left;
    }

    /** Forgets every part (a new step). */
    void clear() {
        pending.clear();
    }
}
