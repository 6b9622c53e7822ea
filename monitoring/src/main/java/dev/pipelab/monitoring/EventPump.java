package dev.pipelab.monitoring;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A sink that only appends (lock-free) and hands events, in emission order, to its consumers on one thread of its
 * own, in batches, every {@code periodMillis}. Invariant: after {@link #close()} every event
 * emitted before it has reached every consumer exactly once, and consumers are never called concurrently; a consumer
 * that throws does not stop the others ({@link #failure()}).
 *
 * <p>Why: emitters are actors running a pipeline; aggregation, metrics and the dashboard state would otherwise run on
 * the actors' threads, under locks, and slow the emulation. Here the actors pay one queue append per event. The thread
 * wakes on its period only, not at each step's end: on a two-core machine a wake-up per step (hundreds a second in
 * virtual time) took the cores from the emulation, while a view that is 200 ms late is still live to its reader.
 */
public final class EventPump implements EventSink, AutoCloseable {

    private final ConcurrentLinkedQueue<Event> queue = new ConcurrentLinkedQueue<>();
    private final List<EventSink> consumers;
    private final long periodNanos;
    private final Thread thread;
    private volatile boolean closed;
    /** CPU nanoseconds the consumers took: the pump thread's, plus the final drain's on the closing thread. */
    private volatile long consumerCpuNanos;
    /** The first exception a consumer threw, if any. */
    private volatile RuntimeException failure;

    public EventPump(List<? extends EventSink> consumers, long periodMillis) {
        if (periodMillis < 1) throw new IllegalArgumentException("periodMillis must be >= 1, got " + periodMillis);
        this.consumers = List.copyOf(consumers);
        this.periodNanos = TimeUnit.MILLISECONDS.toNanos(periodMillis);
        this.thread = new Thread(this::pump, "pipelab-event-pump");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    @Override
    public void emit(Event event) {
        queue.add(event);
    }

    private void pump() {
        List<Event> batch = new ArrayList<>();
        while (!closed) {
            LockSupport.parkNanos(this, periodNanos);
            drain(batch);
        }
        consumerCpuNanos = threadCpuNanos();
    }

    private static long threadCpuNanos() {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        return threads.isCurrentThreadCpuTimeSupported() ? threads.getCurrentThreadCpuTime() : 0;
    }

    /** CPU nanoseconds spent delivering events to the consumers (0 where the JVM cannot tell); final after {@link #close()}. */
    public long consumerCpuNanos() {
        return consumerCpuNanos;
    }

    private void drain(List<Event> batch) {
        Event e;
        while ((e = queue.poll()) != null) batch.add(e);
        for (Event event : batch) {
            for (EventSink consumer : consumers) {
                try {
                    consumer.emit(event);
                } catch (RuntimeException ex) {
                    // one consumer's bug must not take the events from the others (the log the report and the trace
                    // are written from): it is kept and said by whoever closes the pump
                    if (failure == null) failure = ex;
                }
            }
        }
        batch.clear();
    }

    /**
     * The first exception a consumer threw while taking an event (the event still reached the other consumers, and the
     * later events every consumer); final after {@link #close()}.
     */
    public Optional<RuntimeException> failure() {
        return Optional.ofNullable(failure);
    }

    /** Delivers what is left and stops the thread. Idempotent. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        LockSupport.unpark(thread);
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        long before = threadCpuNanos();
        drain(new ArrayList<>());
        consumerCpuNanos += threadCpuNanos() - before;
    }
}
