package dev.pipelab.monitoring.synthetic;

import dev.pipelab.monitoring.Event;
import dev.pipelab.monitoring.Events;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Other cuts of the same stream into batches, for tests that a consumer does not depend on how a step is cut. */
public final class Cuts {

    private Cuts() {}

    /** The same spans with each step's spans of one rank (of one link) in one batch, in the order they came. */
    public static List<Event> onePerRank(List<Event> events) {
        List<Event> out = new ArrayList<>();
        Map<List<Integer>, List<Event.Detail>> groups = new LinkedHashMap<>();
        for (Event e : events) {
            if (e instanceof Event.Batch b) {
                for (Event.Detail x : b.details()) groups.computeIfAbsent(key(x), k -> new ArrayList<>()).add(x);
                continue;
            }
            for (List<Event.Detail> g : groups.values()) out.addAll(Events.batched(g));
            groups.clear();
            out.add(e);
        }
        for (List<Event.Detail> g : groups.values()) out.addAll(Events.batched(g));
        return out;
    }

    /** The same spans, each in a batch of its own. */
    public static List<Event> onePerSpan(List<Event> events) {
        List<Event> out = new ArrayList<>();
        for (Event e : events) {
            if (e instanceof Event.Batch b) {
                for (Event.Detail x : b.details()) out.addAll(Events.batched(List.of(x)));
            } else {
                out.add(e);
            }
        }
        return out;
    }

    private static List<Integer> key(Event.Detail x) {
        if (x instanceof Event.TransferSpan t) return List.of(1, t.step(), t.replica(), t.fromRank(), t.toRank());
        if (x instanceof Event.ActionSpan a) return List.of(0, a.step(), a.replica(), a.rank());
        if (x instanceof Event.MemoryChanged m) return List.of(0, m.step(), m.replica(), m.rank());
        if (x instanceof Event.CreditStall c) return List.of(0, c.step(), c.replica(), c.fromRank());
        Event.AllReduceSpan a = (Event.AllReduceSpan) x;
        return List.of(0, a.step(), a.replica(), a.rank());
    }
}
