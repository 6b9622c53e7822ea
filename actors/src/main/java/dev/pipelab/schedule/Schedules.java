package dev.pipelab.schedule;

import java.util.ArrayList;
import java.util.List;

/**
 * Every schedule generated here passes {@link ScheduleValidator}: each stage runs exactly m forwards and m
 * backwards (plus m weight passes when the backward is split), in an order every rank can execute.
 *
 * <p>Schedule generators, each reading like the algorithm on paper: named phases (warm-up, steady state,
 * cool-down), one list of actions per rank.
 */
public final class Schedules {

    private Schedules() {}

    /**
     * GPipe (Huang et al. 2019): every rank runs all m forwards, then all m backwards. Each stage stashes
     * all m micro-batches; bubble (p-1)/(m+p-1) with uniform stages and free links.
     */
    public static Schedule gpipe(int p, int m) {
        List<List<Action>> rows = new ArrayList<>(p);
        for (int s = 0; s < p; s++) {
            List<Action> row = new ArrayList<>(2 * m);
            for (int mb = 0; mb < m; mb++) row.add(Action.f(s, mb));
            for (int mb = 0; mb < m; mb++) row.add(Action.b(s, mb));
            rows.add(row);
        }
        return new Schedule("gpipe", p, 1, m, false, rows);
    }

    /**
     * 1F1B, the PipeDream-Flush schedule (Narayanan et al. 2021, §2.2): stage s warms up with
     * min(m, p-s-1) forwards, then alternates one forward and one backward, then drains the remaining
     * backwards. At most min(m, p-s) micro-batches are in flight on stage s; same bubble as GPipe.
     */
    public static Schedule oneFOneB(int p, int m) {
        List<List<Action>> rows = new ArrayList<>(p);
        for (int s = 0; s < p; s++) {
            int warmup = Math.min(m, p - s - 1);
            List<Action> row = new ArrayList<>(2 * m);
            // warm-up: forwards only
            for (int mb = 0; mb < warmup; mb++) row.add(Action.f(s, mb));
            // steady state: one forward, one backward
            for (int i = 0; i < m - warmup; i++) {
                row.add(Action.f(s, warmup + i));
                row.add(Action.b(s, i));
            }
            // cool-down: the backwards still owed
            for (int mb = m - warmup; mb < m; mb++) row.add(Action.b(s, mb));
            rows.add(row);
        }
        return new Schedule("1f1b", p, 1, m, false, rows);
    }

    /**
     * Megatron's interleaved 1F1B (Narayanan et al. 2021, §2.2, "depth-first" order; Megatron-LM
     * {@code forward_backward_pipelining_with_interleaving}). Rank r holds v model chunks; chunk c of rank r is
     * model stage {@code c·p + r}. A rank walks m·v "virtual micro-batches": groups of p micro-batches go
     * through chunk 0, then the same p through chunk 1, ..., then the next group; backwards walk the chunks in
     * reverse. Rank r warms up with {@code (p - r - 1)·2 + (v - 1)·p} forwards (capped at m·v), then
     * alternates one forward and one backward, then drains the backwards still owed. With uniform stages and
     * free links the idle fraction is (p-1)/(v·m + p-1): the 1F1B bubble shrunk v times.
     *
     * @throws IllegalArgumentException unless {@code p >= 1}, {@code v >= 2}, {@code m >= 1} and m is a
     *         multiple of p (Megatron's requirement: micro-batches go through each chunk in groups of p)
     */
    public static Schedule interleaved(int p, int v, int m) {
        requireShape(p, m);
        if (v < 2) {
            throw new IllegalArgumentException("interleaved needs virtualStages >= 2, got " + v
                    + " (use 1f1b for one stage per rank)");
        }
        if (m % p != 0) {
            throw new IllegalArgumentException("interleaved needs microBatches (" + m
                    + ") to be a multiple of pipeline (" + p + ")");
        }
        int total = m * v;
        List<List<Action>> rows = new ArrayList<>(p);
        for (int r = 0; r < p; r++) {
            int warmup = Math.min((p - r - 1) * 2 + (v - 1) * p, total);
            List<Action> row = new ArrayList<>(2 * total);
            // warm-up: forwards only
            for (int k = 0; k < warmup; k++) row.add(interleavedForward(p, v, r, k));
            // steady state: one forward, one backward
            for (int k = 0; k < total - warmup; k++) {
                row.add(interleavedForward(p, v, r, warmup + k));
                row.add(interleavedBackward(p, v, r, k));
            }
            // cool-down: the backwards still owed
            for (int k = total - warmup; k < total; k++) row.add(interleavedBackward(p, v, r, k));
            rows.add(row);
        }
        return new Schedule("interleaved", p, v, m, false, rows);
    }

    /** The k-th forward of rank r: chunk {@code (k mod p·v) / p}, micro-batch {@code (k / p·v)·p + k mod p}. */
    private static Action interleavedForward(int p, int v, int r, int k) {
        int chunk = (k % (p * v)) / p;
        return Action.f(chunk * p + r, virtualMicroBatch(p, v, k));
    }

    /** The k-th backward of rank r: like the forward, but the chunks in reverse (the last chunk first). */
    private static Action interleavedBackward(int p, int v, int r, int k) {
        int chunk = v - 1 - (k % (p * v)) / p;
        return Action.b(chunk * p + r, virtualMicroBatch(p, v, k));
    }

    private static int virtualMicroBatch(int p, int v, int k) {
        return (k / (p * v)) * p + k % p;
    }

    /**
     * ZB-H1, the handcrafted zero-bubble schedule with 1F1B's memory (Qi et al. 2023, "Zero Bubble Pipeline
     * Parallelism", ICLR 2024, §2.1 and Figure 3 top; DeepSpeed/Megatron-DeepSpeed {@code ZeroBubbleH1Pipeline}).
     * The backward is split into B (input gradient, on the critical path) and W (weight gradient, deferrable).
     * Stage i runs steps {@code (F x, B x-(p-1-i), W x-(p-1))} for x = 0, 1, ..., skipping the indices outside
     * [0, m): warm-up p-1-i forwards, then i forward/backward pairs with W held back, a steady F-B-W state,
     * a cool-down of p-1-i B-W pairs and finally the i weight passes held back.
     *
     * <p>The paper's statements, as the evaluator measures them (SchedulesEvaluatedTest, ZeroBubbleHandcraftedTest):
     * <ul>
     *   <li>memory: F..B at most min(m, p-i) micro-batches on stage i, as 1F1B; F..W (the stash lives until W,
     *       {@link StageCost}) min(m, p) on every stage, 1F1B's peak and no more (§2.1 and §2's comparison table:
     *       pM_B). Holds for any times: it depends on the order only.</li>
     *   <li>bubble: every rank idles exactly (p-1)(T_F + T_B - T_W) in a step (§2's comparison table) when
     *       T_comm = 0 and T_W <= min(T_F, T_B), for every m >= p. The paper derives it with T_F = T_B = T_W (§2);
     *       outside the condition the W held back no longer fit the gaps and the idle time is
     *       (p-1)(T_F + T_B - min(T_W, T_F, T_B)); with T_comm > 0 each round trip adds more. Unequal times and
     *       T_comm are what the automatic schedules ({@link ZeroBubbleAuto}, §3) are for; the paper's handcrafted
     *       order is kept as it is.</li>
     * </ul>
     */
    public static Schedule zbH1(int p, int m) {
        requireShape(p, m);
        List<List<Action>> rows = new ArrayList<>(p);
        for (int i = 0; i < p; i++) rows.add(zeroBubbleRow(i, m, p - 1 - i, p - 1));
        return new Schedule("zb-h1", p, 1, m, true, rows);
    }

    /**
     * ZB-H2, the handcrafted zero-bubble schedule with about twice 1F1B's memory (Qi et al. 2023, §2.2 and
     * Figure 3 bottom). Stage i runs steps {@code (F x, B x-2(p-1-i), W x-2(p-1))}: 2(p-1-i) warm-up forwards
     * (the paper's extra forwards, filling the time until the first B comes back when T_F = T_B) and the weight
     * passes held back on later stages run at the tail, turning 1F1B's trapezoid into a parallelogram.
     *
     * <p>The paper's statements, as the evaluator measures them (SchedulesEvaluatedTest, ZeroBubbleHandcraftedTest):
     * <ul>
     *   <li>memory: F..B at most min(m, 2(p-1-i)+1) on stage i, 2p-1 on stage 0 (§2.2 and §2's table:
     *       (2p-1)M_B); F..W min(m, 2p-1) on every stage. Holds for any times.</li>
     *   <li>bubble: the longest stage span (first F to last W, the bubble of the paper's repeated steps with
     *       optimizer post-validation, §4) exceeds a stage's work by exactly (p-1)(T_F + T_B - 2T_W) (§2's table)
     *       when T_comm = 0, T_W <= min(T_F, T_B) and m >= 2p-1; with T_F = T_B = T_W that is zero: no stage
     *       idles between its first and its last action. One isolated step still pays the (p-1)·T_F fill.</li>
     * </ul>
     */
    public static Schedule zbH2(int p, int m) {
        requireShape(p, m);
        List<List<Action>> rows = new ArrayList<>(p);
        for (int i = 0; i < p; i++) rows.add(zeroBubbleRow(i, m, 2 * (p - 1 - i), 2 * (p - 1)));
        return new Schedule("zb-h2", p, 1, m, true, rows);
    }

    /**
     * One stage of a zero-bubble schedule: steps x = 0 .. m+lagW-1, each {@code F x, B x-lagB, W x-lagW}
     * with the micro-batches outside [0, m) left out. The phases follow from the lags (lagB <= lagW):
     * warm-up (F only) while x < lagB, F-B while x < lagW, steady F-B-W while x < m, then B-W, then W only.
     */
    private static List<Action> zeroBubbleRow(int stage, int m, int lagB, int lagW) {
        List<Action> row = new ArrayList<>(3 * m);
        for (int x = 0; x < m + lagW; x++) {
            if (x < m) row.add(Action.f(stage, x));
            if (x - lagB >= 0 && x - lagB < m) row.add(Action.b(stage, x - lagB));
            if (x - lagW >= 0) row.add(Action.w(stage, x - lagW));
        }
        return row;
    }

    /**
     * Scenario names accepted by {@link #byName}, in the order the docs list them. {@code zb-1p} and {@code zb-2p}
     * ({@link ZeroBubbleAuto}) are built from profiled pass times and need the overload that takes them.
     */
    public static final List<String> NAMES = List.of("gpipe", "1f1b", "interleaved", "zb-h1", "zb-h2", "zb-1p", "zb-2p",
            "zb-v", "dualpipev");

    /** The schedules that place two model stages on each rank as a V ({@link VSchedules}); they need v = 2. */
    public static final List<String> V_SHAPED = List.of("zb-v", "dualpipev");

    /** Whether the named schedule is built from profiled pass times ({@link #byName(String, int, int, int, PassTimes)}). */
    public static boolean needsTimes(String name) {
        return ZeroBubbleAuto.NAMES.contains(name);
    }

    /**
     * The schedule a scenario names: one of {@link #NAMES} except those that need pass times. {@code v} must be
     * 1 except for {@code interleaved}, which needs v >= 2, and the V-shaped {@code zb-v} and {@code dualpipev},
     * which need v = 2.
     *
     * @throws IllegalArgumentException naming what was expected and what came, for an unknown name, a name that
     *         needs profiled times, or a bad (p, v, m) combination
     */
    public static Schedule byName(String name, int p, int v, int m) {
        if (needsTimes(name)) {
            throw new IllegalArgumentException(name + " is built from profiled pass times (T_F, T_B, T_W, T_comm): "
                    + "call byName(name, p, v, m, times)");
        }
        return byName(name, p, v, m, null);
    }

    /**
     * As {@link #byName(String, int, int, int)}, and also {@code zb-1p} and {@code zb-2p}, which the automatic
     * zero-bubble scheduler builds for {@code times}; other names ignore {@code times}.
     *
     * @throws IllegalArgumentException as the 4-argument form, and for zb-1p or zb-2p without times
     */
    public static Schedule byName(String name, int p, int v, int m, PassTimes times) {
        if (name == null || !NAMES.contains(name)) {
            throw new IllegalArgumentException("unknown schedule '" + name + "': expected one of " + String.join(", ", NAMES));
        }
        requireShape(p, m);
        if (name.equals("interleaved")) return interleaved(p, v, m);
        if (V_SHAPED.contains(name)) {
            if (v != 2) {
                throw new IllegalArgumentException(name + " needs virtualStages 2 (two stages per rank, placed as a V), got " + v);
            }
            return name.equals("zb-v") ? VSchedules.zbV(p, m) : VSchedules.dualPipeV(p, m);
        }
        if (v != 1) {
            throw new IllegalArgumentException(name + " needs virtualStages 1, got " + v + " (only interleaved, zb-v and dualpipev use v >= 2)");
        }
        if (needsTimes(name) && times == null) {
            throw new IllegalArgumentException(name + " needs profiled pass times (T_F, T_B, T_W, T_comm)");
        }
        return switch (name) {
            case "gpipe" -> gpipe(p, m);
            case "1f1b" -> oneFOneB(p, m);
            case "zb-h1" -> zbH1(p, m);
            case "zb-h2" -> zbH2(p, m);
            case "zb-1p" -> ZeroBubbleAuto.zb1p(p, m, times);
            default -> ZeroBubbleAuto.zb2p(p, m, times);
        };
    }

    private static void requireShape(int p, int m) {
        if (p < 1) throw new IllegalArgumentException("pipeline (ranks) must be >= 1, got " + p);
        if (m < 1) throw new IllegalArgumentException("microBatches must be >= 1, got " + m);
    }
}
