package dev.pipelab.clock;

import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * Wall time scaled by {@code speed} emulated seconds per wall second. Invariant: {@code now} is monotonic within a
 * JVM. Epochs are nanoseconds since 1970, read as this JVM's start-up wall time plus its monotonic clock, so that an
 * epoch chosen on the coordinator means the same instant on every node, up to the nodes' wall-clock skew.
 */
public final class WallClock implements Clock {

    private static final long ANCHOR_WALL_NANOS = System.currentTimeMillis() * 1_000_000L;
    private static final long ANCHOR_MONOTONIC_NANOS = System.nanoTime();

    private final double speed;
    private final LongSupplier nanos;

    public WallClock(double speed) {
        this(speed, () -> ANCHOR_WALL_NANOS + (System.nanoTime() - ANCHOR_MONOTONIC_NANOS));
    }

    /** With an explicit nanosecond source (tests). */
    public WallClock(double speed, LongSupplier nanos) {
        if (!(speed > 0) || Double.isInfinite(speed)) throw new IllegalArgumentException("speed must be finite and > 0, got " + speed);
        this.speed = speed;
        this.nanos = nanos;
    }

    public double speed() { return speed; }

    @Override public boolean isVirtual() { return false; }

    @Override public long epoch() { return nanos.getAsLong(); }

    @Override
    public double now(long epoch) {
        return (nanos.getAsLong() - epoch) / 1e9 * speed;
    }

    @Override
    public Duration until(long epoch, double seconds) {
        long at = epoch + (long) Math.ceil(seconds / speed * 1e9);
        return Duration.ofNanos(Math.max(0L, at - nanos.getAsLong()));
    }

    @Override public String toString() { return "wall x" + speed; }
}
