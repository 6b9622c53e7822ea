package dev.pipelab.monitoring;

/**
 * The planned memory breakdown of one device that events do not carry. Invariant: every part is non-negative and
 * {@code totalBytes} is their sum.
 */
public record MemoryInfo(long parametersBytes, long gradientsBytes, long optimizerBytes, long activationsBytes,
                         long totalBytes) {

    public MemoryInfo {
        requireNonNegative("parametersBytes", parametersBytes);
        requireNonNegative("gradientsBytes", gradientsBytes);
        requireNonNegative("optimizerBytes", optimizerBytes);
        requireNonNegative("activationsBytes", activationsBytes);
        long sum = parametersBytes + gradientsBytes + optimizerBytes + activationsBytes;
        if (totalBytes != sum) {
            throw new IllegalArgumentException("totalBytes must be the sum of the parts (" + sum + "), got " + totalBytes);
        }
    }

    /** The breakdown with {@code totalBytes} computed. */
    public static MemoryInfo of(long parametersBytes, long gradientsBytes, long optimizerBytes, long activationsBytes) {
        return new MemoryInfo(parametersBytes, gradientsBytes, optimizerBytes, activationsBytes,
                parametersBytes + gradientsBytes + optimizerBytes + activationsBytes);
    }

    private static void requireNonNegative(String name, long value) {
        if (value < 0) throw new IllegalArgumentException(name + " must be >= 0, got " + value);
    }
}
