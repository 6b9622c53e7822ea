package dev.pipelab.schedule;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * Every schedule generated here passes {@link ScheduleValidator} and sits on the V placement
 * ({@link StagePlacement#vShape}): rank r holds model stages r and 2p-1-r, so a micro-batch goes down the ranks
 * through the first half of the model and back up through the second, and the last stage's loss is computed on
 * rank 0, beside the first stage.
 *
 * <p>Both generators follow PyTorch's {@code torch.distributed.pipelining} ({@code ScheduleZBVZeroBubble} and
 * {@code ScheduleDualPipeV} in {@code schedules.py}) phase by phase, so that a schedule written by
 * {@code pipelab schedule --format pytorch-csv} is the one PyTorch runs. The backward is split (B = input
 * gradient, W = weight gradient).
 */
public final class VSchedules {

    private VSchedules() {}

    /**
     * ZB-V (Qi et al. 2024, "Pipeline Parallelism with Controllable Memory", §4 and Figure 6; the ZB-V schedule of
     * the zero-bubble authors' repository; PyTorch's {@code ScheduleZBVZeroBubble}). With T_F = T_B = T_W it has
     * the peak activation memory of 1F1B (2p chunks of half a stage on rank 0, that is p stage micro-batches) and no
     * bubble between a rank's first and last action once m >= 2p-1.
     *
     * <p>Rank r, with chunk 0 = stage r and chunk 1 = stage 2p-1-r, runs: 2(p-r)-1 forwards of chunk 0; r pairs
     * (F chunk 1, F chunk 0); p-r triples (F, B, W of chunk 1); then a steady state of (F chunk 0, B W chunk 0,
     * F chunk 1, B W chunk 1) while forwards remain; then r pairs of backwards (B chunk 0, B chunk 1) with their
     * weight passes held back; then p-r (B chunk 0, W chunk 0); then every held-back W, chunk 1 first. The
     * construction counts max(m, 2p-1) micro-batches and drops the actions of those beyond m, as PyTorch does.
     */
    public static Schedule zbV(int p, int m) {
        requireShape(p, m);
        int count = Math.max(2 * p - 1, m);
        List<List<Action>> rows = new ArrayList<>(p);
        for (int r = 0; r < p; r++) {
            int s0 = r;
            int s1 = 2 * p - 1 - r;
            Row row = new Row(m);
            int f0 = 0, f1 = 0, b0 = 0, b1 = 0;
            // warm-up: chunk 0 alone, then chunk 1 joins, then chunk 1's first backwards come back
            for (int i = 0; i < 2 * (p - r) - 1; i++) row.f(s0, f0++);
            for (int i = 0; i < r; i++) {
                row.f(s1, f1++);
                row.f(s0, f0++);
            }
            for (int i = 0; i < p - r; i++) {
                row.f(s1, f1++);
                row.b(s1, b1);
                row.w(s1, b1++);
            }
            // steady state: one forward and one whole backward of each chunk
            while (f1 < f0 || f0 < count) {
                if (f0 < count) row.f(s0, f0++);
                row.b(s0, b0);
                row.w(s0, b0++);
                row.f(s1, f1++);
                row.b(s1, b1);
                row.w(s1, b1++);
            }
            // cool-down: backwards first, their weight passes fill the tail
            int w0 = b0, w1 = b1;
            for (int i = 0; i < r; i++) {
                row.b(s0, b0++);
                row.b(s1, b1++);
            }
            for (int i = 0; i < p - r; i++) {
                row.b(s0, b0++);
                row.w(s0, w0++);
            }
            while (w1 < b1) row.w(s1, w1++);
            while (w0 < b0) row.w(s0, w0++);
            rows.add(row.actions);
        }
        return new Schedule("zb-v", p, 2, m, true, rows, StagePlacement.vShape(p));
    }

    /**
     * DualPipeV, the single-direction ("cut in half") form of DeepSeek-V3's DualPipe (DeepSeek-AI 2024,
     * "DeepSeek-V3 Technical Report", §3.2.1; deepseek-ai/DualPipe; PyTorch's {@code ScheduleDualPipeV}). Needs
     * m >= 2p (PyTorch's own requirement: at least as many micro-batches as stages).
     *
     * <p>Rank r, with chunk 0 = stage r and chunk 1 = stage 2p-1-r: 2(p-r-1) forwards of chunk 0; r+1 pairs
     * (F chunk 0, F chunk 1); p-r-1 times (B chunk 1, a held-back W, F chunk 1); m-2p+r+1 times the two overlapped
     * pairs (F chunk 0 with the whole backward of chunk 1, F chunk 1 with the whole backward of chunk 0); p-r-1
     * times (whole backward of chunk 1, F chunk 1 with the whole backward of chunk 0); r+1 pairs of backwards of
     * chunk 1 and chunk 0, which from the middle on leave their W for later (zero-bubble style); p-r-1 times
     * (a held-back W, backward of chunk 0); and the W still held back.
     *
     * <p>What the emulator does not model: DualPipe overlaps a forward and a backward of two micro-batches on two
     * CUDA streams to hide expert-parallel all-to-all traffic; here such a pair runs one after the other (F, then
     * B and W), and the whole backward of PyTorch's {@code FULL_BACKWARD} is a B directly followed by its W, so its
     * input gradient leaves after the B part, T_W earlier than a fused backward would send it.
     */
    public static Schedule dualPipeV(int p, int m) {
        requireShape(p, m);
        if (m < 2 * p) {
            throw new IllegalArgumentException("dualpipev needs microBatches >= 2 x pipeline (" + 2 * p + "), got " + m);
        }
        List<List<Action>> rows = new ArrayList<>(p);
        for (int r = 0; r < p; r++) {
            int s0 = r;
            int s1 = 2 * p - 1 - r;
            DualRow row = new DualRow(s0);
            for (int i = 0; i < 2 * (p - r - 1); i++) row.forward(s0);
            for (int i = 0; i < r + 1; i++) {
                row.forward(s0);
                row.forward(s1);
            }
            for (int i = 0; i < p - r - 1; i++) {
                row.inputBackward(s1);
                row.heldWeight();
                row.forward(s1);
            }
            for (int i = 0; i < m - 2 * p + r + 1; i++) {
                // PyTorch's OVERLAP_F_B pairs, one after the other here (see the note above)
                row.forward(s0);
                row.fullBackward(s1);
                row.forward(s1);
                row.fullBackward(s0);
            }
            for (int i = 0; i < p - r - 1; i++) {
                row.fullBackward(s1);
                row.forward(s1);
                row.fullBackward(s0);
            }
            boolean split = false;
            int half = (r + 1) / 2;
            for (int i = 0; i < r + 1; i++) {
                if (i == half && r % 2 == 1) split = true;
                row.backward(s1, split);
                if (i == half && r % 2 == 0) split = true;
                row.backward(s0, split);
            }
            for (int i = 0; i < p - r - 1; i++) {
                row.heldWeight();
                row.backward(s0, split);
            }
            for (int i = 0; i < r + 1; i++) row.heldWeight();
            rows.add(row.actions);
        }
        return new Schedule("dualpipev", p, 2, m, true, rows, StagePlacement.vShape(p));
    }

    /** A rank's row that drops the actions of micro-batches beyond m (ZB-V counts at least 2p-1 of them). */
    private static final class Row {
        final int m;
        final List<Action> actions = new ArrayList<>();

        Row(int m) { this.m = m; }

        void f(int stage, int mb) { if (mb < m) actions.add(Action.f(stage, mb)); }
        void b(int stage, int mb) { if (mb < m) actions.add(Action.b(stage, mb)); }
        void w(int stage, int mb) { if (mb < m) actions.add(Action.w(stage, mb)); }
    }

    /** A DualPipeV row: per-stage counters of forwards and backwards, and the queue of held-back weight passes. */
    private static final class DualRow {
        final List<Action> actions = new ArrayList<>();
        final int s0;
        final int[] forwards = new int[2];
        final int[] backwards = new int[2];
        final Deque<Action> heldWeights = new ArrayDeque<>();

        DualRow(int s0) {
            this.s0 = s0;
        }

        private int chunk(int stage) { return stage == s0 ? 0 : 1; }

        void forward(int stage) {
            actions.add(Action.f(stage, forwards[chunk(stage)]++));
        }

        /** B now, its W held back until {@link #heldWeight}. */
        void inputBackward(int stage) {
            int mb = backwards[chunk(stage)]++;
            actions.add(Action.b(stage, mb));
            heldWeights.addLast(Action.w(stage, mb));
        }

        /** PyTorch's FULL_BACKWARD: B and its W back to back. */
        void fullBackward(int stage) {
            int mb = backwards[chunk(stage)]++;
            actions.add(Action.b(stage, mb));
            actions.add(Action.w(stage, mb));
        }

        void backward(int stage, boolean split) {
            if (split) inputBackward(stage);
            else fullBackward(stage);
        }

        /** The oldest held-back W, if any (PyTorch's {@code add_weight_action_if_pending}). */
        void heldWeight() {
            if (!heldWeights.isEmpty()) actions.add(heldWeights.removeFirst());
        }
    }

    private static void requireShape(int p, int m) {
        if (p < 1) throw new IllegalArgumentException("pipeline (ranks) must be >= 1, got " + p);
        if (m < 1) throw new IllegalArgumentException("microBatches must be >= 1, got " + m);
    }
}
