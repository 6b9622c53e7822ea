package dev.pipelab.monitoring.report;

import dev.pipelab.monitoring.Event;
import dev.pipelab.monitoring.FaultSummary;
import dev.pipelab.monitoring.Ledger;
import dev.pipelab.monitoring.LinkStats;
import dev.pipelab.monitoring.Mean;
import dev.pipelab.monitoring.MemoryInfo;
import dev.pipelab.monitoring.Phase;
import dev.pipelab.monitoring.RankStats;
import dev.pipelab.monitoring.RunInfo;
import dev.pipelab.monitoring.RunTelemetry;
import dev.pipelab.monitoring.RunTotals;
import dev.pipelab.monitoring.StepStats;
import dev.pipelab.monitoring.StepSummary;
import dev.pipelab.monitoring.WallClock;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;

/**
 * The content of {@code report.json}. Invariant: everything but {@link #wallClock()} is a function of the
 * {@link RunInfo}, the step summaries and the {@link FaultSummary} of a {@link RunTelemetry} and the run's
 * {@link Outcome}, so two identical virtual-time runs give equal reports apart from it; lists are sorted (stages by index, links by replica/from/to, steps ascending, out-of-memory by step).
 *
 * <p>Run-level numbers are over the completed steps: {@code stepTimeSeconds} is the mean step time,
 * {@code bubbleFraction} the mean of the steps' bubbles, rates and MFU/HFU are per mean step. Every mean of equal
 * values is that value exactly, so a run of identical steps reports the evaluator's numbers bit for bit.
 *
 * @param memory   the planned memory breakdown when the caller gave one ({@code null} in JSON otherwise)
 * @param faults   every injected fault, by index: when it began, healed, was detected and recovered from, the work lost
 * @param recovery what recovery did and cost: recoveries, checkpoints, replayed steps, goodput and the ledger
 * @param loss     real-numerics runs: the training loss of each step (mean over replicas and micro-batches); empty
 *                 otherwise (and then absent from the JSON)
 * @param outcome  whether the run completed, and why not; a run that stopped early reports the steps it completed
 * @param placement a cluster run: which node hosted each (replica, rank), from {@link RunInfo#deployment()}; empty
 *                 for an embedded run (and then absent from the JSON). Deployment only: no other number depends on it
 */
public record RunReport(String name, String schedule, String clock, double speed, RunInfo info, int completedSteps,
                        double runSeconds, double stepTimeSeconds, double lastStepTimeSeconds, double bubbleFraction,
                        double samplesPerSecond, double tokensPerSecond, double mfu, double hfu,
                        Optional<MemoryInfo> memory, List<Stage> stages, List<LinkStats> links,
                        List<AllReduce> allReduce, List<StepStats> steps, List<FaultSummary.Fault> faults, Recovery recovery,
                        List<StepSummary.OutOfMemory> outOfMemory, List<Double> loss, Outcome outcome,
                        List<Placed> placement, WallClock wallClock) {

    /** The stage of rank {@code rank} of replica {@code replica} ran on the node at {@code node} (its cluster address). */
    public record Placed(int replica, int rank, String node) {
        public Placed {
            Objects.requireNonNull(node, "node");
        }
    }

    /**
     * One pipeline rank over the run, aggregated over replicas. Invariant: {@code peakMemoryBytes} and
     * {@code peakInFlightMicrobatches} are maxima over replicas, {@code busyFraction} and
     * {@code busySecondsByPhase} (seconds per step) means over replicas; {@code replicas} holds each replica.
     */
    public record Stage(int index, int layers, double busyFraction, long peakMemoryBytes, int peakInFlightMicrobatches,
                        Map<Phase, Double> busySecondsByPhase, List<Replica> replicas) {
        public Stage {
            busySecondsByPhase = Collections.unmodifiableMap(new EnumMap<>(busySecondsByPhase));
            replicas = List.copyOf(replicas);
        }
    }

    /** One rank of one replica over the run. Invariant: the numbers of {@link RunTelemetry#ranksOverRun()}. */
    public record Replica(int replica, double busyFraction, long peakMemoryBytes, int peakInFlightMicrobatches) {}

    /**
     * The gradient all-reduce of one model stage, summed over replicas and steps. Invariant: sums only; every model
     * stage of a run with a completed step is listed.
     */
    public record AllReduce(int stage, long bytes, double seconds) {}

    /**
     * What recovery did and what it cost, from the run's {@link FaultSummary}. Invariant: empty lists and zeros for a run
     * without faults, recoveries or checkpoints (and then goodput is 1, or 0 when no step completed); the ledger is empty
     * when the run recorded no step commits.
     *
     * @param recoveries        every recovery, by the attempt that failed
     * @param checkpoints       checkpoints written
     * @param checkpointSeconds emulated seconds spent writing them
     * @param checkpointBytes   bytes written
     * @param replayedSteps     completed training steps done again, over all recoveries
     * @param lostWorkSeconds   emulated seconds of work thrown away, over all recoveries
     * @param usefulSeconds     step times of the attempts that counted (the ledger's lineage)
     * @param elapsedSeconds    the run's end on its axis (the latest step end, checkpoint or recovery)
     * @param goodput           useful over elapsed seconds
     * @param transmissionsDropped transmissions link faults dropped (each retransmitted), from the links' records
     * @param duplicatesDropped second copies link faults delivered, dropped by their receivers, from the same records
     */
    public record Recovery(List<Event.Recovered> recoveries, int checkpoints, double checkpointSeconds, long checkpointBytes,
                           int replayedSteps, double lostWorkSeconds, double usefulSeconds, double elapsedSeconds,
                           double goodput, long transmissionsDropped, long duplicatesDropped, Optional<Ledger> ledger) {
        public Recovery {
            recoveries = List.copyOf(recoveries);
            Objects.requireNonNull(ledger, "ledger");
        }

        public static Recovery of(FaultSummary f) {
            return new Recovery(f.recoveries(), f.checkpoints().size(), f.checkpointSeconds(), f.checkpointBytes(),
                    f.replayedSteps(), f.lostWorkSeconds(), f.usefulSeconds(), f.elapsedSeconds(), f.goodput(),
                    f.transmissionsDropped(), f.duplicatesDropped(), f.ledger());
        }

        /** Whether the ledger balances (true when none was recorded: nothing disproves it). */
        public boolean balanced() {
            return ledger.map(Ledger::balanced).orElse(true);
        }
    }

    /** How a run ended. */
    public enum Status {
        COMPLETED, DEADLOCKED, FAILED;

        /** {@code completed}, {@code deadlocked} or {@code failed}. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** How a run ended. Invariant: a completed run has no failure; any other names its reason. */
    public record Outcome(Status status, Optional<String> failure) {
        public static final Outcome COMPLETED = new Outcome(Status.COMPLETED, Optional.empty());

        public Outcome {
            Objects.requireNonNull(status, "status");
            Objects.requireNonNull(failure, "failure");
            if ((status == Status.COMPLETED) != failure.isEmpty()) {
                throw new IllegalArgumentException("a " + status.label() + " run must "
                        + (failure.isEmpty() ? "give its reason" : "have no failure") + ", got " + failure);
            }
        }

        public static Outcome deadlocked(String reason) {
            return new Outcome(Status.DEADLOCKED, Optional.of(reason));
        }

        public static Outcome failed(String reason) {
            return new Outcome(Status.FAILED, Optional.of(reason));
        }
    }

    public RunReport {
        Objects.requireNonNull(info, "info");
        Objects.requireNonNull(memory, "memory");
        Objects.requireNonNull(recovery, "recovery");
        Objects.requireNonNull(outcome, "outcome");
        Objects.requireNonNull(wallClock, "wallClock");
        stages = List.copyOf(stages);
        links = List.copyOf(links);
        allReduce = List.copyOf(allReduce);
        steps = List.copyOf(steps);
        faults = List.copyOf(faults);
        outOfMemory = List.copyOf(outOfMemory);
        loss = List.copyOf(loss);
        placement = List.copyOf(placement);
    }

    /** The report of a completed run's {@code telemetry}. */
    public static RunReport of(RunTelemetry telemetry, WallClock wallClock) {
        return of(telemetry, Outcome.COMPLETED, wallClock);
    }

    /** The report of everything {@code telemetry} has received, marked with how the run ended. */
    public static RunReport of(RunTelemetry telemetry, Outcome outcome, WallClock wallClock) {
        RunTelemetry aggregate = telemetry;
        RunInfo info = aggregate.info();
        FaultSummary faults = aggregate.faultSummary();
        RunTotals totals = aggregate.totals();
        List<StepStats> steps = aggregate.stepStats();
        double[] bubbles = new double[steps.size()];
        for (int i = 0; i < bubbles.length; i++) bubbles[i] = steps.get(i).bubbleFraction();
        double step = totals.meanStepSeconds();
        double samplesPerStep = totals.completedSteps() > 0 ? (double) totals.samples() / totals.completedSteps() : 0;
        double flopRate = step * info.devices() * info.peakFlopsPerDevice();

        List<RankStats> ranks = aggregate.ranksOverRun();
        List<Stage> stages = new ArrayList<>();
        for (int rank = 0; rank < info.pipeline(); rank++) {
            List<Replica> replicas = new ArrayList<>();
            double[] fractions = new double[info.data()];
            double[][] byPhase = new double[Phase.values().length][info.data()];
            long peak = 0;
            int inFlight = 0;
            for (int replica = 0; replica < info.data(); replica++) {
                RankStats r = ranks.get(replica * info.pipeline() + rank);
                replicas.add(new Replica(replica, r.busyFraction(), r.peakMemoryBytes(), r.peakInFlight()));
                fractions[replica] = r.busyFraction();
                for (Phase phase : Phase.values()) byPhase[phase.ordinal()][replica] = r.busySeconds(phase);
                peak = replica == 0 ? r.peakMemoryBytes() : Math.max(peak, r.peakMemoryBytes());
                inFlight = Math.max(inFlight, r.peakInFlight());
            }
            Map<Phase, Double> phases = new EnumMap<>(Phase.class);
            for (Phase phase : Phase.values()) phases.put(phase, Mean.of(byPhase[phase.ordinal()]));
            stages.add(new Stage(rank, info.layersPerRank().get(rank), Mean.of(fractions), peak, inFlight, phases, replicas));
        }

        // every model stage once a step completed, with zeros where no replica reduced it (one replica: nothing to reduce)
        List<AllReduce> allReduce = new ArrayList<>();
        Map<Integer, Long> bytes = aggregate.allReduceBytesByStage();
        Map<Integer, Double> seconds = aggregate.allReduceSecondsByStage();
        int modelStages = totals.completedSteps() > 0 ? info.pipeline() * info.virtualStages() : 0;
        TreeSet<Integer> reduced = new TreeSet<>(seconds.keySet());
        for (int stage = 0; stage < modelStages; stage++) reduced.add(stage);
        for (int stage : reduced) {
            allReduce.add(new AllReduce(stage, bytes.getOrDefault(stage, 0L), seconds.getOrDefault(stage, 0.0)));
        }

        return new RunReport(info.name(), info.schedule(), info.clock(), info.speed(), info, totals.completedSteps(),
                totals.runSeconds(), step, totals.lastStepSeconds(), Mean.of(bubbles),
                step > 0 ? samplesPerStep / step : 0, step > 0 ? samplesPerStep * info.seqLength() / step : 0,
                flopRate > 0 ? info.modelFlopsPerStep() / flopRate : 0,
                flopRate > 0 ? info.hardwareFlopsPerStep() / flopRate : 0,
                info.memory(), stages, aggregate.linksOverRun(), allReduce, steps, faults.faults(), Recovery.of(faults),
                aggregate.outOfMemory(), aggregate.losses(), outcome, placed(info), wallClock);
    }

    /** Every (replica, rank) with its worker's address, replica by replica; none for an embedded run. */
    private static List<Placed> placed(RunInfo info) {
        List<Placed> placed = new ArrayList<>();
        info.deployment().ifPresent(d -> {
            for (int replica = 0; replica < info.data(); replica++) {
                for (int rank = 0; rank < info.pipeline(); rank++) placed.add(new Placed(replica, rank, d.address(replica, rank)));
            }
        });
        return placed;
    }
}
