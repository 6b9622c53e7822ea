package dev.pipelab.pipeline;

import dev.pipelab.monitoring.Event;
import dev.pipelab.monitoring.EventLog;
import dev.pipelab.monitoring.LinkRecord;
import dev.pipelab.monitoring.StageRecord;

import java.util.ArrayList;
import java.util.List;

/** The records a run's trainer emitted, ended and abandoned steps alike, in the order of the stream. */
public final class Records {

    private Records() {}

    public static List<StageRecord> stages(EventLog log) {
        List<StageRecord> out = new ArrayList<>();
        for (Event e : log.events()) {
            if (e instanceof Event.StepEnded s) out.addAll(s.stages());
            if (e instanceof Event.StepAbandoned a) out.addAll(a.stages());
        }
        return out;
    }

    public static List<LinkRecord> links(EventLog log) {
        List<LinkRecord> out = new ArrayList<>();
        for (Event e : log.events()) {
            if (e instanceof Event.StepEnded s) out.addAll(s.links());
            if (e instanceof Event.StepAbandoned a) out.addAll(a.links());
        }
        return out;
    }
}
