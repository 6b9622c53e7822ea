package dev.pipelab.schedule;

import java.util.Arrays;

/**
 * Which rank holds which model stage. Invariant: every rank holds exactly {@code virtualStages} of the
 * {@code ranks · virtualStages} model stages; a rank's chunks are its stages in ascending order, so chunk c of rank r
 * is the c-th smallest stage index on r.
 *
 * <p>Two placements have names. {@code loop} is Megatron's interleaved placement: stage k on rank {@code k % p}, so
 * a micro-batch loops p → 0 between chunks (Narayanan et al. 2021, §2.2). {@code v} puts two stages on each rank as
 * a V: stage k on rank k for k < p and on rank {@code 2p-1-k} after, so the first and the last stage share rank 0
 * and the turn at the bottom of the V stays on rank p-1 (Qi et al. 2024, "Pipeline Parallelism with Controllable
 * Memory", §3; DeepSeek-V3's DualPipeV; PyTorch's {@code torch.distributed.pipelining} calls it the "v" style).
 * Any other assignment is {@code custom} (a schedule file can name one); stage 0 is always on rank 0, where the data
 * loader's offsets go.
 */
public final class StagePlacement {

    private final String name;
    private final int ranks;
    private final int virtualStages;
    private final int[] rankOfStage;
    private final int[] chunkOfStage;
    private final int[][] stagesOfRank;

    private StagePlacement(String name, int ranks, int[] rankOfStage) {
        if (ranks < 1) throw new IllegalArgumentException("ranks must be >= 1, got " + ranks);
        if (rankOfStage.length == 0 || rankOfStage.length % ranks != 0) {
            throw new IllegalArgumentException("a placement needs a multiple of " + ranks + " stages, got " + rankOfStage.length);
        }
        if (rankOfStage[0] != 0) {
            // the data loader feeds rank 0 (Pipeline hands the step's offsets to rank 0), so the first stage lives there
            throw new IllegalArgumentException("stage 0 must be on rank 0, got rank " + rankOfStage[0]);
        }
        int v = rankOfStage.length / ranks;
        int[] held = new int[ranks];
        int[][] stages = new int[ranks][v];
        int[] chunk = new int[rankOfStage.length];
        for (int k = 0; k < rankOfStage.length; k++) {
            int r = rankOfStage[k];
            if (r < 0 || r >= ranks) throw new IllegalArgumentException("stage " + k + " placed on rank " + r + ", expected [0, " + ranks + ")");
            if (held[r] == v) throw new IllegalArgumentException("rank " + r + " holds more than " + v + " stages (every rank holds the same number)");
            chunk[k] = held[r];
            stages[r][held[r]++] = k;
        }
        this.name = name;
        this.ranks = ranks;
        this.virtualStages = v;
        this.rankOfStage = rankOfStage;
        this.chunkOfStage = chunk;
        this.stagesOfRank = stages;
    }

    /** Megatron's loop: stage k on rank k % p. */
    public static StagePlacement loop(int ranks, int virtualStages) {
        if (virtualStages < 1) throw new IllegalArgumentException("virtualStages must be >= 1, got " + virtualStages);
        int[] rank = new int[ranks * virtualStages];
        for (int k = 0; k < rank.length; k++) rank[k] = k % ranks;
        return new StagePlacement("loop", ranks, rank);
    }

    /** The V: two stages per rank, stage k on rank k for k < p, on rank 2p-1-k after. */
    public static StagePlacement vShape(int ranks) {
        int[] rank = new int[2 * ranks];
        for (int k = 0; k < rank.length; k++) rank[k] = k < ranks ? k : 2 * ranks - 1 - k;
        return new StagePlacement("v", ranks, rank);
    }

    /**
     * The placement that puts stage k on rank {@code rankOfStage[k]}: named {@code loop} or {@code v} when it is one
     * of those, {@code custom} otherwise.
     *
     * @throws IllegalArgumentException when a rank is out of range or the ranks do not hold equally many stages
     */
    public static StagePlacement of(int ranks, int[] rankOfStage) {
        int[] copy = rankOfStage.clone();
        StagePlacement custom = new StagePlacement("custom", ranks, copy);
        StagePlacement loop = loop(ranks, custom.virtualStages);
        if (Arrays.equals(copy, loop.rankOfStage)) return loop;
        if (custom.virtualStages == 2 && Arrays.equals(copy, vShape(ranks).rankOfStage)) return vShape(ranks);
        return custom;
    }

    /** {@code loop}, {@code v} or {@code custom}. */
    public String name() { return name; }

    public int ranks() { return ranks; }

    public int virtualStages() { return virtualStages; }

    public int stages() { return rankOfStage.length; }

    /** The rank that holds model stage {@code stage}. */
    public int rankOf(int stage) { return rankOfStage[stage]; }

    /** The index of {@code stage} among its rank's stages in ascending order. */
    public int chunkOf(int stage) { return chunkOfStage[stage]; }

    /** Chunk {@code chunk} of rank {@code rank}. */
    public int stageOf(int rank, int chunk) { return stagesOfRank[rank][chunk]; }

    /** The stages of every rank as text, {@code 0,1,1,0} (stage k's rank at position k). */
    public String ranksText() {
        StringBuilder out = new StringBuilder();
        for (int k = 0; k < rankOfStage.length; k++) {
            if (k > 0) out.append(',');
            out.append(rankOfStage[k]);
        }
        return out.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StagePlacement other && ranks == other.ranks && Arrays.equals(rankOfStage, other.rankOfStage);
    }

    @Override
    public int hashCode() {
        return 31 * ranks + Arrays.hashCode(rankOfStage);
    }

    @Override
    public String toString() {
        return name.equals("custom") ? "custom(" + ranksText() + ")" : name;
    }
}
