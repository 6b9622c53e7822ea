package dev.pipelab.fault;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Faults handed to a running run from outside it (the dashboard's {@code POST /api/faults}): any thread may
 * {@link #add}; the run takes them when its next attempt starts. Invariant: each added fault is taken once, in the
 * order added.
 */
public final class FaultInbox {

    /** An inbox nobody writes to. */
    public static final FaultInbox NONE = new FaultInbox();

    private final ConcurrentLinkedQueue<Fault> queue = new ConcurrentLinkedQueue<>();

    public void add(Fault fault) {
        if (this == NONE) throw new IllegalStateException("this run takes no live faults");
        queue.add(fault);
    }

    /** The faults added since the last call, in order. */
    public List<Fault> take() {
        List<Fault> out = new ArrayList<>();
        for (Fault f; (f = queue.poll()) != null; ) out.add(f);
        return out;
    }
}
