package dev.pipelab.fault;

import java.util.List;
import java.util.Optional;

/**
 * Faults at a rate (scenario key {@code faults.random}, docs/faults.md): each {@link Kind} of interruption strikes at a
 * rate per unit-hour of what it lives on (a device, a node, or the whole job), multiplied by {@code scale}; or, when
 * {@code mtbfHours} is given, the whole job fails every {@code mtbfHours} on average and each kind takes its
 * {@code weight} of that. Arrivals are a Poisson process drawn from {@code seed} ({@link FaultDraws}). An interruption
 * stops the synchronous job the way a crash of one of its stages does; what sets the kinds apart is what recovering
 * costs: how long the failure goes unnoticed ({@link Rate#detectSeconds}) and whether a node leaves the job for repair
 * ({@link Rate#repairSeconds} &gt; 0: a spare node, of {@code spares}, takes its place, or the restart waits for one).
 *
 * @param preset the preset the rates came from ({@code llama3-54d}), empty for rates written out
 */
public record RandomFaults(long seed, double scale, Optional<Double> mtbfHours, int spares, List<Rate> rates, Optional<String> preset) {

    /** What an interruption's rate is counted per. */
    public enum Level { DEVICE, NODE, JOB }

    /**
     * What interrupts a job, in the categories of the Llama 3 report's Table 5 (Dubey et al., "The Llama 3 Herd of
     * Models", 2024, §3.3.4): GPU faults per device; host faults, network (switch, cable, NIC) and unplanned host
     * maintenance per node; software bugs and unexplained timeouts per job.
     */
    public enum Kind {
        GPU("gpu", Level.DEVICE), HOST("host", Level.NODE), NETWORK("network", Level.NODE), MAINTENANCE("maintenance", Level.NODE),
        SOFTWARE("software", Level.JOB), UNKNOWN("unknown", Level.JOB);

        private final String key;
        private final Level level;

        Kind(String key, Level level) {
            this.key = key;
            this.level = level;
        }

        public String key() { return key; }

        public Level level() { return level; }

        public static Optional<Kind> of(String key) {
            for (Kind k : values()) if (k.key.equals(key)) return Optional.of(k);
            return Optional.empty();
        }

        public static String keys() {
            return String.join(", ", java.util.Arrays.stream(values()).map(Kind::key).toList());
        }
    }

    /**
     * One kind's rate and costs.
     *
     * @param perHour       interruptions per unit-hour of the kind's level (before {@code scale}); NaN when the job's
     *                      {@code mtbfHours} is split by {@code weight}
     * @param weight        the kind's share of the job's failures under {@code mtbfHours}; NaN otherwise
     * @param detectSeconds how long the failure goes unnoticed; NaN: {@code recovery.detectSeconds}
     * @param repairSeconds how long the failed node is out of the job (0: it is not, the restart runs where it was)
     */
    public record Rate(Kind kind, double perHour, double weight, double detectSeconds, double repairSeconds) {

        /** How long this kind's failure goes unnoticed under {@code recovery}: its own setting, or the heartbeat timeout. */
        public double detect(RecoverySpec recovery) {
            return Double.isNaN(detectSeconds) ? recovery.detectSeconds() : detectSeconds;
        }
    }

    /** What the rates act on: the job's devices and nodes. */
    public record Size(long devices, long nodes) {}

    public RandomFaults {
        rates = List.copyOf(rates);
    }

    /** Interruptions per second of {@code kind} for a job of {@code size} (0 when the kind is not in the mix). */
    public double perSecond(Kind kind, Size size) {
        for (Rate r : rates) {
            if (r.kind() != kind) continue;
            if (mtbfHours.isPresent()) return scale * r.weight() / (mtbfHours.get() * 3600.0);
            long units = switch (kind.level()) {
                case DEVICE -> size.devices();
                case NODE -> size.nodes();
                case JOB -> 1;
            };
            return scale * r.perHour() * units / 3600.0;
        }
        return 0;
    }

    /** Interruptions per second of every kind together, for a job of {@code size}. */
    public double perSecond(Size size) {
        double sum = 0;
        for (Rate r : rates) sum += perSecond(r.kind(), size);
        return sum;
    }

    /** The job's mean time between failures, in seconds (+Infinity without any rate). */
    public double mtbfSeconds(Size size) {
        double rate = perSecond(size);
        return rate > 0 ? 1.0 / rate : Double.POSITIVE_INFINITY;
    }

    /** The rate and costs of {@code kind}, if it is in the mix. */
    public Optional<Rate> rate(Kind kind) {
        return rates.stream().filter(r -> r.kind() == kind).findFirst();
    }
}
