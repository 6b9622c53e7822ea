package dev.pipelab.monitoring;

import java.util.Objects;

/**
 * When a run started and how long it took on the wall. Invariant: these are the only report fields that differ
 * between two identical virtual-time runs, so they live in this one object and nowhere else.
 *
 * @param startedAt   an ISO-8601 instant as the caller formats it (e.g. {@code Instant.toString()})
 * @param wallSeconds wall-clock seconds the run took, {@code >= 0}
 */
public record WallClock(String startedAt, double wallSeconds) {

    public WallClock {
        Objects.requireNonNull(startedAt, "startedAt");
        if (!(wallSeconds >= 0) || Double.isInfinite(wallSeconds)) {
            throw new IllegalArgumentException("wallSeconds must be a finite number >= 0, got " + wallSeconds);
        }
    }
}
