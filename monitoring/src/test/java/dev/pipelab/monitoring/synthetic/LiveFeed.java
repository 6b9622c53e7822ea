package dev.pipelab.monitoring.synthetic;

import dev.pipelab.monitoring.Event;
import dev.pipelab.monitoring.RunTelemetry;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A background thread that plays a {@link SyntheticRun} into a run's telemetry as a wall-clock run would: a step
 * starts, takes {@code stepMillis}, and ends with its records. Invariant: it emits whole steps in order until
 * {@link #close()} or {@code maxSteps}, and the listeners hear each step's summary as it ends.
 */
public final class LiveFeed implements AutoCloseable {

    private final Thread thread;
    private final AtomicInteger stepsDone = new AtomicInteger();
    private volatile boolean running = true;

    public LiveFeed(SyntheticRun run, long stepMillis, int maxSteps, RunTelemetry.Listener... listeners) {
        RunTelemetry telemetry = new RunTelemetry(run.info());
        for (RunTelemetry.Listener l : listeners) telemetry.addListener(l);
        thread = new Thread(() -> {
            try {
                for (int k = 0; k < maxSteps && running; k++) {
                    List<Event> events = run.nextStep();
                    telemetry.emit(events.get(0));
                    Thread.sleep(Math.max(1, stepMillis));
                    if (!running) break;
                    telemetry.emit(events.get(1));
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
