package dev.pipelab.cli;

import com.typesafe.config.ConfigFactory;
import dev.pipelab.monitoring.Event;
import dev.pipelab.monitoring.EventLog;
import dev.pipelab.monitoring.EventPump;
import dev.pipelab.monitoring.EventSink;
import dev.pipelab.monitoring.LinkRecord;
import dev.pipelab.monitoring.RunInfo;
import dev.pipelab.monitoring.RunTelemetry;
import dev.pipelab.monitoring.StageRecord;
import dev.pipelab.monitoring.TelemetryLevel;
import dev.pipelab.monitoring.dashboard.DashboardState;
import dev.pipelab.monitoring.metrics.Metrics;
import dev.pipelab.pipeline.Emulator;
import dev.pipelab.pipeline.RunOptions;
import dev.pipelab.pipeline.RunResult;
import dev.pipelab.pipeline.RunSpec;
import dev.pipelab.plan.Plan;
import dev.pipelab.plan.PlanReport;
import dev.pipelab.plan.Planner;
import dev.pipelab.scenario.Scenario;
import dev.pipelab.scenario.ScenarioLoader;
import dev.pipelab.stage.OomPolicy;
import dev.pipelab.schedule.CompiledSchedule;
import dev.pipelab.schedule.Evaluator;
import dev.pipelab.schedule.Timeline;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;

import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The actor runtime's benchmarks: virtual-time emulation speed (actions and transfers per second), its cost
 * against the analytic evaluator, the cost of each telemetry level, one step on 2,048, 16,384 and 131,072 emulated GPUs,
 * and wall-clock accuracy. Invariant: in {@link #emulation} and {@link #wall} one ActorSystem (a one-node cluster) serves
 * all rounds, so cluster start-up is not measured; in {@link #scale} each round starts and stops an embedded system of its
 * own, as {@code pipelab run} does, and that is measured.
 */
final class RuntimeBench {

    private final PrintWriter out;
    private final int rounds;

    RuntimeBench(PrintWriter out, int rounds) {
        this.out = out;
        this.rounds = rounds;
    }

    /** llama2-70b, p=8, t and d as given, m micro-batches of 1, 1F1B with selective recomputation (fits 80 GB at t=8). */
    static Scenario emulationScenario(int data, int tensor, int microBatches) {
        Scenario s = BenchCommand.evaluatorScenario();
        return new Scenario("bench-runtime", s.model(), s.hardware(),
                new Scenario.Parallelism(8, data, tensor, 1, tensor > 1, "uniform", Optional.empty()),
                new Scenario.Batch(1, microBatches), s.training(), Optional.empty(), 0);
    }

    /** Measured rounds unless {@code --rounds} says otherwise; each round runs every level once. */
    static final int DEFAULT_ROUNDS = 7;
    /** Rounds run first and not counted: the JIT compiles every level's path before any is measured. */
    static final int WARM_UPS = Integer.getInteger("pipelab.bench.warmups", 3);
    static final int STEPS = Integer.getInteger("pipelab.bench.steps", 100);

    private static final List<TelemetryLevel> LEVELS = List.of(TelemetryLevel.OFF, TelemetryLevel.STEPS, TelemetryLevel.SPANS);

    /**
     * Emulation speed at each telemetry level, in this one JVM: every round runs off, steps and spans once each, in an
     * order that rotates from round to round, and each level's speed is compared with off's in the same round. Why one
     * JVM and rounds of all levels: the levels then run the same compiled code on a machine in the same state, so the
     * per-round ratio is steadier than any absolute speed. A monitored level feeds everything {@code pipelab run} feeds
     * (event log, run telemetry, dashboard state, Prometheus metrics, through an {@link EventPump}), and a run counts
     * until the pump has delivered its last event.
     */
    void emulation() {
        Plan plan = Planner.plan(emulationScenario(4, 8, 64));
        RunSpec spec = RunSpec.of(plan);
        RunInfo info = RunInfos.of(plan, PlanReport.of(plan, plan.evaluate()), "virtual", 1.0);
        EventCounter counted = new EventCounter();
        double[] evaluatorStep = new double[1];
        EnumMap<TelemetryLevel, List<Double>> rates = new EnumMap<>(TelemetryLevel.class);
        EnumMap<TelemetryLevel, List<Double>> ratios = new EnumMap<>(TelemetryLevel.class);
        for (TelemetryLevel level : LEVELS) {
            rates.put(level, new ArrayList<>());
            ratios.put(level, new ArrayList<>());
        }
        withSystem(system -> {
            Emulator.run(system, spec, RunOptions.virtual(1, counted).withOom(OomPolicy.WARN)).orThrow();
            long perStep = counted.actions.get() + counted.transfers.get();
            out.printf(Locale.ROOT, "%nruntime, virtual time: llama2-70b t=8 p=8 d=4 m=64 1F1B+R: %,d compute actions + %,d transfers "
                    + "per step, in %,d records%n", counted.actions.get(), counted.transfers.get(), counted.records.get());
            out.printf(Locale.ROOT, "  one JVM; %d warm-up rounds, then %d rounds; a round runs each level once for %d steps%n",
                    WARM_UPS, rounds, STEPS);
            out.printf(Locale.ROOT, "  %-7s %14s %14s %14s %11s %11s%n", "round", "off/s", "steps/s", "spans/s", "steps/off", "spans/off");
            for (int round = -WARM_UPS + 1; round <= rounds; round++) {
                EnumMap<TelemetryLevel, Double> rate = new EnumMap<>(TelemetryLevel.class);
                for (int i = 0; i < LEVELS.size(); i++) {
                    TelemetryLevel level = LEVELS.get(Math.floorMod(round + i, LEVELS.size()));
                    System.gc();
                    rate.put(level, perStep * STEPS / timedRun(system, info, spec, level));
                }
                double off = rate.get(TelemetryLevel.OFF);
                out.printf(Locale.ROOT, "  %-7s %,14.0f %,14.0f %,14.0f %10.1f%% %10.1f%%%n", round < 1 ? "warm-up" : Integer.toString(round),
                        off, rate.get(TelemetryLevel.STEPS), rate.get(TelemetryLevel.SPANS),
                        100 * rate.get(TelemetryLevel.STEPS) / off, 100 * rate.get(TelemetryLevel.SPANS) / off);
                out.flush();
                if (round < 1) continue;
                for (TelemetryLevel level : LEVELS) {
                    rates.get(level).add(rate.get(level));
                    ratios.get(level).add(rate.get(level) / off);
                }
            }
            CompiledSchedule compiled = Evaluator.compile(plan.schedule());
            for (int pass = 0; pass < 2; pass++) { // the first pass warms up
                long e0 = System.nanoTime();
                int evals = 0;
                while (System.nanoTime() - e0 < 1_000_000_000L) {
                    Timeline t = compiled.evaluate(plan.stageCosts(), plan.network(), plan.linkBuffer());
                    if (t.stepTimeSeconds() <= 0) throw new IllegalStateException();
                    evals++;
                }
                evaluatorStep[0] = (System.nanoTime() - e0) / 1e9 / evals;
            }
            out.printf(Locale.ROOT, "  medians: off %,.0f/s, steps %,.0f/s, spans %,.0f/s; steps/off %.1f%% (%.1f%%-%.1f%%), "
                            + "spans/off %.1f%% (%.1f%%-%.1f%%)%n", median(rates.get(TelemetryLevel.OFF)),
                    median(rates.get(TelemetryLevel.STEPS)), median(rates.get(TelemetryLevel.SPANS)),
                    100 * median(ratios.get(TelemetryLevel.STEPS)), 100 * min(ratios.get(TelemetryLevel.STEPS)),
                    100 * max(ratios.get(TelemetryLevel.STEPS)), 100 * median(ratios.get(TelemetryLevel.SPANS)),
                    100 * min(ratios.get(TelemetryLevel.SPANS)), 100 * max(ratios.get(TelemetryLevel.SPANS)));
            out.printf(Locale.ROOT, "  runtime / evaluator, time per step: %.0fx%n", perStep / median(rates.get(TelemetryLevel.OFF))
                    / evaluatorStep[0]);
            out.println("  (emulated actions+transfers per wall second, until every event is consumed; a ratio is the level's");
            out.println("   speed over off's in the same round; the range is the rounds' smallest and largest)");
        });
    }

    /** Wall seconds of one run of {@link #STEPS} steps at {@code level}, with every consumer of 'pipelab run' fed. */
    private static double timedRun(ActorSystem<?> system, RunInfo info, RunSpec spec, TelemetryLevel level) {
        if (level == TelemetryLevel.OFF) {
            long t0 = System.nanoTime();
            Emulator.run(system, spec, RunOptions.virtual(STEPS, EventSink.NONE).withOom(OomPolicy.WARN)).orThrow();
            return (System.nanoTime() - t0) / 1e9;
        }
        EventLog log = new EventLog();
        RunTelemetry telemetry = new RunTelemetry(info);
        telemetry.addListener(new DashboardState(info));
        telemetry.addListener(new Metrics(info, "bench"));
        long t0 = System.nanoTime();
        try (EventPump pump = new EventPump(List.of(log, telemetry), 200)) {
            Emulator.run(system, spec, RunOptions.virtual(STEPS, pump).withTelemetry(level).withOom(OomPolicy.WARN)).orThrow();
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    private static double min(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
    }

    private static double max(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
    }

    private static double median(List<Double> values) {
        double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }

    /** One size of {@link #scale}: what it is, and its plan. */
    private record ScaleCase(String label, Plan plan) {
        int gpus() {
            return plan.pipeline() * plan.data() * plan.tensor();
        }
    }

    /**
     * One virtual-time step at three sizes, side by side: llama2-70b on 2,048 emulated GPUs (t=8 p=8 d=32 m=64, the
     * figure this benchmark always gave), then Llama 3 405B's layout ({@code scenarios/llama3-405b.yaml}: t=8 p=16
     * d=128 m=16, 16,384 GPUs) and the next size up (d=1,024: 131,072 GPUs). Each round runs the step as
     * {@code pipelab run} does without its start-up and its files: a fresh embedded ActorSystem, the actors spawned and
     * wired, one step recorded at the {@code steps} telemetry level and fed to the run telemetry, the dashboard state and
     * the metrics through an event pump, and the system stopped; the wall time counts all of it. Peak heap: the heap
     * pools' peaks added, reset after a full collection before each round.
     */
    void scale() {
        Path llama3 = Path.of(System.getProperty("pipelab.home", "."), "scenarios", "llama3-405b.yaml");
        List<ScaleCase> cases = List.of(
                new ScaleCase("llama2-70b t=8 p=8 d=32 m=64 1F1B+R", Planner.plan(emulationScenario(32, 8, 64))),
                new ScaleCase("llama3-405b t=8 p=16 d=128 m=16 1F1B+full", Planner.plan(ScenarioLoader.load(llama3, List.of()))),
                new ScaleCase("llama3-405b t=8 p=16 d=1024 m=16 1F1B+full",
                        Planner.plan(ScenarioLoader.load(llama3, List.of("parallelism.data=1024")))));
        out.printf(Locale.ROOT, "%nruntime at scale: one virtual-time step, telemetry steps, fed to the run telemetry, dashboard and "
                + "metrics; %d round(s) after a warm-up; max heap %,d MB%n", rounds, Runtime.getRuntime().maxMemory() >> 20);
        out.printf(Locale.ROOT, "  %-44s %8s %13s %8s %20s %15s%n", "size", "GPUs", "stage actors", "round", "wall s",
                "peak heap (MB)");
        List<String> rows = new ArrayList<>();
        for (ScaleCase c : cases) {
            List<Double> walls = new ArrayList<>();
            long peak = 0;
            DashboardState dashboard = null;
            Metrics metrics = null;
            for (int round = 0; round <= rounds; round++) {
                RunInfo info = RunInfos.of(c.plan(), PlanReport.of(c.plan(), c.plan().evaluate()), "virtual", 1.0);
                RunTelemetry telemetry = new RunTelemetry(info);
                dashboard = new DashboardState(info);
                metrics = new Metrics(info, "bench");
                telemetry.addListener(dashboard);
                telemetry.addListener(metrics);
                System.gc();
                resetPeaks();
                long t0 = System.nanoTime();
                RunResult r;
                try (EventPump pump = new EventPump(List.of(telemetry), 200)) {
                    r = Emulator.run(RunSpec.of(c.plan()), RunOptions.virtual(1, pump).withTelemetry(TelemetryLevel.STEPS)
                            .withOom(OomPolicy.WARN)).orThrow();
                }
                double s = (System.nanoTime() - t0) / 1e9;
                long heap = peakHeap();
                if (r.stepSeconds(0) != c.plan().evaluate().stepTimeSeconds()) {
                    throw new IllegalStateException("runtime disagrees with the plan at " + c.label());
                }
                if (telemetry.summaries().size() != 1) throw new IllegalStateException("the step's summary is missing at " + c.label());
                out.printf(Locale.ROOT, "  %-44s %,8d %,13d %8s %20.2f %,15d%n", c.label(), c.gpus(), c.plan().pipeline() * c.plan().data(),
                        round == 0 ? "warm-up" : Integer.toString(round), s, heap >> 20);
                out.flush();
                if (round == 0) continue;
                walls.add(s);
                peak = Math.max(peak, heap);
            }
            // what a browser asks for at this size, from the last round's state
            double snapshot = Double.MAX_VALUE;
            double scrape = Double.MAX_VALUE;
            int snapshotBytes = 0;
            int scrapeBytes = 0;
            for (int i = 0; i < 5; i++) {
                long a = System.nanoTime();
                snapshotBytes = dashboard.snapshotJson(0).length();
                snapshot = Math.min(snapshot, (System.nanoTime() - a) / 1e9);
                long b = System.nanoTime();
                scrapeBytes = metrics.scrape().length();
                scrape = Math.min(scrape, (System.nanoTime() - b) / 1e9);
            }
            rows.add(String.format(Locale.ROOT, "  %-44s %,8d %,13d %8.2f (%.2f-%.2f) %,10d %,10d kB %6.1f ms %,9d kB %6.1f ms",
                    c.label(), c.gpus(), c.plan().pipeline() * c.plan().data(), median(walls), min(walls), max(walls), peak >> 20,
                    snapshotBytes >> 10, snapshot * 1e3, scrapeBytes >> 10, scrape * 1e3));
        }
        out.printf(Locale.ROOT, "%n  %-44s %8s %13s %20s %10s %23s %23s%n", "size", "GPUs", "stage actors", "wall s median (range)",
                "peak MB", "/api/state (best of 5)", "/metrics (best of 5)");
        rows.forEach(out::println);
        out.flush();
    }

    /** Wall clock: measured step time (wall seconds x speed) against the virtual step time. */
    void wall(double minActionWallSeconds) {
        Scenario s = emulationScenario(1, 8, 8);
        Plan plan = Planner.plan(s);
        double shortest = Double.MAX_VALUE;
        for (var c : plan.stageCosts()) {
            shortest = Math.min(shortest, c.forwardSeconds());
            if (c.recomputeSeconds() > 0) shortest = Math.min(shortest, c.recomputeSeconds());
        }
        double speed = shortest / minActionWallSeconds;
        double virtual = plan.evaluate().stepTimeSeconds();
        out.printf(Locale.ROOT, "%nruntime, wall clock: llama2-70b t=8 p=8 m=8 1F1B+R, speed %.2f (shortest action %.1f ms of wall time)%n",
                speed, minActionWallSeconds * 1e3);
        out.printf(Locale.ROOT, "  %-6s %16s %16s %10s%n", "step", "measured (emu s)", "virtual (emu s)", "error");
        withSystem(system -> {
            WallSteps steps = new WallSteps();
            Emulator.run(system, RunSpec.of(plan), RunOptions.virtual(rounds + 1, steps).withOom(OomPolicy.WARN).withWallClock(speed)).orThrow();
            for (int k = 0; k < steps.count(); k++) {
                double measured = steps.wallSeconds(k) * speed;
                out.printf(Locale.ROOT, "  %-6d %16.4f %16.4f %9.2f%%%n", k, measured, virtual, (measured / virtual - 1) * 100);
            }
        });
    }

    private interface SystemUse {
        void accept(ActorSystem<?> system);
    }

    private static void withSystem(SystemUse use) {
        ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), Emulator.SYSTEM_NAME, Emulator.config(ConfigFactory.empty()));
        try {
            Cluster cluster = Cluster.get(system);
            cluster.manager().tell(Join.create(cluster.selfMember().address()));
            use.accept(system);
        } finally {
            system.terminate();
            try {
                system.getWhenTerminated().toCompletableFuture().get();
            } catch (Exception e) {
                // best effort
            }
        }
    }

    private static void resetPeaks() {
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) pool.resetPeakUsage();
        }
    }

    private static long peakHeap() {
        long sum = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) sum += pool.getPeakUsage().getUsed();
        }
        return sum;
    }

    /** Counts compute actions and transfers, nothing else. */
    static final class EventCounter implements EventSink {
        final AtomicLong actions = new AtomicLong();
        final AtomicLong transfers = new AtomicLong();
        final AtomicLong records = new AtomicLong();

        @Override
        public void emit(Event e) {
            if (!(e instanceof Event.StepEnded s)) return;
            for (StageRecord r : s.stages()) {
                records.incrementAndGet();
                for (StageRecord.Action a : r.actions()) if (a.microBatch() >= 0) actions.incrementAndGet();
            }
            for (LinkRecord l : s.links()) {
                records.incrementAndGet();
                transfers.addAndGet(l.transfers().size());
            }
        }
    }

    /** Wall nanoseconds between each step's start and end event. */
    private static final class WallSteps implements EventSink {
        private final long[] started = new long[1024];
        private final long[] ended = new long[1024];
        private volatile int count;

        @Override
        public void emit(Event e) {
            if (e instanceof Event.StepStarted s) started[s.step()] = System.nanoTime();
            if (e instanceof Event.StepEnded s) {
                ended[s.step()] = System.nanoTime();
                count = s.step() + 1;
            }
        }

        int count() {
            return count;
        }

        double wallSeconds(int step) {
            return (ended[step] - started[step]) / 1e9;
        }
    }
}
