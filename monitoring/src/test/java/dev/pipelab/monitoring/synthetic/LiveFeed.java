package dev.pipelab.monitoring.synthetic;

import dev.pipelab.monitoring.Event;
import dev.pipelab.monitoring.EventSink;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A background thread that plays a {@link SyntheticRun} into sinks as a wall-clock run would: each step's events
 * spread over {@code stepMillis}. Invariant: it emits whole steps in order until {@link #close()} or {@code maxSteps}.
 */
public final class LiveFeed implements AutoCloseable {

    private final Thread thread;
    private final AtomicInteger stepsDone = new AtomicInteger();
    private volatile boolean running = true;

    public LiveFeed(SyntheticRun run, long stepMillis, int maxSteps, EventSink... sinks) {
        thread = new Thread(() -> {
            try {
                for (int k = 0; k < maxSteps && running; k++) {
                    List<Event> events = run.nextStep();
                    int chunks = 10;
                    for (int c = 0; c < chunks && running; c++) {
                        for (int i = c * events.size() / chunks; i < (c + 1) * events.size() / chunks; i++) {
                            for (EventSink s : sinks) s.emit(events.get(i));
                        }
                        Thread.sleep(Math.max(1, stepMillis / chunks));
                    }
                    stepsDone.incrementAndGet();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "synthetic-feed");
        thread.setDaemon(true);
        thread.start();
    }

    public int stepsDone() {
        return stepsDone.get();
    }

    public void join() throws InterruptedException {
        thread.join();
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.interrupt();
        thread.join(5000);
    }
}
