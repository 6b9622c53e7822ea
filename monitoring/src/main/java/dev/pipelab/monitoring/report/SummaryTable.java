package dev.pipelab.monitoring.report;

import dev.pipelab.monitoring.Phase;
import dev.pipelab.monitoring.RunInfo;
import dev.pipelab.monitoring.Units;

import java.util.Locale;

/**
 * The end-of-run summary printed to the terminal. Invariant: it shows only numbers of the {@link RunReport}
 * (one row per rank, aggregated over replicas as the report does), so the terminal and {@code report.json} never
 * disagree.
 */
public final class SummaryTable {

    private SummaryTable() {}

    public static String render(RunReport report) {
        RunInfo info = report.info();
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "%s  %s  p=%d d=%d t=%d v=%d  b=%d m=%d  %d step%s  %s clock%n",
                report.name(), report.schedule(), info.pipeline(), info.data(), info.tensor(), info.virtualStages(),
                info.microBatchSize(), info.microBatches(), report.completedSteps(),
                report.completedSteps() == 1 ? "" : "s", report.clock()));
        out.append(String.format(Locale.ROOT, "%4s %6s %10s %10s %10s %10s %10s %7s %9s %9s%n", "rank", "layers",
                "F", "B", "W", "R", "OPT", "busy", "peak GB", "in-flight"));
        for (RunReport.Stage s : report.stages()) {
            out.append(String.format(Locale.ROOT, "%4d %6d %10s %10s %10s %10s %10s %7s %9s %9d%n", s.index(), s.layers(),
                    Units.seconds(s.busySecondsByPhase().get(Phase.F)), Units.seconds(s.busySecondsByPhase().get(Phase.B)),
                    Units.seconds(s.busySecondsByPhase().get(Phase.W)), Units.seconds(s.busySecondsByPhase().get(Phase.R)),
                    Units.seconds(s.busySecondsByPhase().get(Phase.OPT)), Units.percent(s.busyFraction()),
                    Units.gigabytes(s.peakMemoryBytes()), s.peakInFlightMicrobatches()));
        }
        out.append(String.format(Locale.ROOT, "phase seconds are per step (mean over steps and replicas)%n"));
        out.append(String.format(Locale.ROOT, "step time   %s mean, %s last%n", Units.seconds(report.stepTimeSeconds()),
                Units.seconds(report.lastStepTimeSeconds())));
        out.append(String.format(Locale.ROOT, "bubble      %s of stage-time idle%n", Units.percent(report.bubbleFraction())));
        out.append(String.format(Locale.ROOT, "throughput  %s samples/s, %s tokens/s%n",
                Units.count(report.samplesPerSecond()), Units.count(report.tokensPerSecond())));
        out.append(String.format(Locale.ROOT, "MFU         %s (HFU %s)%n", Units.percent(report.mfu()), Units.percent(report.hfu())));
        if (report.outcome().status() != RunReport.Status.COMPLETED) {
            // the first line only: a deadlock's reason goes on with the whole schedule grid, printed on its own
            out.append(String.format(Locale.ROOT, "run %s: %s%n", report.outcome().status().label(),
                    report.outcome().failure().orElseThrow().lines().findFirst().orElse("")));
        }
        if (!report.outOfMemory().isEmpty()) {
            out.append(String.format(Locale.ROOT, "out of memory: %d event%s%n", report.outOfMemory().size(),
                    report.outOfMemory().size() == 1 ? "" : "s"));
        }
        return out.toString();
    }
}
