package dev.pipelab.fault;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * When each of a run's faults acts, on the run's emulated time axis, and the windows it gives each attempt at a step.
 * A fault's injection is fixed the first time its training step {@code atStep} starts ({@code atSeconds} later), and
 * so is an explicit heal; a replay of that step after a recovery does not inject it again: a fault is an event in
 * time, not a property of the step. Invariant: the windows of an attempt depend only on the faults, the order in
 * which training steps first started and the attempt's start, so two runs of the same scenario see the same windows.
 *
 * <p>An instant fault (a crash) happens once: when it {@link #fired}, it gives no more windows; one whose moment
 * passed while no attempt ran (during a recovery) acts at the start of the next attempt (window start below 0).
 */
public final class FaultTimeline {

    private final List<Fault> faults;
    private double[] injectAt;
    private double[] healAt;
    private boolean[] fired;
    private boolean[] injectedSaid;
    private boolean[] healedSaid;
    /** Faults added while the run goes on ({@link #inject}), injected when the next attempt starts. */
    private final List<Integer> pending = new ArrayList<>();
    private int begun = -1;
    private double attemptStart;

    /** @param faults concrete faults (choices resolved), indexed as the run lists them */
    public FaultTimeline(List<Fault> faults) {
        this.faults = new ArrayList<>(faults);
        int n = faults.size();
        injectAt = new double[n];
        healAt = new double[n];
        Arrays.fill(injectAt, Double.NaN);
        Arrays.fill(healAt, Double.NaN);
        fired = new boolean[n];
        injectedSaid = new boolean[n];
        healedSaid = new boolean[n];
    }

    public List<Fault> faults() { return List.copyOf(faults); }

    /** Fault {@code i}. */
    public Fault fault(int i) { return faults.get(i); }

    /**
     * Adds a fault while the run goes on (a live injection): it is injected {@code atSeconds} into the next attempt,
     * whatever its {@code atStep} says, and lasts its duration from there (an explicit heal is not supported live).
     * Returns its index.
     */
    public int inject(Fault fault) {
        if (fault.healsExplicitly()) throw new IllegalArgumentException("a live fault heals after a duration, not at a step");
        faults.add(fault);
        int n = faults.size();
        injectAt = grow(injectAt, n, Double.NaN);
        healAt = grow(healAt, n, Double.NaN);
        fired = Arrays.copyOf(fired, n);
        injectedSaid = Arrays.copyOf(injectedSaid, n);
        healedSaid = Arrays.copyOf(healedSaid, n);
        pending.add(n - 1);
        return n - 1;
    }

    private static double[] grow(double[] a, int n, double fill) {
        double[] out = Arrays.copyOf(a, n);
        for (int i = a.length; i < n; i++) out[i] = fill;
        return out;
    }

    /**
     * Adds a fault whose moment is fixed already: injected at {@code injectAt} on the run's axis (a random interruption,
     * {@code FaultDraws}). Returns its index.
     */
    public int scheduled(Fault fault, double injectAt) {
        int i = inject(fault);
        pending.remove(Integer.valueOf(i));
        this.injectAt[i] = injectAt;
        healAt[i] = fault.kind().instant() ? Double.POSITIVE_INFINITY : injectAt + fault.durationSeconds();
        return i;
    }

    /**
     * The {@code stage.crash} that fails the attempt begun at {@code attemptStart} if it fails at or before
     * {@code bound}: among those not fired whose moment is known, the one with the earliest moment (one before the
     * attempt acts at its start), the lowest index among equals; -1 for none. A crash fails the job at its moment
     * whether or not its stage was computing then: which stage reports first is a matter of thread timing, this is not.
     */
    public int firstCrash(double attemptStart, double bound) {
        int best = -1;
        double at = Double.POSITIVE_INFINITY;
        for (int i = 0; i < faults.size(); i++) {
            if (faults.get(i).kind() != FaultKind.STAGE_CRASH || fired[i] || Double.isNaN(injectAt[i])) continue;
            double m = Math.max(injectAt[i], attemptStart);
            if (m <= bound && m < at) {
                best = i;
                at = m;
            }
        }
        return best;
    }

    public boolean isEmpty() { return faults.isEmpty(); }

    /** An attempt at training step {@code step} starts at {@code runSeconds}; fixes the times the step's first start fixes. */
    public void begin(int step, double runSeconds) {
        attemptStart = runSeconds;
        for (int i : pending) {
            Fault f = faults.get(i);
            injectAt[i] = runSeconds + f.atSeconds();
            healAt[i] = f.kind().instant() ? Double.POSITIVE_INFINITY : injectAt[i] + f.durationSeconds();
        }
        pending.clear();
        if (step <= begun) return;
        begun = step;
        for (int i = 0; i < faults.size(); i++) {
            Fault f = faults.get(i);
            if (f.atStep() == step && Double.isNaN(injectAt[i])) {
                injectAt[i] = runSeconds + f.atSeconds();
                if (f.kind().instant() || !f.healsExplicitly()) {
                    healAt[i] = f.kind().instant() ? Double.POSITIVE_INFINITY : injectAt[i] + f.durationSeconds();
                }
            }
            if (f.healsExplicitly() && f.healAtStep() == step) healAt[i] = runSeconds + f.healAtSeconds();
        }
    }

    /** Fault {@code i} happened (an instant one then acts no more; a node fault was carried out on its process). */
    public void fired(int i) {
        fired[i] = true;
    }

    public boolean hasFired(int i) { return fired[i]; }

    /** Run time at which fault {@code i} is injected; NaN while its step has not started. */
    public double injectAt(int i) { return injectAt[i]; }

    /** Run time at which fault {@code i} heals: NaN while unknown, +Infinity for never. */
    public double healAt(int i) { return healAt[i]; }

    /**
     * The windows of the current attempt of every target that has any, in step-local time: faults injected (known),
     * not healed before the attempt started, and not fired if instant. One pass over the faults, so that a run of
     * thousands of stages with hundreds of faults does not ask once per target.
     */
    public java.util.Map<FaultTarget, List<FaultWindow>> windowsByTarget() {
        java.util.Map<FaultTarget, List<FaultWindow>> out = new java.util.HashMap<>();
        for (int i = 0; i < faults.size(); i++) {
            Fault f = faults.get(i);
            if (Double.isNaN(injectAt[i]) || fired[i] && f.kind().instant()) continue;
            double heal = Double.isNaN(healAt[i]) ? Double.POSITIVE_INFINITY : healAt[i];
            if (!f.kind().instant() && heal <= attemptStart) continue;
            out.computeIfAbsent(f.target(), t -> new ArrayList<>())
                    .add(new FaultWindow(i, f.kind(), injectAt[i] - attemptStart, heal - attemptStart, f.value(), f.seed()));
        }
        return out;
    }

    /** Faults injected at or before {@code runSeconds} not yet said (each said once), ascending by index. */
    public List<Integer> injectedBy(double runSeconds) {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < faults.size(); i++) {
            if (!injectedSaid[i] && !faults.get(i).kind().instant() && injectAt[i] <= runSeconds) {
                injectedSaid[i] = true;
                out.add(i);
            }
        }
        return out;
    }

    /** Faults healed at or before {@code runSeconds} not yet said (each said once), ascending by index. */
    public List<Integer> healedBy(double runSeconds) {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < faults.size(); i++) {
            if (!healedSaid[i] && injectedSaid[i] && healAt[i] <= runSeconds) {
                healedSaid[i] = true;
                out.add(i);
            }
        }
        return out;
    }

    /** An instant fault's injection, said when it fires. */
    public void injectedSaid(int i) {
        injectedSaid[i] = true;
        healedSaid[i] = true;
    }
}
