package dev.pipelab.model;

/**
 * A point-to-point link, per direction. A transfer of n bytes that starts at t arrives at
 * {@code t + latencySeconds + n / bandwidthBytesPerSecond}; the link is busy for {@code n / bandwidth}.
 * Invariant: bandwidth positive (use {@link #FREE} for an ideal link), latency non-negative.
 */
public record LinkSpec(String name, double bandwidthBytesPerSecond, double latencySeconds) {

    /** An ideal link: infinite bandwidth, zero latency. Transfers take no time. */
    public static final LinkSpec FREE = new LinkSpec("free", Double.POSITIVE_INFINITY, 0.0);

    public LinkSpec {
        if (!(bandwidthBytesPerSecond > 0)) {
            throw new IllegalArgumentException("bandwidthBytesPerSecond must be > 0, got " + bandwidthBytesPerSecond);
        }
        if (!(latencySeconds >= 0)) throw new IllegalArgumentException("latencySeconds must be >= 0, got " + latencySeconds);
    }

    /** Seconds the link is occupied by {@code bytes}: {@code bytes / bandwidth} (0 on a free link). */
    public double occupancySeconds(long bytes) {
        return bytes / bandwidthBytesPerSecond;
    }
}
