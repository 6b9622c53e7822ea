package dev.pipelab.model;

import java.util.ArrayList;
import java.util.List;

/**
 * A contiguous assignment of decoder layers to pipeline stages. Invariant: at least one stage, every
 * stage holds at least one layer, and stage {@code i} holds layers {@code [firstLayer(i), firstLayer(i) +
 * layersPerStage(i))} — so no layer is dropped or duplicated.
 *
 * @param layersPerStage number of consecutive layers of each stage, stage 0 first
 */
public record Partition(List<Integer> layersPerStage) {

    public Partition {
        if (layersPerStage == null || layersPerStage.isEmpty()) {
            throw new IllegalArgumentException("layersPerStage must name at least one stage");
        }
        layersPerStage = List.copyOf(layersPerStage);
        for (int i = 0; i < layersPerStage.size(); i++) {
            if (layersPerStage.get(i) < 1) {
                throw new IllegalArgumentException("layersPerStage[" + i + "] must be >= 1, got "
                        + layersPerStage.get(i) + " in " + layersPerStage);
            }
        }
    }

    /**
     * {@code layers / stages} layers each; when not divisible the first {@code layers % stages} stages
     * take one more (a stage never differs from another by more than one layer). Requires
     * {@code 1 <= stages <= layers}.
     */
    public static Partition uniform(int layers, int stages) {
        requireShape(layers, stages);
        List<Integer> out = new ArrayList<>(stages);
        for (int i = 0; i < stages; i++) {
            out.add(layers / stages + (i < layers % stages ? 1 : 0));
        }
        return new Partition(out);
    }

    /**
     * The contiguous split that minimises the largest stage cost, where a stage of n layers costs
     * {@code n·layerCost}, plus {@code firstStageExtraCost} on stage 0 (embedding) and
     * {@code lastStageExtraCost} on the last stage (output layer and loss); a single stage carries both.
     *
     * <p>Exact: since every middle stage has the same cost per layer, for each size of the first and the
     * last stage the best middle is the uniform split of what remains; all O(layers²) pairs are tried.
     * Ties are broken by the largest smallest-stage cost, then by the lexicographically largest
     * {@code layersPerStage} — so with zero extras the result equals {@link #uniform}.
     */
    public static Partition balanced(int layers, int stages, double layerCost, double firstStageExtraCost,
                                     double lastStageExtraCost) {
        requireShape(layers, stages);
        if (!(layerCost > 0) || Double.isInfinite(layerCost)) {
            throw new IllegalArgumentException("layerCost must be finite and > 0, got " + layerCost);
        }
        if (!(firstStageExtraCost >= 0) || !(lastStageExtraCost >= 0)) {
            throw new IllegalArgumentException("stage extra costs must be >= 0, got first " + firstStageExtraCost
                    + ", last " + lastStageExtraCost);
        }
        if (stages == 1) return new Partition(List.of(layers));
        List<Integer> best = null;
        double bestMax = Double.POSITIVE_INFINITY;
        double bestMin = Double.NEGATIVE_INFINITY;
        int middleStages = stages - 2;
        for (int first = 1; first <= layers - (stages - 1); first++) {
            for (int last = 1; first + last + middleStages <= layers; last++) {
                int rest = layers - first - last;
                if (middleStages == 0 && rest != 0) continue;
                double firstCost = first * layerCost + firstStageExtraCost;
                double lastCost = last * layerCost + lastStageExtraCost;
                double max = Math.max(firstCost, lastCost);
                double min = Math.min(firstCost, lastCost);
                if (middleStages > 0) {
                    max = Math.max(max, Collectives.ceilDiv(rest, middleStages) * layerCost);
                    min = Math.min(min, (rest / middleStages) * layerCost);
                }
                List<Integer> candidate = null;
                if (max < bestMax || (max == bestMax && min > bestMin)) {
                    candidate = split(first, rest, middleStages, last);
                } else if (max == bestMax && min == bestMin) {
                    List<Integer> c = split(first, rest, middleStages, last);
                    if (lexicographicallyGreater(c, best)) candidate = c;
                }
                if (candidate != null) {
                    best = candidate;
                    bestMax = max;
                    bestMin = min;
                }
            }
        }
        return new Partition(best);
    }

    /**
     * Exactly the given split. Throws {@link IllegalArgumentException} naming the problem when a stage has
     * fewer than one layer or the sizes do not sum to {@code layers}.
     */
    public static Partition explicit(List<Integer> layersPerStage, int layers) {
        if (layersPerStage == null || layersPerStage.isEmpty()) {
            throw new IllegalArgumentException("partition must name at least one stage, got " + layersPerStage);
        }
        long sum = 0;
        for (int i = 0; i < layersPerStage.size(); i++) {
            Integer n = layersPerStage.get(i);
            if (n == null || n < 1) {
                throw new IllegalArgumentException("partition " + layersPerStage + ": stage " + i
                        + " must hold at least 1 layer, got " + n);
            }
            sum += n;
        }
        if (sum != layers) {
            throw new IllegalArgumentException("partition " + layersPerStage + " sums to " + sum
                    + " layers, but the model has " + layers);
        }
        return new Partition(layersPerStage);
    }

    /** Number of stages p. */
    public int stages() {
        return layersPerStage.size();
    }

    /** Total layers over all stages. */
    public int totalLayers() {
        int sum = 0;
        for (int n : layersPerStage) sum += n;
        return sum;
    }

    /** Layers held by {@code stage}. */
    public int layersOf(int stage) {
        return layersPerStage.get(checkStage(stage));
    }

    /** Index of the first layer of {@code stage} (0-based): the sum of the earlier stages' layers. */
    public int firstLayer(int stage) {
        checkStage(stage);
        int first = 0;
        for (int i = 0; i < stage; i++) first += layersPerStage.get(i);
        return first;
    }

    private int checkStage(int stage) {
        if (stage < 0 || stage >= layersPerStage.size()) {
            throw new IndexOutOfBoundsException("stage must be in [0, " + layersPerStage.size() + "), got " + stage);
        }
        return stage;
    }

    private static void requireShape(int layers, int stages) {
        if (stages < 1) throw new IllegalArgumentException("stages must be >= 1, got " + stages);
        if (layers < stages) {
            throw new IllegalArgumentException("cannot split " + layers + " layers into " + stages
                    + " stages of at least one layer");
        }
    }

    private static List<Integer> split(int first, int rest, int middleStages, int last) {
        List<Integer> out = new ArrayList<>(middleStages + 2);
        out.add(first);
        for (int i = 0; i < middleStages; i++) {
            out.add(rest / middleStages + (i < rest % middleStages ? 1 : 0));
        }
        out.add(last);
        return out;
    }

    private static boolean lexicographicallyGreater(List<Integer> a, List<Integer> b) {
        for (int i = 0; i < a.size(); i++) {
            int c = Integer.compare(a.get(i), b.get(i));
            if (c != 0) return c > 0;
        }
        return false;
    }
}
