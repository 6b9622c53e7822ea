package dev.pipelab.fault;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The interruptions a {@link RandomFaults} rate model draws for one job, in time order: a Poisson process (exponential
 * gaps at the total rate), each arrival's kind chosen in proportion to the kinds' rates and its place uniformly among
 * the units of the kind's level. Seeded and sequential, so a draw depends only on the seed, the rates and the job's
 * shape, never on how far anyone has read: the actor runtime and {@code pipelab goodput} read the same sequence.
 * Where an interruption lands is a stage: a device's (devices are numbered replica by replica, rank by rank, {@code
 * tensor} to a stage), a node's first device's, or any stage for a job-level kind.
 */
public final class FaultDraws {

    /** One interruption: {@code index} in the sequence, its moment on the run's emulated axis, kind, unit and stage. */
    public record Draw(int index, double atSeconds, RandomFaults.Kind kind, long unit, int replica, int rank) {

        /** The fault the actor runtime injects for it: its stage crashes at the moment (docs/faults.md). */
        public Fault fault(long seed) {
            return Fault.of(FaultKind.STAGE_CRASH, new FaultTarget.Stage(replica, rank), 0, atSeconds, 0, 0, seed,
                    "faults.random #" + index + " (" + kind.key() + ")");
        }
    }

    private final RandomFaults rates;
    private final int replicas;
    private final int ranks;
    private final int tensor;
    private final int devicesPerNode;
    private final RandomFaults.Size size;
    private final double total;
    private final double[] perKind;
    private final RandomFaults.Kind[] kinds;
    private final SplittableRandom random;
    private double now;
    private int next;

    /** The draws for {@code replicas} pipelines of {@code ranks} stages of {@code tensor} devices, {@code devicesPerNode} to a node. */
    public FaultDraws(RandomFaults rates, int replicas, int ranks, int tensor, int devicesPerNode) {
        this.rates = rates;
        this.replicas = replicas;
        this.ranks = ranks;
        this.tensor = tensor;
        this.devicesPerNode = devicesPerNode;
        long devices = (long) replicas * ranks * tensor;
        this.size = new RandomFaults.Size(devices, (devices + devicesPerNode - 1) / devicesPerNode);
        this.kinds = rates.rates().stream().map(RandomFaults.Rate::kind).toArray(RandomFaults.Kind[]::new);
        this.perKind = new double[kinds.length];
        double sum = 0;
        for (int i = 0; i < kinds.length; i++) {
            perKind[i] = rates.perSecond(kinds[i], size);
            sum += perKind[i];
        }
        this.total = sum;
        this.random = new SplittableRandom(rates.seed());
    }

    public RandomFaults rates() { return rates; }

    /** The devices and nodes the rates act on. */
    public RandomFaults.Size size() { return size; }

    /** The next interruption (none, +Infinity moment, when no kind has a rate). */
    public Draw next() {
        if (!(total > 0)) return new Draw(next++, Double.POSITIVE_INFINITY, null, 0, 0, 0);
        // inverse-transform sampling of the exponential gap; 1 - u is in (0, 1], so the log is finite
        now += -Math.log(1.0 - random.nextDouble()) / total;
        double pick = random.nextDouble() * total;
        int k = 0;
        while (k < kinds.length - 1 && pick >= perKind[k]) pick -= perKind[k++];
        RandomFaults.Kind kind = kinds[k];
        long stages = (long) replicas * ranks;
        long unit;
        long stage;
        switch (kind.level()) {
            case DEVICE -> {
                unit = random.nextLong(size.devices());
                stage = unit / tensor;
            }
            case NODE -> {
                unit = random.nextLong(size.nodes());
                stage = Math.min(stages - 1, unit * devicesPerNode / tensor);
            }
            default -> {
                unit = 0;
                stage = random.nextLong(stages);
            }
        }
        return new Draw(next++, now, kind, unit, (int) (stage / ranks), (int) (stage % ranks));
    }

    /** Every interruption before {@code seconds}, from a fresh sequence (a test's view of the whole list). */
    public static List<Draw> until(RandomFaults rates, int replicas, int ranks, int tensor, int devicesPerNode, double seconds) {
        FaultDraws d = new FaultDraws(rates, replicas, ranks, tensor, devicesPerNode);
        List<Draw> out = new ArrayList<>();
        for (Draw x = d.next(); x.atSeconds() < seconds; x = d.next()) out.add(x);
        return out;
    }
}
