package dev.pipelab.fault;

import dev.pipelab.protocol.CborSerializable;

/**
 * Where one fault acts inside one step, as the actor it acts on receives it: fault {@code fault} (its index in the
 * run's list) of kind {@code kind} is active from {@code fromSeconds} to {@code toSeconds} of the step's local time
 * (either may lie outside the step: before 0 it was already active when the step began, {@code +Infinity} it has not
 * healed). {@code value} and {@code seed} are the fault's. An instant kind happens at {@code fromSeconds}.
 */
public record FaultWindow(int fault, FaultKind kind, double fromSeconds, double toSeconds, double value, long seed)
        implements CborSerializable {

    /** Whether the fault acts at step-local time {@code t}: {@code from <= t < to}. */
    public boolean covers(double t) {
        return t >= fromSeconds && t < toSeconds;
    }
}
