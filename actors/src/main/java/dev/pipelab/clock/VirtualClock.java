package dev.pipelab.clock;

import java.time.Duration;

/** Virtual time: an action "runs" instantly in wall time; the run is deterministic and as fast as messages flow. */
public final class VirtualClock implements Clock {

    public static final VirtualClock INSTANCE = new VirtualClock();

    private VirtualClock() {}

    @Override public boolean isVirtual() { return true; }

    @Override public long epoch() { return 0L; }

    @Override public double now(long epoch) { return Double.NEGATIVE_INFINITY; }

    @Override public Duration until(long epoch, double seconds) { return Duration.ZERO; }

    @Override public String toString() { return "virtual"; }
}
