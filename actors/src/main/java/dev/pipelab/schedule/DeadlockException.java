package dev.pipelab.schedule;

import java.util.List;

/**
 * A schedule (with its buffers) that cannot make progress: no rank has a runnable action and nothing is in
 * flight. Invariant: {@link #stuckActions()} names, per rank that still has work, its next action and what
 * it waits for.
 */
public final class DeadlockException extends RuntimeException {

    private final List<String> stuckActions;

    public DeadlockException(List<String> stuckActions) {
        super("deadlock: no action can start and nothing is in flight\n  " + String.join("\n  ", stuckActions));
        this.stuckActions = List.copyOf(stuckActions);
    }

    public List<String> stuckActions() {
        return stuckActions;
    }
}
