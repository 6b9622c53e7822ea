package dev.pipelab.cli;

import dev.pipelab.model.ModelPresets;
import dev.pipelab.model.ModelSpec;
import dev.pipelab.plan.Search;
import dev.pipelab.scenario.Scenario;

import java.util.List;
import java.util.Locale;

/**
 * Refuses, before anything is planned ({@code plan}, {@code schedule}, {@code search}, {@code sweep}, {@code run}), a job
 * this machine cannot finish in reasonable time or memory (docs/benchmarks.md, "Size guard"): each command's work is estimated from the scenario's numbers alone, in microseconds, so that a typo
 * that adds three zeros ({@code d=1e9}, {@code m=1e9}, {@code --steps 1000000000}) is one line and exit 2, never a
 * silent hang or an out-of-memory trace. {@code --force} skips the guard. The estimates are deliberately coarse (a
 * factor of a few either way): the limits sit far from every documented scenario and far below where the job would
 * take hours or exhaust the heap.
 *
 * <p>The rates below were measured on the project's 2-core machine while other builds ran (docs/benchmarks.md).
 */
final class SizeGuard {

    /** p·d·t above this overflows the plan's device count (an {@code int}). */
    static final long MAX_DEVICES = Integer.MAX_VALUE;

    /**
     * Actions of one replica's step that {@code plan} (and each {@code sweep} value) may schedule and evaluate. Measured:
     * quickstart at m = 1,000,000 (8 M actions) took 39 s and 2.2 GB to plan, print and report, so about 5 µs and
     * 300 bytes an action: 10 M is about a minute.
     */
    static final long MAX_PLAN_ACTIONS = 10_000_000;
    static final double PLAN_SECONDS_PER_ACTION = 5e-6;
    static final double PLAN_BYTES_PER_ACTION = 300;

    /**
     * {@code search}: wall seconds per candidate, with both cores: a base, a part per action of its step and a part per
     * replica (placement and all-reduce arithmetic). Measured: search-3072.yaml, 12,414 candidates in 59 s (4.8 ms each);
     * at d = 1,000,000 about 25 ms each.
     */
    static final double SEARCH_SECONDS_PER_CANDIDATE = 5e-3;
    static final double SEARCH_SECONDS_PER_ACTION = 1e-7;
    static final double SEARCH_SECONDS_PER_REPLICA = 2e-8;
    /**
     * {@code search} then builds zb-1p and zb-2p, with each of the three recompute policies, for at most
     * {@code Search.FINALISTS} shapes each (ZB-H1's and ZB-H2's fastest): each build runs
     * the heuristic eight times and evaluates the handcrafted schedules and the result, about ten evaluations of the
     * shape's actions (measured: about 1.4 ms a build at search-3072.yaml's shapes of about 1,000 to 3,000 actions).
     */
    static final double SEARCH_EVALUATIONS_PER_AUTOMATIC = 10;
    /** {@code search} and {@code sweep} may take about this long. */
    static final double MAX_PLANNING_SECONDS = 600;
    /** The search tries every micro-batch size b dividing the replica's batch: one loop turn per sequence of it. */
    static final long MAX_SEARCH_BATCH = 100_000_000;

    /**
     * {@code run}: messages the actor runtime moves per second (actions, transfers and ring all-reduce chunks). Measured:
     * quickstart at d = 1,024 (4,096 stage actors, 8.5 M messages a step, most of them ring chunks) ran a step in about
     * 100 s on the loaded 2-core machine; {@code pipelab bench scale} does 2,048 GPUs (about 80,000 messages) in 0.08–0.29 s.
     */
    static final double RUN_MESSAGES_PER_SECOND = 100_000;
    /** A run may take about this long; beyond it, {@code pipelab goodput} emulates long horizons at step level. */
    static final double MAX_RUN_SECONDS = 3600;
    /**
     * Heap per stage actor (its links, program and records) and per action of its step, and the runtime's base. Measured:
     * quickstart at d = 1,024 (4,096 actors of 18 actions) kept 144 MB live after a full collection; {@code pipelab bench
     * scale} (256 actors of 192 actions) peaks at 53–57 MB. 40 kB an actor and 700 B an action cover both.
     */
    static final double RUN_BYTES_PER_STAGE_ACTOR = 40e3;
    static final double RUN_BYTES_PER_ACTION = 700;
    static final double RUN_BASE_BYTES = 64e6;
    /** A span kept for the trace at the {@code spans} telemetry level (docs/telemetry.md: 395 MB for about 2 M spans). */
    static final double RUN_BYTES_PER_SPAN = 200;
    /** The share of the JVM's heap a job may plan to fill (the rest: garbage between collections). */
    static final double HEAP_SHARE = 0.8;

    private SizeGuard() {}

    /** Refuses a {@code plan} too large to schedule and evaluate; {@code force} skips it. */
    static void plan(String command, Scenario s, boolean force) {
        if (force) return;
        devices(command, s);
        long actions = actionsPerReplica(s);
        if (actions > MAX_PLAN_ACTIONS || actions * PLAN_BYTES_PER_ACTION > heap()) {
            String limit = actions > MAX_PLAN_ACTIONS ? "the limit of " + count(MAX_PLAN_ACTIONS) + " actions" : "this JVM's " + gb(heap()) + " of heap";
            throw refused(command, String.format(Locale.ROOT, "%s actions in one step (p=%s x v=%s x m=%s x %d) take about %s and %s of heap "
                            + "to plan, more than %s; use a smaller m or p, or --force", count(actions), count(s.parallelism().pipeline()),
                    count(s.parallelism().virtualStages()), count(s.batch().microBatches()), actionsPerMicroBatch(s),
                    duration(actions * PLAN_SECONDS_PER_ACTION), gb(actions * PLAN_BYTES_PER_ACTION), limit));
        }
    }

    /** Refuses a {@code sweep} whose values together take too long; each value must also pass {@link #plan}. */
    static void sweep(List<Scenario> values, boolean force) {
        if (force) return;
        double seconds = 0;
        for (Scenario s : values) {
            plan("sweep", s, false);
            seconds += actionsPerReplica(s) * PLAN_SECONDS_PER_ACTION;
        }
        if (seconds > MAX_PLANNING_SECONDS) {
            throw refused("sweep", String.format(Locale.ROOT, "%d values take about %s to plan, more than %s; sweep fewer or smaller "
                    + "values, or --force", values.size(), duration(seconds), duration(MAX_PLANNING_SECONDS)));
        }
    }

    /**
     * Refuses a {@code search} with too many candidates: the same enumeration as {@code plan.Search} (t a power of two
     * within a node, p up to the layers, d what is left, b dividing the replica's batch), counting each candidate's
     * actions instead of building it.
     */
    static void search(Scenario s, boolean force) {
        if (force) return;
        plan("search", s, false); // the search plans the scenario itself first
        long devices = devices("search", s);
        Scenario.Parallelism par = s.parallelism();
        long global = (long) s.batch().microBatchSize() * s.batch().microBatches() * par.data();
        if (global / par.data() > MAX_SEARCH_BATCH || global < 0) {
            throw refused("search", String.format(Locale.ROOT, "a replica's batch of %s sequences (b x m) means trying every b that divides it, "
                    + "more than %s; use a smaller m, or --force", count(global / par.data()), count(MAX_SEARCH_BATCH)));
        }
        SearchSize size = searchSize(s, devices, global);
        double seconds = size.seconds();
        long largest = size.largestActions();
        if (seconds > MAX_PLANNING_SECONDS || largest * PLAN_BYTES_PER_ACTION > heap()) {
            throw refused("search", String.format(Locale.ROOT, "%s candidate plans of %s actions in all take about %s%s, more than %s; "
                            + "use fewer devices or a smaller batch (m), or --force", count(size.candidates()), count(size.actions()), duration(seconds),
                    largest * PLAN_BYTES_PER_ACTION > heap() ? " and " + gb(largest * PLAN_BYTES_PER_ACTION) + " of heap" : "",
                    largest * PLAN_BYTES_PER_ACTION > heap() ? "this JVM's " + gb(heap()) : duration(MAX_PLANNING_SECONDS)));
        }
    }

    /**
     * Refuses a virtual-time {@code run} whose stage actors do not fit the heap, or whose messages (every replica's
     * actions, their transfers, and the ring all-reduce's 2(d-1) chunks per rank and replica) take too long; the plan's
     * own limit first. {@code telemetry} is the level asked for ({@code auto}, {@code off}, {@code steps}, {@code spans});
     * only an {@code embedded} run holds its stage actors in this JVM's heap.
     */
    static void run(Scenario s, long steps, String telemetry, boolean virtual, boolean embedded, boolean force) {
        if (force) return;
        run(s, steps, telemetry, virtual, embedded, heap());
    }

    /** {@link #run(Scenario, long, String, boolean, boolean, boolean)} for a JVM of {@code heapBytes}. */
    static void run(Scenario s, long steps, String telemetry, boolean virtual, boolean embedded, long heapBytes) {
        plan("run", s, false);
        Scenario.Parallelism par = s.parallelism();
        long p = par.pipeline();
        long d = par.data();
        long actors = p * d;
        double perReplica = actionsPerReplica(s);
        double spans = telemetry.equals("spans") ? perReplica * d * steps : 0;
        double heap = RUN_BASE_BYTES + actors * (RUN_BYTES_PER_STAGE_ACTOR + perReplica / p * RUN_BYTES_PER_ACTION)
                + spans * RUN_BYTES_PER_SPAN;
        if (embedded && heap > heapBytes * HEAP_SHARE) { // a cluster run's stages live in the workers' heaps
            throw refused("run", String.format(Locale.ROOT, "%s stage actors (p=%s x d=%s)%s need about %s of heap, more than this JVM's %s; "
                            + "use a smaller d, %spipelab goodput for long horizons, or --force", count(actors), count(p), count(d),
                    spans > 0 ? " and " + count(spans) + " spans" : "", gb(heap), gb(heapBytes),
                    spans > 0 ? "the steps telemetry level, " : "a larger -Xmx (PIPELAB_JAVA_OPTS), "));
        }
        if (!virtual) return; // a wall-clock run lasts what its scenario says, on purpose; its progress line shows the ETA
        // each action sends about one transfer; each rank's all-reduce sends 2(d-1) chunks per model stage
        double messages = steps * (d * perReplica * 2 + (double) p * par.virtualStages() * d * 2 * (d - 1));
        double seconds = messages / RUN_MESSAGES_PER_SECOND;
        if (seconds > MAX_RUN_SECONDS) {
            throw refused("run", String.format(Locale.ROOT, "%s steps of %s stage actors (p=%s x d=%s, m=%s) move about %s messages, "
                            + "about %s, more than %s; use fewer steps (--steps), a smaller d or m, pipelab goodput for long horizons, "
                            + "or --force", count(steps), count(actors), count(p), count(d), count(s.batch().microBatches()),
                    count(messages), duration(seconds), duration(MAX_RUN_SECONDS)));
        }
    }

    /**
     * What a search enumerates: its candidates (uniform and balanced twins both), their actions, the largest one's; and at
     * most {@code automatic} zb-1p and zb-2p plans for its finalists (counted as the largest single-chunk shape's).
     */
    record SearchSize(long candidates, double actions, long largestActions, double seconds, long automatic) {}

    /** The same enumeration as {@code plan.Search}, counted instead of built. */
    static SearchSize searchSize(Scenario s, long devices, long global) {
        int layers = layers(s);
        int heads = heads(s);
        int maxTensor = Math.max(1, s.hardware().devicesPerNode());
        long candidates = 0;
        double actions = 0;
        long largest = 0;
        double seconds = 0;
        long largestSingleChunk = 0; // of a shape with p >= 2, which the automatic zero-bubble plans are built for
        for (long t = 1; t <= Math.min(devices, maxTensor); t *= 2) {
            if (devices % t != 0 || heads % t != 0) continue;
            for (long p = 1; p <= devices / t && p <= layers; p++) {
                if ((devices / t) % p != 0) continue;
                long d = devices / t / p;
                if (global % d != 0) continue;
                long perReplica = global / d;
                if (perReplica > MAX_SEARCH_BATCH) {
                    throw refused("search", String.format(Locale.ROOT, "at p=%d the replicas' batch of %s sequences means trying every b "
                            + "that divides it, more than %s; use a smaller m, or --force", p, count(perReplica), count(MAX_SEARCH_BATCH)));
                }
                int variants = 3 * (t > 1 ? 2 : 1) * 2; // recompute x sequence parallel x partition
                for (long b = 1; b * b <= perReplica; b++) {
                    if (perReplica % b != 0) continue;
                    for (long m : b * b == perReplica ? new long[] {perReplica / b} : new long[] {perReplica / b, b}) {
                        int interleaved = 0;
                        for (long v = 2; p > 1 && p * v <= layers && v <= 8; v++) if (m % p == 0) interleaved++;
                        // zb-v, and dualpipev when m >= 2p: two stages per rank
                        int vShaped = p > 1 && 2 * p <= layers ? (m >= 2 * p ? 2 : 1) : 0;
                        long each = 3 * p * m; // F, B and W (or R) for each micro-batch of each rank
                        candidates += (long) variants * (4 + interleaved + vShaped);
                        actions += variants * (4.0 * each + interleaved * each * 8.0 + vShaped * each * 2.0);
                        seconds += variants * (4 + interleaved + vShaped) * (SEARCH_SECONDS_PER_CANDIDATE + d * SEARCH_SECONDS_PER_REPLICA);
                        largest = Math.max(largest, each * (interleaved > 0 ? 8 : 1));
                        if (p > 1) largestSingleChunk = Math.max(largestSingleChunk, each);
                    }
                }
            }
        }
        long automatic = largestSingleChunk > 0 ? 2L * 3 * Search.FINALISTS : 0; // zb-1p, zb-2p x recompute
        actions += automatic * SEARCH_EVALUATIONS_PER_AUTOMATIC * largestSingleChunk;
        seconds += automatic * SEARCH_SECONDS_PER_CANDIDATE;
        return new SearchSize(candidates, actions, largest, seconds + actions * SEARCH_SECONDS_PER_ACTION, automatic);
    }

    /** p·d·t, refused when it overflows the plan's arithmetic. */
    private static long devices(String command, Scenario s) {
        Scenario.Parallelism par = s.parallelism();
        long devices = (long) par.pipeline() * par.data() * par.tensor();
        if (devices > MAX_DEVICES) {
            throw refused(command, String.format(Locale.ROOT, "%s devices (p=%s x d=%s x t=%s) are more than pipelab plans (%s); "
                    + "use a smaller d, or pipelab goodput", count(devices), count(par.pipeline()), count(par.data()),
                    count(par.tensor()), count(MAX_DEVICES)));
        }
        return devices;
    }

    /** The actions of one replica's step: F and B per micro-batch and model stage, W when the backward splits, R with recompute. */
    static long actionsPerReplica(Scenario s) {
        return (long) s.parallelism().pipeline() * s.parallelism().virtualStages() * s.batch().microBatches() * actionsPerMicroBatch(s);
    }

    private static int actionsPerMicroBatch(Scenario s) {
        boolean split = s.training().schedule().startsWith("zb-");
        return 2 + (split ? 1 : 0) + (s.training().recompute().equals("none") ? 0 : 1);
    }

    private static int layers(Scenario s) {
        return s.model().layers().orElseGet(() -> preset(s).map(ModelSpec::layers).orElse(Integer.MAX_VALUE));
    }

    private static int heads(Scenario s) {
        return s.model().heads().orElseGet(() -> preset(s).map(ModelSpec::heads).orElse(1));
    }

    private static java.util.Optional<ModelSpec> preset(Scenario s) {
        return s.model().preset().flatMap(ModelPresets::find);
    }

    /** The heap this JVM may grow to. */
    static long heap() {
        return Runtime.getRuntime().maxMemory();
    }

    private static UserException refused(String command, String why) {
        return new UserException.Named("pipelab " + command + ": " + why);
    }

    private static String count(double n) {
        return n < 1e15 ? String.format(Locale.ROOT, "%,d", (long) n) : String.format(Locale.ROOT, "%.2g", n);
    }

    private static String gb(double bytes) {
        return bytes >= 1e12 ? String.format(Locale.ROOT, "%,.0f GB", bytes / 1e9) : String.format(Locale.ROOT, "%.1f GB", bytes / 1e9);
    }

    private static String duration(double seconds) {
        if (seconds < 120) return String.format(Locale.ROOT, "%.0f s", seconds);
        if (seconds < 2 * 3600) return String.format(Locale.ROOT, "%.0f min", seconds / 60);
        if (seconds < 2 * 86400) return String.format(Locale.ROOT, "%.0f h", seconds / 3600);
        if (seconds < 2 * 365 * 86400) return String.format(Locale.ROOT, "%,.0f days", seconds / 86400);
        return String.format(Locale.ROOT, "%s years", count(seconds / (365 * 86400)));
    }
}
