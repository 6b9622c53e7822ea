package dev.pipelab.plan;

import dev.pipelab.model.ModelSpec;
import dev.pipelab.model.Partition;
import dev.pipelab.scenario.Scenario;
import dev.pipelab.schedule.CompiledSchedule;
import dev.pipelab.schedule.Evaluator;
import dev.pipelab.schedule.Network;
import dev.pipelab.schedule.RingAllReduce;
import dev.pipelab.schedule.Schedules;
import dev.pipelab.schedule.StageCost;
import dev.pipelab.schedule.Timeline;
import dev.pipelab.schedule.ZeroBubbleAuto;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Enumerates parallelism plans (t, p, d, v, b, m, schedule, recompute) for the scenario's device count
 * (p·d·t) and global batch (b·m·d), evaluates each exactly, and ranks those that fit by throughput; then builds
 * zb-1p and zb-2p, which are dear to build, only at the shapes where ZB-H1 and ZB-H2 did best ({@link #FINALISTS})
 * and ranks them with the rest. Invariant: every candidate gets an outcome, and every outcome but the winner's says why it lost.
 */
public final class Search {

    /** Why a candidate is not the winner. */
    public enum Reason { WINNER, MEMORY, BUBBLE, COMM, RECOMPUTE, COMPUTE }

    /**
     * One evaluated candidate. {@code scheduleBubble} is the bubble with free links and no all-reduce (the
     * schedule's own), {@code commFraction} the share of the step lost to communication.
     */
    public record Outcome(Candidate candidate, boolean fits, long peakMemoryBytes, double stepTimeSeconds,
                          double bubbleFraction, double scheduleBubble, double commFraction, double recomputeFraction,
                          double tokensPerSecond, double mfu, Reason reason, String why) {}

    /**
     * {@code evaluated}: the enumerated candidates ({@link #candidates}) that are plans of their own; {@code automatic}:
     * the zb-1p and zb-2p plans built after them for {@code finalists} shapes (at most {@link #FINALISTS} each: the
     * fastest of ZB-H1 and of ZB-H2). {@code ranked} holds both.
     */
    public record Result(int devices, long globalBatch, List<Outcome> ranked, int evaluated, int automatic, int finalists) {
        public Outcome winner() {
            return ranked.get(0);
        }

        /** One line per schedule name ({@link #SCHEDULE_NAMES}, in that order): its best plan and why it is not the winner. */
        public List<ScheduleSummary> bySchedule() {
            List<ScheduleSummary> out = new ArrayList<>();
            for (String name : SCHEDULE_NAMES) {
                int count = 0, fitting = 0;
                Outcome best = null; // ranked: the fastest that fits first, then the rest by footprint
                for (Outcome o : ranked) {
                    if (!o.candidate().schedule().equals(name)) continue;
                    count++;
                    if (o.fits()) fitting++;
                    if (best == null) best = o;
                }
                String why;
                if (best == null) {
                    why = "not considered: " + requirement(name);
                } else if (best.reason() == Reason.WINNER) {
                    why = "winner";
                } else if (!best.fits()) {
                    why = "none of " + count + " fits: smallest " + best.why();
                } else {
                    why = best.why();
                }
                out.add(new ScheduleSummary(name, count, fitting, best, why));
            }
            return List.copyOf(out);
        }
    }

    /**
     * A schedule's showing in a search: {@code candidates} plans of it, {@code fitting} of them fit memory, {@code best}
     * the fastest that fits (else the smallest footprint; null when none was considered), and {@code why} it is not
     * the winner, from {@code best}'s numbers against the winner's.
     */
    public record ScheduleSummary(String schedule, int candidates, int fitting, Outcome best, String why) {}

    private static final List<String> SCHEDULES = List.of("gpipe", "1f1b", "zb-h1", "zb-h2");
    /** Two stages per rank placed as a V (v = 2); dualpipev also needs m >= 2p. */
    private static final List<String> V_SCHEDULES = List.of("zb-v", "dualpipev");
    private static final List<String> RECOMPUTE = List.of("none", "selective", "full");
    private static final List<String> PARTITIONS = List.of("uniform", "balanced");
    /** Every schedule the search considers, in the order of docs/schedules.md. */
    public static final List<String> SCHEDULE_NAMES = List.of("gpipe", "1f1b", "interleaved", "zb-h1", "zb-h2", "zb-1p",
            "zb-2p", "zb-v", "dualpipev");
    /** The handcrafted schedule each automatic one improves at the same memory limit (ZeroBubbleAuto): p, 2p-1 or 2p. */
    static final Map<String, String> COUNTERPART = Map.of("zb-1p", "zb-h1", "zb-2p", "zb-h2");
    /**
     * zb-1p and zb-2p are each built for this many shapes only. Each is built from its candidate's own pass times (they vary
     * with t, b and the partition), so no two candidates share one, and building one (the heuristic's eight variants
     * and the handcrafted ones) costs about 1.4 ms against the 0.3 ms an evaluated candidate takes on average: built for
     * every single-chunk candidate, they took search-3072.yaml from 4 s to 10 s. They are ZB-H1 and ZB-H2 improved
     * (never slower at the same memory, ZeroBubbleAuto), so the shapes where they can win are those where the
     * handcrafted ones already do best: the search builds them after the others, zb-1p for the {@code FINALISTS}
     * fastest distinct (t, p, d, b, m) with p >= 2 among the ZB-H1 plans that fit, zb-2p for those of ZB-H2, with
     * that plan's sequence parallelism and partition and every recompute policy (zb-2p may hold 2p micro-batches, one
     * more than ZB-H2: where ZB-H2's recompute leaves no room for it, a dearer one may).
     */
    public static final int FINALISTS = 8;

    private Search() {}

    /** All candidates for the scenario's device count and global batch, in a fixed order. */
    public static List<Candidate> candidates(Scenario base) {
        ModelSpec model = Planner.plan(base).model();
        Scenario.Parallelism par = base.parallelism();
        int devices = par.pipeline() * par.data() * par.tensor();
        long global = (long) base.batch().microBatchSize() * base.batch().microBatches() * par.data();
        int maxTensor = Math.max(1, base.hardware().devicesPerNode());
        List<Candidate> out = new ArrayList<>();
        for (int t = 1; t <= Math.min(devices, maxTensor); t *= 2) {
            if (devices % t != 0 || model.heads() % t != 0) continue;
            for (int p = 1; p <= devices / t && p <= model.layers(); p++) {
                if ((devices / t) % p != 0) continue;
                int d = devices / t / p;
                if (global % d != 0) continue;
                long perReplica = global / d;
                for (int b = 1; b <= perReplica; b++) {
                    if (perReplica % b != 0) continue;
                    int m = (int) (perReplica / b);
                    for (String recompute : RECOMPUTE) {
                        for (boolean sp : t > 1 ? List.of(false, true) : List.of(false)) {
                            for (String partition : PARTITIONS) {
                                for (String schedule : SCHEDULES) {
                                    out.add(new Candidate(t, p, d, 1, b, m, schedule, recompute, sp, partition));
                                }
                                for (String schedule : V_SCHEDULES) {
                                    if (p > 1 && 2 * p <= model.layers() && (!schedule.equals("dualpipev") || m >= 2 * p)) {
                                        out.add(new Candidate(t, p, d, 2, b, m, schedule, recompute, sp, partition));
                                    }
                                }
                                for (int v = 2; p > 1 && p * v <= model.layers() && v <= 8; v++) {
                                    if (m % p == 0) out.add(new Candidate(t, p, d, v, b, m, "interleaved", recompute, sp, partition));
                                }
                            }
                        }
                    }
                }
            }
        }
        return out;
    }

    /** Told after each candidate is evaluated (from the search's threads): {@code done} of {@code total}. */
    public interface Listener {
        void evaluated(int done, int total);
    }

    public static Result run(Scenario base) {
        return run(base, (done, total) -> {});
    }

    /** {@link #run(Scenario)}, telling {@code listener} how far it got. */
    public static Result run(Scenario base, Listener listener) {
        List<Candidate> candidates = candidates(base);
        java.util.concurrent.atomic.AtomicInteger done = new java.util.concurrent.atomic.AtomicInteger();
        Scenario.Parallelism par = base.parallelism();
        int devices = par.pipeline() * par.data() * par.tensor();
        long global = (long) base.batch().microBatchSize() * base.batch().microBatches() * par.data();
        // candidates sharing a schedule are evaluated together, so its compiled form lives only while they are
        Map<List<Object>, List<Candidate>> groups = new LinkedHashMap<>();
        for (Candidate c : candidates) {
            groups.computeIfAbsent(List.of(c.schedule(), c.pipeline(), c.virtualStages(), c.microBatches(),
                    !c.recompute().equals("none")), k -> new ArrayList<>()).add(c);
        }
        List<Outcome> outcomes = groups.values().parallelStream().flatMap(group -> {
            ScheduleCache cache = new ScheduleCache();
            return group.stream().map(c -> {
                Outcome o = evaluate(base, c, cache);
                listener.evaluated(done.incrementAndGet(), candidates.size());
                return o;
            }).filter(o -> o != null);
        }).toList();
        List<Candidate> automatic = automatic(outcomes);
        List<Outcome> all = new ArrayList<>(outcomes);
        all.addAll(automatic.parallelStream().map(c -> evaluate(base, c, new ScheduleCache())).filter(o -> o != null).toList());
        List<Outcome> fitting = new ArrayList<>();
        List<Outcome> rest = new ArrayList<>();
        for (Outcome o : all) (o.fits() ? fitting : rest).add(o);
        fitting.sort(FASTEST);
        rest.sort(Comparator.comparingLong(Outcome::peakMemoryBytes).thenComparing(o -> o.candidate().label()));
        List<Outcome> ranked = new ArrayList<>(all.size());
        if (!fitting.isEmpty()) {
            Outcome w = fitting.get(0);
            ranked.add(withReason(w, Reason.WINNER, "fastest plan that fits"));
            for (int i = 1; i < fitting.size(); i++) ranked.add(explain(fitting.get(i), w));
        }
        ranked.addAll(rest);
        return new Result(devices, global, List.copyOf(ranked), outcomes.size(), all.size() - outcomes.size(),
                automatic.size() / RECOMPUTE.size());
    }

    private static final Comparator<Outcome> FASTEST = Comparator.comparingDouble(Outcome::tokensPerSecond).reversed()
            .thenComparing(o -> o.candidate().label());

    /**
     * zb-1p and zb-2p, each for the {@link #FINALISTS} fastest distinct shapes (t, p, d, b, m) with p >= 2 among its
     * {@link #COUNTERPART}'s {@code outcomes} that fit, with every recompute policy and the sequence parallelism and
     * partition of that plan. Whether one fits is known only once its schedule is built: its peak depends on its order.
     */
    static List<Candidate> automatic(List<Outcome> outcomes) {
        List<Candidate> out = new ArrayList<>();
        for (String name : ZeroBubbleAuto.NAMES) {
            List<Outcome> fitting = new ArrayList<>();
            for (Outcome o : outcomes) {
                if (o.fits() && o.candidate().schedule().equals(COUNTERPART.get(name)) && o.candidate().pipeline() >= 2) fitting.add(o);
            }
            fitting.sort(FASTEST);
            Map<List<Integer>, Candidate> finalists = new LinkedHashMap<>();
            for (Outcome o : fitting) {
                if (finalists.size() == FINALISTS) break;
                Candidate c = o.candidate();
                finalists.putIfAbsent(List.of(c.tensor(), c.pipeline(), c.data(), c.microBatchSize(), c.microBatches()), c);
            }
            for (Candidate c : finalists.values()) {
                for (String recompute : RECOMPUTE) {
                    out.add(new Candidate(c.tensor(), c.pipeline(), c.data(), 1, c.microBatchSize(), c.microBatches(), name,
                            recompute, c.sequenceParallel(), c.partition()));
                }
            }
        }
        return out;
    }

    /** What the enumeration asks of a schedule's shape (why it may have no candidate at all). */
    static String requirement(String schedule) {
        return switch (schedule) {
            case "interleaved" -> "needs p >= 2, m a multiple of p and p*v <= layers for some v in 2..8";
            case "zb-v" -> "needs p >= 2 and 2p <= layers";
            case "dualpipev" -> "needs p >= 2, 2p <= layers and m >= 2p";
            case "zb-1p", "zb-2p" -> "built only where a " + COUNTERPART.get(schedule) + " plan with p >= 2 fits, and none does";
            default -> "no shape divides the devices and the batch";
        };
    }

    /** One candidate's outcome (package-visible for tests), or null for a balanced twin of a uniform plan. */
    static Outcome evaluate(Scenario base, Candidate c, ScheduleCache cache) {
        Plan plan = Planner.plan(Variants.with(base, c), false, cache);
        if (c.partition().equals("balanced")
                && plan.partition().equals(Partition.uniform(plan.model().layers(), plan.schedule().stages()))) {
            return null; // the same plan as its uniform twin: not a candidate of its own
        }
        // zb-1p and zb-2p are built for this plan's own costs (recomputation inserted): compiled here, not shared
        CompiledSchedule compiled = Schedules.needsTimes(c.schedule()) ? Evaluator.compile(plan.schedule())
                : cache.get(c.schedule(), c.pipeline(), c.virtualStages(), c.microBatches(), !c.recompute().equals("none"));
        long memory = plan.device().memoryBytes();
        long maxStatic = 0;
        long[] perRank = new long[plan.pipeline()];
        for (int k = 0; k < plan.stageCosts().size(); k++) perRank[plan.schedule().rankOf(k)] += plan.stageCosts().get(k).staticBytes();
        for (long s : perRank) maxStatic = Math.max(maxStatic, s);
        if (maxStatic > memory) {
            return new Outcome(c, false, maxStatic, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, 0, 0,
                    Reason.MEMORY, String.format(Locale.ROOT, "memory: static bytes (model states, buffers, overhead) alone need %.1f GB > %.1f GB",
                    maxStatic / 1e9, memory / 1e9));
        }
        // peak memory depends only on each rank's order of actions: exact without timing
        long peak = 0;
        for (long b : compiled.peakMemory(plan.stageCosts())) peak = Math.max(peak, b);
        if (peak > memory) {
            return new Outcome(c, false, peak, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, 0, 0, Reason.MEMORY,
                    String.format(Locale.ROOT, "memory: peak %.1f GB > %.1f GB", peak / 1e9, memory / 1e9));
        }
        Timeline t = compiled.evaluate(plan.stageCosts(), plan.network(), plan.linkBuffer());
        PlanReport r = PlanReport.of(plan, t);
        // the schedule's own bubble: the same step with free links and no all-reduce (shared by candidates whose
        // compute is the same, e.g. with and without sequence parallelism)
        double[] durations = new double[plan.stageCosts().size() * 5];
        int k = 0;
        for (StageCost sc : plan.stageCosts()) {
            durations[k++] = sc.forwardSeconds();
            durations[k++] = sc.backwardInputSeconds();
            durations[k++] = sc.backwardWeightSeconds();
            durations[k++] = sc.recomputeSeconds();
            durations[k++] = sc.optimizerSeconds();
        }
        double[] free = cache.free(compiled, durations, () -> {
            List<StageCost> noComm = new ArrayList<>(plan.stageCosts().size());
            for (StageCost sc : plan.stageCosts()) {
                noComm.add(StageCost.compute(sc.forwardSeconds(), sc.backwardInputSeconds(), sc.backwardWeightSeconds())
                        .withRecompute(sc.recomputeSeconds()).withOptimizer(sc.optimizerSeconds()));
            }
            return compiled.evaluate(noComm, Network.free(), plan.linkBuffer());
        });
        double comm = (t.stepTimeSeconds() - free[0]) / t.stepTimeSeconds();
        double recompute = 0, busy = 0;
        for (StageCost sc : plan.stageCosts()) {
            recompute += sc.recomputeSeconds();
            busy += sc.forwardSeconds() + sc.backwardInputSeconds() + sc.backwardWeightSeconds() + sc.recomputeSeconds();
        }
        return new Outcome(c, true, peak, t.stepTimeSeconds(), t.bubbleFraction(), free[1], comm,
                busy == 0 ? 0 : recompute / busy, r.tokensPerSecond(), r.mfu(), Reason.WINNER, "");
    }

    /** The largest of the candidate's handicaps against the winner. */
    private static Outcome explain(Outcome o, Outcome w) {
        double bubble = o.scheduleBubble() - w.scheduleBubble();
        double comm = o.commFraction() - w.commFraction();
        double recompute = o.recomputeFraction() - w.recomputeFraction();
        double slower = w.tokensPerSecond() / o.tokensPerSecond();
        Reason reason = Reason.COMPUTE;
        double worst = 1e-12;
        if (bubble > worst) { reason = Reason.BUBBLE; worst = bubble; }
        if (comm > worst) { reason = Reason.COMM; worst = comm; }
        if (recompute > worst) { reason = Reason.RECOMPUTE; worst = recompute; }
        String why = switch (reason) {
            case BUBBLE -> String.format(Locale.ROOT, "bubble: %.1f%% of stage-time idle against %.1f%%", o.scheduleBubble() * 100, w.scheduleBubble() * 100);
            case COMM -> String.format(Locale.ROOT, "comm: %.1f%% of the step waits on links and all-reduce against %.1f%%", o.commFraction() * 100, w.commFraction() * 100);
            case RECOMPUTE -> String.format(Locale.ROOT, "recompute: %.1f%% of compute is recomputation against %.1f%%", o.recomputeFraction() * 100, w.recomputeFraction() * 100);
            default -> "compute: no worse bubble, comm or recomputation, slower per device";
        };
        return withReason(o, reason, String.format(Locale.ROOT, "%.2fx slower; %s", slower, why));
    }

    private static Outcome withReason(Outcome o, Reason reason, String why) {
        return new Outcome(o.candidate(), o.fits(), o.peakMemoryBytes(), o.stepTimeSeconds(), o.bubbleFraction(),
                o.scheduleBubble(), o.commFraction(), o.recomputeFraction(), o.tokensPerSecond(), o.mfu(), reason, why);
    }
}
