package dev.pipelab.monitoring.synthetic;

import dev.pipelab.monitoring.Event;
import dev.pipelab.monitoring.LinkRecord;
import dev.pipelab.monitoring.StageRecord;

import java.util.ArrayList;
import java.util.List;

/** What a stream of events recorded, for tests: the records of its completed and abandoned steps, in stream order. */
public final class Recorded {

    private Recorded() {}

    /** Every stage record of every {@code StepEnded} and {@code StepAbandoned}. */
    public static List<StageRecord> stages(List<Event> events) {
        List<StageRecord> out = new ArrayList<>();
        for (Event e : events) {
            if (e instanceof Event.StepEnded s) out.addAll(s.stages());
            if (e instanceof Event.StepAbandoned a) out.addAll(a.stages());
        }
        return out;
    }

    /** Every link record of every {@code StepEnded} and {@code StepAbandoned}. */
    public static List<LinkRecord> links(List<Event> events) {
        List<LinkRecord> out = new ArrayList<>();
        for (Event e : events) {
            if (e instanceof Event.StepEnded s) out.addAll(s.links());
            if (e instanceof Event.StepAbandoned a) out.addAll(a.links());
        }
        return out;
    }

    /** The record of (replica, rank) in {@code step}; fails when there is none. */
    public static StageRecord stage(List<Event> events, int step, int replica, int rank) {
        for (StageRecord s : stages(events)) {
            if (s.step() == step && s.replica() == replica && s.rank() == rank) return s;
        }
        throw new AssertionError("no record of step " + step + " replica " + replica + " rank " + rank);
    }
}
