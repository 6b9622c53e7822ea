package dev.pipelab.schedule;


import java.util.ArrayList;
import java.util.List;

/**
 * The analytic evaluator: list-schedules every action of one training step and returns its exact
 * {@link Timeline}. Invariant: each rank runs its actions strictly in the schedule's order, and an action
 * starts at {@code max(rank free, input arrived, credit granted)} — the same rule the actor runtime applies,
 * so a fault-free virtual-time run must reproduce this timeline bit for bit.
 *
 * <p>The rules, in the order they apply (docs/architecture.md, Time travels in messages and One step as data):
 * <ul>
 *   <li><b>Inputs.</b> F of stage k &gt; 0 needs the activation of F(k-1) of the same micro-batch; B of stage
 *       k &lt; S-1 needs the input gradient of B(k+1). W and R need only their own rank's earlier actions.
 *       A message between stages on the same rank arrives when its producer ends.</li>
 *   <li><b>Links.</b> Each ordered rank pair is a FIFO link carrying messages in the sender's action order. A
 *       transfer starts at {@code max(link free, producer end)}, occupies the link for
 *       {@code bytes / bandwidth} and arrives {@code latency} after that.</li>
 *   <li><b>Credit.</b> A link's receiver buffers at most {@code linkBuffer} messages: the action producing
 *       message n on a link may start only once the consumer of message n - linkBuffer on that link has
 *       started (taken its message out of the buffer). Time lost waiting only for credit is the link's stall.</li>
 *   <li><b>Gradients.</b> When a stage's last backward action ends, its data-parallel all-reduce runs on the
 *       rank's collective channel (FIFO, in order of completion; it overlaps the rank's remaining compute).
 *       The rank's optimizer step starts when the rank is idle and its all-reduces are done.</li>
 * </ul>
 * A schedule that cannot make progress (no runnable action on any rank) raises {@link DeadlockException}
 * naming each stuck action and what it waits for. The schedule must be structurally valid
 * ({@link ScheduleValidator}); the evaluator does not repeat those checks beyond what it needs.
 */
public final class Evaluator {

    /** Receiver buffer size meaning "unbounded". */
    public static final int UNBOUNDED = Integer.MAX_VALUE;

    private static final byte F = 0, B = 1, W = 2, R = 3;

    private Evaluator() {}

    /** Evaluates with unbounded link buffers. */
    public static Timeline evaluate(Schedule schedule, List<StageCost> stages, Network network) {
        return evaluate(schedule, stages, network, UNBOUNDED);
    }

    /**
     * Evaluates one step.
     *
     * @param stages      one cost per model stage ({@code schedule.stages()} entries)
     * @param linkBuffer  messages a link's receiver can hold, ≥ 1, or {@link #UNBOUNDED}
     */
    public static Timeline evaluate(Schedule schedule, List<StageCost> stages, Network network, int linkBuffer) {
        return compile(schedule).evaluate(stages, network, linkBuffer);
    }

    /** Flattens a schedule once, to evaluate it with many cost variants. */
    public static CompiledSchedule compile(Schedule schedule) {
        return new CompiledSchedule(schedule);
    }

    /**
     * Peak memory (static bytes plus the peak of live activation bytes) of every rank. It depends only on each
     * rank's order of actions, not on timing, so it is exact without list scheduling: search uses it to reject
     * plans that cannot fit before timing them.
     */
    public static long[] peakMemory(Schedule schedule, List<StageCost> stages) {
        return compile(schedule).peakMemory(stages);
    }

    /** What is live on {@code rank} at its peak memory ({@link CompiledSchedule#peakLive}). */
    public static CompiledSchedule.PeakLive peakLive(Schedule schedule, List<StageCost> stages, int rank) {
        return compile(schedule).peakLive(stages, rank);
    }

    static List<String> stuck(Schedule schedule, int[] rowStart, int[] next, boolean[] needsInput, int[] sendLink,
                                      int[] sendSeq, int[][] consumerOfMessage, List<int[]> linkPairs, int linkBuffer,
                                      byte[] kind, int[] stageOf, int[] mbOf, boolean[] started, boolean[] arrived, int n) {
        List<String> out = new ArrayList<>();
        for (int r = 0; r < schedule.ranks(); r++) {
            int i = next[r];
            if (i >= rowStart[r + 1]) continue;
            String what = describe(kind[i], stageOf[i], mbOf[i]);
            String why;
            if (needsInput[i] && !arrived[i]) {
                why = kind[i] == F
                        ? "waits for the activation of " + describe(F, stageOf[i] - 1, mbOf[i])
                        : "waits for the gradient of " + describe(B, stageOf[i] + 1, mbOf[i]);
                int l = sendLink[i];
                if (l >= 0 && linkBuffer != UNBOUNDED && sendSeq[i] >= linkBuffer) {
                    int c = consumerOfMessage[l][sendSeq[i] - linkBuffer];
                    if (!started[c]) why += " (and for credit)";
                }
            } else {
                int l = sendLink[i];
                int c = consumerOfMessage[l][sendSeq[i] - linkBuffer];
                int[] pair = linkPairs.get(l);
                why = "waits for credit on link " + pair[0] + "->" + pair[1] + " (buffer " + linkBuffer
                        + " full until " + describe(kind[c], stageOf[c], mbOf[c]) + " starts)";
            }
            out.add("rank " + r + " action #" + (i - rowStart[r]) + " " + what + ": " + why);
        }
        return out;
    }

    static String describe(byte kind, int stage, int mb) {
        return Integer.toString(stage) + Action.Kind.values()[kind] + mb;
    }
}
