package dev.pipelab.monitoring;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The content of {@code report.json} (DESIGN §7). Invariant: everything but {@link #wallClock()} is a function
 * of the {@link RunInfo} and the set of events, so two identical virtual-time runs give equal reports apart from
 * it; lists are sorted (stages by index, links by replica/from/to, steps ascending, out-of-memory by step).
 *
 * <p>Run-level numbers are over the completed steps: {@code stepTimeSeconds} is the mean step time,
 * {@code bubbleFraction} the mean of the steps' bubbles, rates and MFU/HFU are per mean step. Every mean of equal
 * values is that value exactly, so a run of identical steps reports the evaluator's numbers bit for bit.
 *
 * @param memory   the planned memory breakdown when the caller gave one ({@code null} in JSON otherwise)
 * @param faults   injected faults, one line each (none yet: the fault injector does not exist)
 * @param loss     real-numerics runs: the training loss of each step (mean over replicas and micro-batches); empty
 *                 otherwise (and then absent from the JSON)
 */
public record RunReport(String name, String schedule, String clock, double speed, RunInfo info, int completedSteps,
                        double runSeconds, double stepTimeSeconds, double lastStepTimeSeconds, double bubbleFraction,
                        double samplesPerSecond, double tokensPerSecond, double mfu, double hfu,
                        Optional<MemoryInfo> memory, List<Stage> stages, List<LinkStats> links,
                        List<AllReduce> allReduce, List<StepStats> steps, List<String> faults, Recovery recovery,
                        List<Event.OutOfMemory> outOfMemory, List<Double> loss, WallClock wallClock) {

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

    /** One rank of one replica over the run. Invariant: the numbers of {@link RunAggregate#ranksOverRun()}. */
    public record Replica(int replica, double busyFraction, long peakMemoryBytes, int peakInFlightMicrobatches) {}

    /** The gradient all-reduce of one model stage, summed over replicas and steps. Invariant: sums only. */
    public record AllReduce(int stage, long bytes, double seconds) {}

    /** What recovery did. Invariant: zero while no faults are injected. */
    public record Recovery(int replayedSteps, long duplicatesDropped) {
        public static final Recovery NONE = new Recovery(0, 0);
    }

    public RunReport {
        Objects.requireNonNull(info, "info");
        Objects.requireNonNull(memory, "memory");
        Objects.requireNonNull(recovery, "recovery");
        Objects.requireNonNull(wallClock, "wallClock");
        stages = List.copyOf(stages);
        links = List.copyOf(links);
        allReduce = List.copyOf(allReduce);
        steps = List.copyOf(steps);
        faults = List.copyOf(faults);
        outOfMemory = List.copyOf(outOfMemory);
        loss = List.copyOf(loss);
    }

    /** The report of {@code events}, e.g. {@code RunReport.of(info, log.events(), wallClock)}. */
    public static RunReport of(RunInfo info, java.util.Collection<? extends Event> events, WallClock wallClock) {
        return of(RunAggregate.of(info, events), wallClock);
    }

    /** The report of everything {@code aggregate} has seen so far. */
    public static RunReport of(RunAggregate aggregate, WallClock wallClock) {
        RunInfo info = aggregate.info();
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

        List<AllReduce> allReduce = new ArrayList<>();
        Map<Integer, Long> bytes = aggregate.allReduceBytesByStage();
        aggregate.allReduceSecondsByStage().forEach((stage, seconds) ->
                allReduce.add(new AllReduce(stage, bytes.getOrDefault(stage, 0L), seconds)));

        return new RunReport(info.name(), info.schedule(), info.clock(), info.speed(), info, totals.completedSteps(),
                totals.runSeconds(), step, totals.lastStepSeconds(), Mean.of(bubbles),
                step > 0 ? samplesPerStep / step : 0, step > 0 ? samplesPerStep * info.seqLength() / step : 0,
                flopRate > 0 ? info.modelFlopsPerStep() / flopRate : 0,
                flopRate > 0 ? info.hardwareFlopsPerStep() / flopRate : 0,
                info.memory(), stages, aggregate.linksOverRun(), allReduce, steps, List.of(), Recovery.NONE,
                aggregate.outOfMemory(), aggregate.losses(), wallClock);
    }
}
