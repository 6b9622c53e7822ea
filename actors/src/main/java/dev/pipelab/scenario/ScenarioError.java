package dev.pipelab.scenario;

import java.util.Objects;

/**
 * One problem in a scenario, located: {@code line} and {@code column} are 1-based positions in {@code source}
 * of the offending value (or of its nearest written parent), or both 0 when no position is known.
 *
 * <p>{@link #toString()} is the line a user sees: {@code llama.yaml:4:13: parallelism.pipeline: must be >= 1, got 0}.
 *
 * @param source  the file as the user named it, e.g. {@code scenarios/llama.yaml}
 * @param line    1-based line, 0 when unknown
 * @param column  1-based column, 0 when unknown
 * @param path    the key path with dots and {@code [i]} for list items ({@code costs.forwardSeconds[2]}),
 *                {@code (root)} for the whole file, or {@code --set TEXT} for a malformed override
 * @param message what was expected and what came, e.g. {@code must be >= 1, got 0}
 */
public record ScenarioError(String source, int line, int column, String path, String message) {

    /** The path of the whole file. */
    public static final String ROOT = "(root)";

    public ScenarioError {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(message, "message");
        if (line < 0 || column < 0) {
            throw new IllegalArgumentException("line and column must be >= 0, got " + line + ":" + column);
        }
        if (path.isEmpty()) {
            path = ROOT;
        }
    }

    /** Whether the error carries a position in the file. */
    public boolean located() {
        return line > 0;
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder(source);
        if (line > 0) {
            s.append(':').append(line);
            if (column > 0) {
                s.append(':').append(column);
            }
        }
        return s.append(": ").append(path).append(": ").append(message).toString();
    }
}
