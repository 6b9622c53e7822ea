package dev.pipelab.fault;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Resolves the seeded choices {@code one}, {@code all} and {@code percent:N} to concrete targets of the fault's kind,
 * the same for the same seed and run shape: the candidates, in a fixed order ({@link #candidates}), are shuffled by a
 * {@link SplittableRandom} seeded with the fault's seed, and the first k are taken (one; all; ceil(N% of them), at
 * least one), listed in candidate order. Each becomes a fault of its own with the entry's {@code where}.
 */
public final class FaultChoice {

    private FaultChoice() {}

    /** Every fault with its choice resolved, in the given order (a concrete fault stays as it is). */
    public static List<Fault> resolve(List<Fault> faults, RunShape shape) {
        List<Fault> out = new ArrayList<>();
        for (Fault f : faults) out.addAll(resolve(f, shape));
        return List.copyOf(out);
    }

    /** One fault's concrete faults: itself when concrete, else one per chosen target. */
    public static List<Fault> resolve(Fault fault, RunShape shape) {
        if (!(fault.target() instanceof FaultTarget.Choice choice)) return List.of(fault);
        List<FaultTarget> candidates = candidates(fault.kind().target(), shape);
        if (candidates.isEmpty()) {
            throw new IllegalArgumentException(fault.where() + ": no " + fault.kind().target().name().toLowerCase(Locale.ROOT)
                    + " to choose from (FaultCheck reports this first)");
        }
        int n = candidates.size();
        int k = switch (choice.mode()) {
            case ONE -> 1;
            case ALL -> n;
            // ceil(percent·n/100) in integers, so 10% of 30 is exactly 3
            case PERCENT -> Math.max(1, (int) ((choice.percent() * (long) n + 99) / 100));
        };
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        SplittableRandom random = new SplittableRandom(fault.seed());
        for (int i = n - 1; i > 0; i--) { // Fisher–Yates
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        boolean[] chosen = new boolean[n];
        for (int i = 0; i < k; i++) chosen[order[i]] = true;
        List<Fault> out = new ArrayList<>(k);
        for (int i = 0; i < n; i++) if (chosen[i]) out.add(fault.on(candidates.get(i)));
        return List.copyOf(out);
    }

    /**
     * The targets a kind of class {@code target} can hit in the run, in a fixed order: stages by (replica, rank); links
     * as the run's pipeline links in (replica, from, to) order, then, with several replicas, the ring links by
     * (replica, rank); nodes 0..workers-1 (none before the workers are known).
     */
    public static List<FaultTarget> candidates(FaultKind.Target target, RunShape shape) {
        List<FaultTarget> out = new ArrayList<>();
        switch (target) {
            case STAGE -> {
                for (int x = 0; x < shape.replicas(); x++) {
                    for (int r = 0; r < shape.ranks(); r++) out.add(new FaultTarget.Stage(x, r));
                }
            }
            case LINK -> {
                out.addAll(shape.links().stream().sorted(Comparator.comparingInt(FaultTarget.Link::replica)
                        .thenComparingInt(FaultTarget.Link::fromRank).thenComparingInt(FaultTarget.Link::toRank)).toList());
                if (shape.rings()) {
                    for (int x = 0; x < shape.replicas(); x++) {
                        for (int r = 0; r < shape.ranks(); r++) out.add(new FaultTarget.Ring(x, r));
                    }
                }
            }
            case NODE -> {
                for (int w = 0; w < shape.workers(); w++) out.add(new FaultTarget.Node(w));
            }
        }
        return out;
    }
}
