package dev.pipelab.numerics;

import dev.pipelab.model.Recompute;
import org.ejml.data.DMatrixRMaj;

import java.util.HashMap;
import java.util.Map;

/**
 * The activations one stage keeps between a micro-batch's F and its B/W, per recomputation policy. Invariant:
 * after F, {@code none} keeps every layer's forward state, {@code selective} keeps it without the attention
 * probabilities, {@code full} keeps only the stage input (and, on the last stage, the targets); an entry leaves
 * the stash when its weight gradient is taken.
 *
 * <p>Selective on an MLP: an MLP has no attention core, so nothing is shed and R only marks the entry ready —
 * it behaves like {@code none} (Korthikanti et al. 2022 define selective recomputation for the attention core
 * only). Under {@code full} the last stage also recomputes its loss gradient in R from the kept targets. In split
 * schedules an entry keeps the whole forward state until W, although W needs only each layer's input and output
 * gradient: a memory refinement left for later, which does not affect the numerics.
 */
public final class StageStash {

    /** One micro-batch's stash entry. {@code activations} is absent (input only) under full recomputation. */
    public static final class Entry {
        private final DMatrixRMaj input;
        private final DMatrixRMaj targets;
        private boolean selectivelyShed;
        private StageShard.Activations activations;
        private DMatrixRMaj lossGradient;
        private StageShard.InputGradients inputGradients;

        Entry(DMatrixRMaj input, DMatrixRMaj targets) {
            this.input = input;
            this.targets = targets;
        }

        public DMatrixRMaj input() { return input; }

        /** Whether the forward state is complete enough for B (after F under none, after R otherwise). */
        public boolean ready() {
            return activations != null && activations.complete() && !selectivelyShed;
        }
    }

    private final Recompute policy;
    private final Map<Integer, Entry> entries = new HashMap<>();
    private int peak;
    private int awaitingBackward;
    private int peakAwaitingBackward;

    public StageStash(Recompute policy) {
        this.policy = policy;
    }

    public Recompute policy() { return policy; }

    /** Micro-batches currently stashed. */
    public int size() { return entries.size(); }

    /** The most micro-batches stashed at once so far (awaiting B or, in split schedules, awaiting W). */
    public int peak() { return peak; }

    /**
     * The most micro-batches in flight at once, forwarded but not yet through B: what 1F1B's min(m, p − s)
     * bounds. Split schedules also keep B's results until W (each layer's input and output gradient), counted in
     * {@link #peak()} only.
     */
    public int peakAwaitingBackward() { return peakAwaitingBackward; }

    /** Stashes micro-batch {@code mb} after F, dropping what the policy recomputes. */
    void afterForward(int mb, StageShard shard, StageShard.Activations a, DMatrixRMaj targets, DMatrixRMaj lossGradient) {
        if (entries.containsKey(mb)) throw new IllegalStateException("stage " + shard.stage() + ": micro-batch " + mb + " forwarded twice");
        Entry e = new Entry(a.input(), targets);
        switch (policy) {
            case NONE -> {
                e.activations = a;
                e.lossGradient = lossGradient;
            }
            case SELECTIVE -> {
                e.activations = shard.shed(a);
                e.selectivelyShed = true;
                e.lossGradient = lossGradient;
            }
            case FULL -> { /* input (and targets) only */ }
        }
        entries.put(mb, e);
        peak = Math.max(peak, entries.size());
        awaitingBackward++;
        peakAwaitingBackward = Math.max(peakAwaitingBackward, awaitingBackward);
    }

    /** R: rebuilds the forward state the policy dropped; a no-op under {@code none}. */
    void recompute(int mb, StageShard shard, int microBatches, int replicas) {
        Entry e = entry(mb, shard, "R");
        switch (policy) {
            case NONE -> { }
            case SELECTIVE -> {
                e.activations = shard.restore(e.activations);
                e.selectivelyShed = false;
            }
            case FULL -> {
                e.activations = shard.forward(e.input);
                if (shard.isLast()) {
                    e.lossGradient = shard.loss(e.activations.output(), e.targets, microBatches, replicas).outputGradient();
                }
            }
        }
    }

    Entry entry(int mb, StageShard shard, String action) {
        Entry e = entries.get(mb);
        if (e == null) throw new IllegalStateException("stage " + shard.stage() + ": " + action + " of micro-batch " + mb + " before its F");
        return e;
    }

    StageShard.Activations activationsForBackward(int mb, StageShard shard) {
        Entry e = entry(mb, shard, "B");
        if (!e.ready()) {
            throw new IllegalStateException("stage " + shard.stage() + ": B of micro-batch " + mb + " under recompute="
                    + policy.scenarioName() + " needs an R first (use Schedule.withRecompute())");
        }
        return e.activations;
    }

    DMatrixRMaj lossGradient(int mb, StageShard shard) {
        return entry(mb, shard, "B").lossGradient;
    }

    void afterBackward(int mb, StageShard shard, StageShard.InputGradients g, boolean keepForWeight) {
        Entry e = entry(mb, shard, "B");
        awaitingBackward--;
        if (keepForWeight) {
            e.inputGradients = g;
            e.lossGradient = null;
        } else {
            entries.remove(mb);
        }
    }

    Entry forWeight(int mb, StageShard shard) {
        Entry e = entry(mb, shard, "W");
        if (e.inputGradients == null) throw new IllegalStateException("stage " + shard.stage() + ": W of micro-batch " + mb + " before its B");
        return e;
    }

    StageShard.Activations activations(Entry e) { return e.activations; }

    StageShard.InputGradients inputGradients(Entry e) { return e.inputGradients; }

    void remove(int mb) { entries.remove(mb); }
}
