package dev.pipelab.monitoring;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

/** An in-memory, thread-safe event sink that keeps every event. Invariant: {@link #events()} is a snapshot. */
public final class EventLog implements EventSink {

    private final ConcurrentLinkedQueue<Event> events = new ConcurrentLinkedQueue<>();

    @Override
    public void emit(Event event) {
        events.add(event);
    }

    public List<Event> events() {
        return List.copyOf(new ArrayList<>(events));
    }

    public int size() {
        return events.size();
    }
}
