package dev.pipelab.monitoring;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * What a run's faults did and what recovery cost, computed once from its fault, recovery, checkpoint and commit events.
 * Invariant: a pure function of the set of those events and the completed steps' times (lists sorted by fault index or
 * attempt, sums taken in that order), so the report, the summary, the metrics and the dashboard show the same numbers.
 *
 * <p>Goodput is useful seconds over elapsed seconds: useful are the step times of the attempts in the ledger's lineage
 * (the work that counted), elapsed is the run's end on its axis (the latest step end, checkpoint end, recovery, fault
 * injection or heal). A fault-free run without checkpoints has goodput 1; before any time elapsed it is 0 (nothing
 * useful yet), which live views show as unknown.
 *
 * @param faults            every injected fault, by index
 * @param recoveries        every recovery, by the attempt that failed
 * @param checkpoints       every checkpoint, by the attempt after which it was taken
 * @param usefulSeconds     step times of the lineage's attempts (of every completed attempt when no commits were recorded)
 * @param elapsedSeconds    the run's end on its axis
 * @param transmissionsDropped transmissions link faults dropped (and senders retransmitted), from the completed
 *                          attempts' link records (0 with telemetry off)
 * @param duplicatesDropped second copies link faults delivered, each dropped by its receiver by sequence number, from
 *                          the same records
 * @param ledger            the lineage and its proof; empty when the run recorded no {@link Event.StepCommitted}
 */
public record FaultSummary(List<Fault> faults, List<Event.Recovered> recoveries, List<Event.Checkpointed> checkpoints,
                           double usefulSeconds, double elapsedSeconds, long transmissionsDropped, long duplicatesDropped,
                           Optional<Ledger> ledger) {

    /**
     * One injected fault: when it began and healed (empty: it never did), and the recoveries that name it as their
     * cause, by attempt.
     */
    public record Fault(int index, String kind, String target, String description, double injectedAtSeconds,
                        OptionalDouble healedAtSeconds, List<Event.Recovered> recoveries) {
        public Fault {
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(target, "target");
            Objects.requireNonNull(description, "description");
            Objects.requireNonNull(healedAtSeconds, "healedAtSeconds");
            recoveries = List.copyOf(recoveries);
        }

        /** When the failure it caused was first noticed; empty when no recovery names it. */
        public OptionalDouble detectedAtSeconds() {
            return recoveries.isEmpty() ? OptionalDouble.empty() : OptionalDouble.of(recoveries.get(0).detectedAtSeconds());
        }

        /** When training went on after the last recovery it caused; empty when no recovery names it. */
        public OptionalDouble recoveredAtSeconds() {
            return recoveries.isEmpty() ? OptionalDouble.empty()
                    : OptionalDouble.of(recoveries.get(recoveries.size() - 1).recoveredAtSeconds());
        }

        /** The work its recoveries threw away, summed in attempt order. */
        public double lostWorkSeconds() {
            double lost = 0;
            for (Event.Recovered r : recoveries) lost += r.lostWorkSeconds();
            return lost;
        }
    }

    public static final FaultSummary NONE = new FaultSummary(List.of(), List.of(), List.of(), 0, 0, 0, 0, Optional.empty());

    public FaultSummary {
        faults = List.copyOf(faults);
        recoveries = List.copyOf(recoveries);
        checkpoints = List.copyOf(checkpoints);
        Objects.requireNonNull(ledger, "ledger");
    }

    /** Whether there is anything to show: a fault, a recovery, a checkpoint or an unbalanced ledger. */
    public boolean any() {
        return !faults.isEmpty() || !recoveries.isEmpty() || !checkpoints.isEmpty() || !balanced();
    }

    /** Whether the ledger balances; true when none was recorded (nothing to disprove). */
    public boolean balanced() {
        return ledger.map(Ledger::balanced).orElse(true);
    }

    /** Useful over elapsed seconds; 0 before any time elapsed. */
    public double goodput() {
        return elapsedSeconds > 0 ? usefulSeconds / elapsedSeconds : 0;
    }

    /** Completed training steps done again, as the recoveries say, summed. */
    public int replayedSteps() {
        int n = 0;
        for (Event.Recovered r : recoveries) n += r.replayedSteps();
        return n;
    }

    /** Work thrown away by every recovery, summed in attempt order. */
    public double lostWorkSeconds() {
        double lost = 0;
        for (Event.Recovered r : recoveries) lost += r.lostWorkSeconds();
        return lost;
    }

    /** Seconds spent writing checkpoints, summed in attempt order. */
    public double checkpointSeconds() {
        double s = 0;
        for (Event.Checkpointed c : checkpoints) s += c.seconds();
        return s;
    }

    /** Bytes of every checkpoint written. */
    public long checkpointBytes() {
        long b = 0;
        for (Event.Checkpointed c : checkpoints) b += c.bytes();
        return b;
    }

    /** The ledger's one-line verdict, or {@code not recorded}. */
    public String verdict() {
        return ledger.map(Ledger::verdict).orElse("not recorded (the run emitted no step commits)");
    }
}
