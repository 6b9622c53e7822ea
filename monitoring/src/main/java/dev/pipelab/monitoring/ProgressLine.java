package dev.pipelab.monitoring;

import java.util.Locale;

/**
 * The one-line terminal progress after each step. Invariant: the line is a function of the step's summary and the
 * wall time elapsed, so the same run prints the same lines apart from the ETA; steps are numbered from 0, so after
 * step k the line shows k+1 done.
 *
 * <p>{@code step  3/20  step 1.234 s  util 72.7%  1,234 samples/s  ETA 4.1 s}: util is {@code 1 - bubble} of the
 * step; the ETA assumes the remaining steps take the mean wall time of those done.
 *
 * <p>With faults a step of the events is an attempt, and replays after a recovery make more attempts than the run has
 * training steps: past {@code totalSteps} the line counts attempts ({@code attempt 21 (20 steps and replays)}) and
 * gives no ETA.
 */
public final class ProgressLine {

    private ProgressLine() {}

    /**
     * The line for the step {@code summary} describes.
     *
     * @param totalSteps          the training steps the run will do, {@code >= 1}
     * @param wallElapsedSeconds  wall seconds since the run started
     */
    public static String of(StepSummary summary, int totalSteps, double wallElapsedSeconds) {
        return of(summary, summary.stats().step() + 1, totalSteps, wallElapsedSeconds);
    }

    /**
     * The line for the step {@code summary} describes, after which {@code done} training steps are committed: with
     * faults a step can be an attempt that replays a training step, and the line says so ({@code (attempt 7)}).
     */
    public static String of(StepSummary summary, int done, int totalSteps, double wallElapsedSeconds) {
        StepStats s = summary.stats();
        String attempt = s.step() + 1 != done ? " (attempt " + (s.step() + 1) + ")" : "";
        if (totalSteps < 1) throw new IllegalArgumentException("totalSteps must be >= 1, got " + totalSteps);
        if (!(wallElapsedSeconds >= 0)) {
            throw new IllegalArgumentException("wallElapsedSeconds must be >= 0, got " + wallElapsedSeconds);
        }
        if (done > totalSteps) {
            // a caller that counts attempts (the events do), which replays after a fault make outnumber training steps
            return String.format(Locale.ROOT, "attempt %d (%d steps and replays)  step %s  util %s  %s samples/s", done,
                    totalSteps, Units.seconds(s.stepSeconds()), Units.percent(1 - s.bubbleFraction()),
                    Units.count(s.samplesPerSecond()));
        }
        int width = Integer.toString(totalSteps).length();
        double eta = wallElapsedSeconds / done * (totalSteps - done);
        return String.format(Locale.ROOT, "step %" + width + "d/%d%s  step %s  util %s  %s samples/s  ETA %s",
                done, totalSteps, attempt, Units.seconds(s.stepSeconds()), Units.percent(1 - s.bubbleFraction()),
                Units.count(s.samplesPerSecond()), Units.duration(eta));
    }
}
