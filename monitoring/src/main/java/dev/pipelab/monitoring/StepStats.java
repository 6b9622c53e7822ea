package dev.pipelab.monitoring;

/**
 * The headline numbers of one completed step. Invariant: rates are per second of this step's time, and
 * {@code bubbleFraction = (p·d·stepSeconds - busySeconds) / (p·d·stepSeconds)}, computed as one division.
 *
 * @param runSeconds       when the step ended on the run's axis
 * @param busySeconds      compute seconds summed over every (replica, rank)
 * @param committedOffset  the data loader's committed offset after the step (exclusive)
 */
public record StepStats(int step, double stepSeconds, double runSeconds, long committedOffset, double samplesPerSecond,
                        double tokensPerSecond, double mfu, double hfu, double busySeconds, double bubbleFraction) {
}
