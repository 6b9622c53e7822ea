package dev.pipelab.schedule;

import java.util.Optional;

/**
 * {@code index} is the position of {@code action} in rank {@code rank}'s list, or {@link #ABSENT} when the
 * problem is an action that no rank runs (a missing F, B or W), in which case {@code rank} is the rank that
 * should run it: one thing wrong with a schedule, tied to a cell of its grid.
 *
 * @param rank    the rank whose row holds (or should hold) the action
 * @param index   position in that rank's list, or {@link #ABSENT}
 * @param action  the offending (or missing) action
 * @param message what is wrong, saying what was expected
 */
public record ScheduleProblem(int rank, int index, Action action, String message) {

    /** Index of a problem about an action that is not in the schedule at all. */
    public static final int ABSENT = -1;

    public ScheduleProblem {
        if (rank < 0) throw new IllegalArgumentException("rank must be >= 0, got " + rank);
        if (index < ABSENT) throw new IllegalArgumentException("index must be >= 0 or ABSENT, got " + index);
        if (action == null) throw new IllegalArgumentException("action must be given");
        if (message == null || message.isBlank()) throw new IllegalArgumentException("message must be given");
    }

    /** The marked cell's position, when the action is in the schedule. */
    public Optional<Integer> cell() {
        return index == ABSENT ? Optional.empty() : Optional.of(index);
    }

    /** One line: {@code rank 2 #7 2B3: runs before its forward 2F3 (#9)}; {@code #-} for an absent action. */
    @Override
    public String toString() {
        return "rank " + rank + " #" + (index == ABSENT ? "-" : Integer.toString(index)) + " " + action + ": " + message;
    }
}
