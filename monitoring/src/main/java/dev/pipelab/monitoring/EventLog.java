package dev.pipelab.monitoring;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * An in-memory, thread-safe event sink that keeps every event. Invariant: {@link #events()} is a snapshot in
 * emission order.
 *
 * <p>Events are kept in blocks of plain arrays, not in a linked queue: a run keeps about a million events per hundred
 * steps, and a node object per event doubled what the garbage collector had to trace.
 */
public final class EventLog implements EventSink {

    private static final int BLOCK = 8192;

    private final List<Event[]> full = new ArrayList<>();
    private Event[] block = new Event[BLOCK];
    private int used;
    private int size;

    @Override
    public synchronized void emit(Event event) {
        if (used == BLOCK) {
            full.add(block);
            block = new Event[BLOCK];
            used = 0;
        }
        block[used++] = event;
        size++;
    }

    public synchronized List<Event> events() {
        List<Event> out = new ArrayList<>(size);
        for (Event[] b : full) out.addAll(Arrays.asList(b));
        for (int i = 0; i < used; i++) out.add(block[i]);
        return List.copyOf(out);
    }

    /** Every span of the logged batches, in order (see {@link Events#details}). */
    public List<Event.Detail> details() {
        return Events.details(events());
    }

    public synchronized int size() {
        return size;
    }
}
