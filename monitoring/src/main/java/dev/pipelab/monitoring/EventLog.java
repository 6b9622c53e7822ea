package dev.pipelab.monitoring;

import java.util.ArrayList;
import java.util.List;

/**
 * An in-memory, thread-safe event sink that keeps every event. Invariant: {@link #events()} is a snapshot in
 * emission order. A step is a handful of events (its records travel inside its {@link Event.StepEnded}), so a plain
 * list is enough.
 */
public final class EventLog implements EventSink {

    private final List<Event> events = new ArrayList<>();

    @Override
    public synchronized void emit(Event event) {
        events.add(event);
    }

    public synchronized List<Event> events() {
        return List.copyOf(events);
    }

    public synchronized int size() {
        return events.size();
    }
}
