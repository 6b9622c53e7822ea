package dev.pipelab.monitoring;

/**
 * Whole-run totals over the completed steps. Invariant: every field only counts completed steps, except
 * {@code outOfMemoryEvents}, which counts every one seen.
 *
 * @param completedSteps   steps with a {@code StepEnded}
 * @param runSeconds       the latest step end on the run's axis (0 before any step ended)
 * @param meanStepSeconds  mean step time (exactly the step time when all steps are equal)
 * @param lastStepSeconds  the latest completed step's time
 * @param samples          samples consumed (b·m·d per step)
 * @param tokens           {@code samples · seqLength}
 * @param busySeconds      compute seconds over every (replica, rank) and step
 * @param linkBytes        bytes over every link and step
 * @param stallSeconds     credit-stall seconds over every link and step
 */
public record RunTotals(int completedSteps, double runSeconds, double meanStepSeconds, double lastStepSeconds,
                        long samples, long tokens, double busySeconds, long linkBytes, double stallSeconds,
                        int outOfMemoryEvents) {
}
