package dev.pipelab.monitoring.report;

import dev.pipelab.monitoring.Event;
import dev.pipelab.monitoring.FaultSummary;
import dev.pipelab.monitoring.Ledger;
import dev.pipelab.monitoring.Units;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The faults-and-recovery block of the terminal summary and the HTML report, as lines. Invariant: only numbers of the
 * {@link RunReport}, one line per fault and per recovery, then checkpoints, goodput and the ledger's verdict with its
 * first {@value #PROBLEMS} problems; no lines at all for a run without faults, recoveries or checkpoints whose ledger
 * balances.
 */
final class FaultLines {

    /** Problems listed under an unbalanced ledger; report.json has every one. */
    static final int PROBLEMS = 10;

    private FaultLines() {}

    static boolean any(RunReport r) {
        return !r.faults().isEmpty() || !r.recovery().recoveries().isEmpty() || r.recovery().checkpoints() > 0
                || !r.recovery().balanced();
    }

    static List<String> of(RunReport r) {
        List<String> out = new ArrayList<>();
        if (!any(r)) return out;
        RunReport.Recovery rec = r.recovery();
        for (FaultSummary.Fault f : r.faults()) {
            StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "fault %d    %s  injected %s", f.index(),
                    f.description(), Units.seconds(f.injectedAtSeconds())));
            f.healedAtSeconds().ifPresent(t -> b.append(", healed ").append(Units.seconds(t)));
            f.detectedAtSeconds().ifPresent(t -> b.append(", detected ").append(Units.seconds(t)));
            f.recoveredAtSeconds().ifPresent(t -> b.append(", recovered ").append(Units.seconds(t)));
            if (!f.recoveries().isEmpty()) b.append(", lost ").append(Units.seconds(f.lostWorkSeconds()));
            out.add(b.toString());
        }
        for (Event.Recovered e : rec.recoveries()) {
            out.add(String.format(Locale.ROOT, "recovery   attempt %d%s: %s; failed %s, detected after %s, recovered %s, "
                            + "resumed from step %d, replayed %d step%s, lost %s",
                    e.step(), e.fault() >= 0 ? " (fault " + e.fault() + ")" : "", e.reason().lines().findFirst().orElse(""),
                    Units.seconds(e.failedAtSeconds()), Units.seconds(e.detectedAtSeconds() - e.failedAtSeconds()),
                    Units.seconds(e.recoveredAtSeconds()), e.resumedFromStep(), e.replayedSteps(),
                    e.replayedSteps() == 1 ? "" : "s", Units.seconds(e.lostWorkSeconds())));
            if (Double.isFinite(e.wallDetectSeconds()) && Double.isFinite(e.wallRestartSeconds())) {
                out.add(String.format(Locale.ROOT, "           on the real cluster: detected %s after the fault, running again %s later",
                        Units.seconds(e.wallDetectSeconds()), Units.seconds(e.wallRestartSeconds())));
            }
        }
        if (rec.transmissionsDropped() > 0 || rec.duplicatesDropped() > 0) {
            out.add(String.format(Locale.ROOT, "links       %,d transmission%s dropped and sent again, %,d duplicate%s dropped by receivers",
                    rec.transmissionsDropped(), rec.transmissionsDropped() == 1 ? "" : "s", rec.duplicatesDropped(),
                    rec.duplicatesDropped() == 1 ? "" : "s"));
        }
        out.add(String.format(Locale.ROOT, "checkpoints %d, %s, %s GB", rec.checkpoints(), Units.seconds(rec.checkpointSeconds()),
                Units.gigabytes(rec.checkpointBytes())));
        out.add(String.format(Locale.ROOT, "goodput     %s (%s useful of %s; replayed %d step%s, lost %s)",
                Units.percent(rec.goodput()), Units.seconds(rec.usefulSeconds()), Units.seconds(rec.elapsedSeconds()),
                rec.replayedSteps(), rec.replayedSteps() == 1 ? "" : "s", Units.seconds(rec.lostWorkSeconds())));
        if (rec.ledger().isEmpty()) {
            out.add("ledger      not recorded (the run emitted no step commits)");
            return out;
        }
        Ledger l = rec.ledger().get();
        if (l.balanced()) {
            out.add("ledger      " + l.verdict() + ": every step's micro-batches consumed once, one optimizer step per rank");
        } else {
            out.add(String.format(Locale.ROOT, "ledger      NOT balanced: %d problem%s", l.problems().size(),
                    l.problems().size() == 1 ? "" : "s"));
            for (String p : l.problems().subList(0, Math.min(PROBLEMS, l.problems().size()))) out.add("  " + p);
            if (l.problems().size() > PROBLEMS) out.add("  ... " + (l.problems().size() - PROBLEMS) + " more in report.json");
        }
        return out;
    }
}
