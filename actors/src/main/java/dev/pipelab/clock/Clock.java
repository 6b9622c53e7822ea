package dev.pipelab.clock;

import java.time.Duration;

/**
 * The one source of time of the runtime: no actor reads {@code System.nanoTime} or {@code currentTimeMillis}
 * itself. Invariant: emulated time is measured in seconds since the start of the step (its <em>epoch</em>), so
 * every start time comes from message contents on both clocks. The wall clock only paces: actions and deliveries
 * happen at the wall time of their exact emulated time ({@link #until}), and a late timer delays the wall clock, not
 * the emulated timeline. {@link #now} tells where the present is (for measuring), never a start time.
 */
public sealed interface Clock permits VirtualClock, WallClock {

    /** Whether actions complete instantly in wall time (no timers). */
    boolean isVirtual();

    /** A new step's epoch (wall nanoseconds since 1970; 0 for the virtual clock). */
    long epoch();

    /** Emulated seconds since {@code epoch}; {@code -Infinity} on the virtual clock, so it never enters a max(). */
    double now(long epoch);

    /** Wall delay from the present until emulated second {@code seconds} of the step that began at {@code epoch}. */
    Duration until(long epoch, double seconds);

    static Clock of(ClockMode mode, double speed) {
        return mode == ClockMode.VIRTUAL ? VirtualClock.INSTANCE : new WallClock(speed);
    }
}
