package dev.pipelab.fault;

import dev.pipelab.fault.RandomFaults.Kind;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Published interruption counts as data, and the per-unit-hour rates they give ({@code faults.random.preset},
 * docs/faults.md). Each preset keeps its source table row by row, so that its rates can be checked against the
 * count: over the snapshot's hours on the snapshot's devices and nodes, a preset's rates expect exactly the published
 * number of interruptions of each kind.
 */
public final class FaultPresets {

    /** One row of a source table: a failing component, the source's category for it, the kind it counts as, and how often. */
    public record Row(String component, String category, Kind kind, int count) {}

    /**
     * A snapshot of one job: {@code rows} interruptions in {@code hours} on {@code devices} devices in {@code nodes} nodes.
     *
     * @param source the citation, as the docs give it
     */
    public record Preset(String name, String source, double hours, long devices, long nodes, List<Row> rows) {

        public Preset {
            rows = List.copyOf(rows);
        }

        /** The interruptions of every row. */
        public int count() {
            return rows.stream().mapToInt(Row::count).sum();
        }

        /** The interruptions of the rows that count as {@code kind}. */
        public int count(Kind kind) {
            return rows.stream().filter(r -> r.kind() == kind).mapToInt(Row::count).sum();
        }

        /** {@code kind}'s count per unit-hour of its level (a device, a node, the job) over the snapshot. */
        public double perHour(Kind kind) {
            long units = switch (kind.level()) {
                case DEVICE -> devices;
                case NODE -> nodes;
                case JOB -> 1;
            };
            return count(kind) / (units * hours);
        }

        /** {@code kind}'s share of the snapshot's interruptions: its weight under a job MTBF ({@code faults.random.mtbfHours}). */
        public double weight(Kind kind) {
            return count(kind) / (double) count();
        }

        /** The kinds that occur in the snapshot, in {@link Kind} order. */
        public List<Kind> kinds() {
            List<Kind> kinds = new ArrayList<>();
            for (Kind k : Kind.values()) if (count(k) > 0) kinds.add(k);
            return List.copyOf(kinds);
        }
    }

    /**
     * The 419 unexpected interruptions of Llama 3 405B's pre-training in a 54-day snapshot on 16,384 H100 GPUs
     * (2,048 nodes of 8): Table 5 of Dubey et al., "The Llama 3 Herd of Models", arXiv:2407.21783, 2024, §3.3.4. The
     * 47 planned interruptions of the same snapshot (466 in all: firmware upgrades, configuration and data set updates)
     * are not in it: they are scheduled, not failures. The table's categories map onto the kinds: GPU to {@code gpu};
     * Host to {@code host}; Network to {@code network}; Unplanned Maintenance to {@code maintenance}; Dependency (a
     * software bug or a dependency) to {@code software}; Unknown (NCCL watchdog timeouts) to {@code unknown}.
     */
    public static final Preset LLAMA3_54D = new Preset("llama3-54d",
            "Dubey et al., \"The Llama 3 Herd of Models\", arXiv:2407.21783, 2024, §3.3.4, Table 5",
            54 * 24, 16_384, 2_048, List.of(
                    new Row("Faulty GPU", "GPU", Kind.GPU, 148),
                    new Row("GPU HBM3 Memory", "GPU", Kind.GPU, 72),
                    new Row("Software Bug", "Dependency", Kind.SOFTWARE, 54),
                    new Row("Network Switch/Cable", "Network", Kind.NETWORK, 35),
                    new Row("Host Maintenance", "Unplanned Maintenance", Kind.MAINTENANCE, 32),
                    new Row("GPU SRAM Memory", "GPU", Kind.GPU, 19),
                    new Row("GPU System Processor", "GPU", Kind.GPU, 17),
                    new Row("NIC", "Host", Kind.HOST, 7),
                    new Row("NCCL Watchdog Timeouts", "Unknown", Kind.UNKNOWN, 7),
                    new Row("Silent Data Corruption", "GPU", Kind.GPU, 6),
                    new Row("GPU Thermal Interface + Sensor", "GPU", Kind.GPU, 6),
                    new Row("SSD", "Host", Kind.HOST, 3),
                    new Row("Power Supply", "Host", Kind.HOST, 3),
                    new Row("Server Chassis", "Host", Kind.HOST, 2),
                    new Row("IO Expansion Board", "Host", Kind.HOST, 2),
                    new Row("Dependency", "Dependency", Kind.SOFTWARE, 2),
                    new Row("CPU", "Host", Kind.HOST, 2),
                    new Row("System Memory", "Host", Kind.HOST, 2)));

    private static final List<Preset> ALL = List.of(LLAMA3_54D);

    private FaultPresets() {}

    public static Optional<Preset> of(String name) {
        return ALL.stream().filter(p -> p.name().equals(name)).findFirst();
    }

    /** The presets' names, as error messages list them. */
    public static String names() {
        return String.join(", ", ALL.stream().map(Preset::name).toList());
    }
}
