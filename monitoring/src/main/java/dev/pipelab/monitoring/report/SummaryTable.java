package dev.pipelab.monitoring.report;

import dev.pipelab.monitoring.Deployment;
import dev.pipelab.monitoring.Phase;
import dev.pipelab.monitoring.RunInfo;
import dev.pipelab.monitoring.Units;

import java.util.Locale;
import java.util.Optional;

/**
 * The end-of-run summary printed to the terminal. Invariant: it shows only numbers of the {@link RunReport}
 * (one row per rank, aggregated over replicas as the report does), so the terminal and {@code report.json} never
 * disagree. A cluster run adds a {@code node} column: the worker index of the rank in each replica, with the workers'
 * addresses below the table; an embedded run's table has no such column. A run with faults, recoveries or checkpoints,
 * or whose ledger does not balance, adds their block ({@link FaultLines}) before the out-of-memory count.
 */
public final class SummaryTable {

    /** Replicas whose node a row lists; report.json's placement has every one. */
    private static final int NODES_SHOWN = 8;

    private SummaryTable() {}

    /** The worker index of {@code rank} in each replica, comma-separated; beyond {@value #NODES_SHOWN} replicas, a count. */
    private static String nodes(Deployment d, int replicas, int rank) {
        StringBuilder s = new StringBuilder();
        for (int replica = 0; replica < Math.min(replicas, NODES_SHOWN); replica++) {
            s.append(replica == 0 ? "" : ",").append(d.worker(replica, rank));
        }
        if (replicas > NODES_SHOWN) s.append(",... (").append(replicas - NODES_SHOWN).append(" more replicas)");
        return s.toString();
    }

    public static String render(RunReport report) {
        RunInfo info = report.info();
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "%s  %s  p=%d d=%d t=%d v=%d  b=%d m=%d  %d step%s  %s clock%n",
                report.name(), report.schedule(), info.pipeline(), info.data(), info.tensor(), info.virtualStages(),
                info.microBatchSize(), info.microBatches(), report.completedSteps(),
                report.completedSteps() == 1 ? "" : "s", report.clock()));
        Optional<Deployment> deployment = info.deployment();
        out.append(String.format(Locale.ROOT, "%4s %6s %10s %10s %10s %10s %10s %7s %9s %9s", "rank", "layers",
                "F", "B", "W", "R", "OPT", "busy", "peak GB", "in-flight"));
        out.append(deployment.isPresent() ? "  node\n" : "\n");
        for (RunReport.Stage s : report.stages()) {
            out.append(String.format(Locale.ROOT, "%4d %6d %10s %10s %10s %10s %10s %7s %9s %9d", s.index(), s.layers(),
                    Units.seconds(s.busySecondsByPhase().get(Phase.F)), Units.seconds(s.busySecondsByPhase().get(Phase.B)),
                    Units.seconds(s.busySecondsByPhase().get(Phase.W)), Units.seconds(s.busySecondsByPhase().get(Phase.R)),
                    Units.seconds(s.busySecondsByPhase().get(Phase.OPT)), Units.percent(s.busyFraction()),
                    Units.gigabytes(s.peakMemoryBytes()), s.peakInFlightMicrobatches()));
            out.append(deployment.isPresent() ? "  " + nodes(deployment.get(), info.data(), s.index()) + "\n" : "\n");
        }
        if (deployment.isPresent()) {
            Deployment d = deployment.get();
            StringBuilder legend = new StringBuilder();
            for (int w = 0; w < d.workers().size(); w++) {
                legend.append(w == 0 ? "" : ", ").append(w).append(" = ").append(Deployment.label(d.workers().get(w)));
            }
            out.append(String.format(Locale.ROOT, "node: the worker JVM of the rank in replica 0%s (placement %s): %s%n",
                    info.data() > 1 ? ", 1, ..." : "", d.strategy(), legend));
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
        for (String line : FaultLines.of(report)) out.append(line).append('\n');
        if (!report.outOfMemory().isEmpty()) {
            out.append(String.format(Locale.ROOT, "out of memory: %d event%s%n", report.outOfMemory().size(),
                    report.outOfMemory().size() == 1 ? "" : "s"));
        }
        return out.toString();
    }
}
