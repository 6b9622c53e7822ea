package dev.pipelab.monitoring;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What the consumers of events need to know about a run that the events do not carry. Invariant: the shape is
 * consistent ({@code devices = p·d·t}, one entry per rank in the per-rank lists) and every rate is positive, so
 * consumers divide without checking.
 *
 * @param name                 the scenario's name
 * @param schedule             the schedule's name (e.g. {@code gpipe}, {@code 1f1b})
 * @param pipeline             p, ranks per pipeline
 * @param data                 d, data-parallel replicas
 * @param tensor               t, tensor-parallel degree
 * @param virtualStages        v, model stages per rank
 * @param microBatchSize       b, samples per micro-batch
 * @param microBatches         m, micro-batches per replica per step
 * @param seqLength            tokens per sample
 * @param devices              p·d·t
 * @param modelFlopsPerStep    model FLOPs of one step over all devices, without recomputation (for MFU)
 * @param hardwareFlopsPerStep FLOPs actually executed in one step over all devices, with recomputation (for HFU)
 * @param peakFlopsPerDevice   a device's peak FLOP/s
 * @param deviceMemoryBytes    a device's memory
 * @param layersPerRank        model layers on each rank, indexed by rank
 * @param staticBytesPerRank   weights, gradients and optimizer state on each rank, indexed by rank
 * @param clock                {@code virtual} or {@code wall}
 * @param speed                emulated seconds per wall second (1 with the virtual clock)
 * @param memory               the planned memory breakdown of one device, when the caller has it
 * @param deployment           a cluster run: which worker JVM hosts each (replica, rank), for labels only; empty for
 *                             the embedded run, whose outputs then carry no node
 */
public record RunInfo(String name, String schedule, int pipeline, int data, int tensor, int virtualStages,
                      int microBatchSize, int microBatches, int seqLength, int devices, double modelFlopsPerStep,
                      double hardwareFlopsPerStep, double peakFlopsPerDevice, long deviceMemoryBytes,
                      List<Integer> layersPerRank, List<Long> staticBytesPerRank, String clock, double speed,
                      Optional<MemoryInfo> memory, Optional<Deployment> deployment) {

    public RunInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(schedule, "schedule");
        Objects.requireNonNull(clock, "clock");
        Objects.requireNonNull(memory, "memory");
        Objects.requireNonNull(deployment, "deployment");
        if (name.isBlank()) throw new IllegalArgumentException("name must not be blank");
        if (schedule.isBlank()) throw new IllegalArgumentException("schedule must not be blank");
        requirePositive("pipeline", pipeline);
        requirePositive("data", data);
        requirePositive("tensor", tensor);
        requirePositive("virtualStages", virtualStages);
        requirePositive("microBatchSize", microBatchSize);
        requirePositive("microBatches", microBatches);
        requirePositive("seqLength", seqLength);
        if ((long) pipeline * data * tensor != devices) {
            throw new IllegalArgumentException("devices must be pipeline·data·tensor = " + pipeline + "·" + data + "·"
                    + tensor + " = " + ((long) pipeline * data * tensor) + ", got " + devices);
        }
        if (!(modelFlopsPerStep >= 0) || Double.isInfinite(modelFlopsPerStep)) {
            throw new IllegalArgumentException("modelFlopsPerStep must be a finite number >= 0, got " + modelFlopsPerStep);
        }
        if (!(hardwareFlopsPerStep >= modelFlopsPerStep) || Double.isInfinite(hardwareFlopsPerStep)) {
            throw new IllegalArgumentException("hardwareFlopsPerStep must be finite and >= modelFlopsPerStep ("
                    + modelFlopsPerStep + "), got " + hardwareFlopsPerStep);
        }
        if (!(peakFlopsPerDevice > 0) || Double.isInfinite(peakFlopsPerDevice)) {
            throw new IllegalArgumentException("peakFlopsPerDevice must be a finite number > 0, got " + peakFlopsPerDevice);
        }
        if (deviceMemoryBytes <= 0) {
            throw new IllegalArgumentException("deviceMemoryBytes must be > 0, got " + deviceMemoryBytes);
        }
        layersPerRank = List.copyOf(layersPerRank);
        staticBytesPerRank = List.copyOf(staticBytesPerRank);
        if (layersPerRank.size() != pipeline) {
            throw new IllegalArgumentException("layersPerRank must have one entry per rank (" + pipeline + "), got "
                    + layersPerRank.size());
        }
        if (staticBytesPerRank.size() != pipeline) {
            throw new IllegalArgumentException("staticBytesPerRank must have one entry per rank (" + pipeline + "), got "
                    + staticBytesPerRank.size());
        }
        for (int r = 0; r < pipeline; r++) {
            if (layersPerRank.get(r) < 0) {
                throw new IllegalArgumentException("layersPerRank[" + r + "] must be >= 0, got " + layersPerRank.get(r));
            }
            if (staticBytesPerRank.get(r) < 0) {
                throw new IllegalArgumentException("staticBytesPerRank[" + r + "] must be >= 0, got " + staticBytesPerRank.get(r));
            }
        }
        if (!clock.equals("virtual") && !clock.equals("wall")) {
            throw new IllegalArgumentException("clock must be virtual or wall, got " + clock);
        }
        if (!(speed > 0) || Double.isInfinite(speed)) {
            throw new IllegalArgumentException("speed must be a finite number > 0, got " + speed);
        }
        if (deployment.isPresent() && (deployment.get().workerOf().size() != data
                || deployment.get().workerOf().get(0).size() != pipeline)) {
            throw new IllegalArgumentException("deployment must place " + data + " replicas x " + pipeline + " ranks, got "
                    + deployment.get().workerOf().size() + " x " + deployment.get().workerOf().get(0).size());
        }
    }

    /** A virtual-clock run without a memory breakdown. */
    public RunInfo(String name, String schedule, int pipeline, int data, int tensor, int virtualStages,
                   int microBatchSize, int microBatches, int seqLength, double modelFlopsPerStep,
                   double hardwareFlopsPerStep, double peakFlopsPerDevice, long deviceMemoryBytes,
                   List<Integer> layersPerRank, List<Long> staticBytesPerRank) {
        this(name, schedule, pipeline, data, tensor, virtualStages, microBatchSize, microBatches, seqLength,
                pipeline * data * tensor, modelFlopsPerStep, hardwareFlopsPerStep, peakFlopsPerDevice,
                deviceMemoryBytes, layersPerRank, staticBytesPerRank, "virtual", 1.0, Optional.empty(), Optional.empty());
    }

    /** This run info with the given clock, speed and memory breakdown. */
    public RunInfo with(String clock, double speed, Optional<MemoryInfo> memory) {
        return new RunInfo(name, schedule, pipeline, data, tensor, virtualStages, microBatchSize, microBatches,
                seqLength, devices, modelFlopsPerStep, hardwareFlopsPerStep, peakFlopsPerDevice, deviceMemoryBytes,
                layersPerRank, staticBytesPerRank, clock, speed, memory, deployment);
    }

    /** This run info deployed on a cluster's workers as {@code deployment} says. */
    public RunInfo with(Deployment deployment) {
        return new RunInfo(name, schedule, pipeline, data, tensor, virtualStages, microBatchSize, microBatches,
                seqLength, devices, modelFlopsPerStep, hardwareFlopsPerStep, peakFlopsPerDevice, deviceMemoryBytes,
                layersPerRank, staticBytesPerRank, clock, speed, memory, Optional.of(deployment));
    }

    /** Samples one step consumes over all replicas: b·m·d. */
    public long samplesPerStep() {
        return (long) microBatchSize * microBatches * data;
    }

    private static void requirePositive(String name, int value) {
        if (value < 1) throw new IllegalArgumentException(name + " must be >= 1, got " + value);
    }
}
