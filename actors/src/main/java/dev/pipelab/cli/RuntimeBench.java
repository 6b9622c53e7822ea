package dev.pipelab.cli;

import com.typesafe.config.ConfigFactory;
import dev.pipelab.monitoring.Event;
import dev.pipelab.monitoring.EventLog;
import dev.pipelab.monitoring.EventPump;
import dev.pipelab.monitoring.EventSink;
import dev.pipelab.monitoring.RunAggregate;
import dev.pipelab.monitoring.RunInfo;
import dev.pipelab.monitoring.dashboard.DashboardState;
import dev.pipelab.monitoring.metrics.Metrics;
import dev.pipelab.monitoring.trace.TraceWriter;
import dev.pipelab.pipeline.Emulator;
import dev.pipelab.pipeline.RunOptions;
import dev.pipelab.pipeline.RunResult;
import dev.pipelab.pipeline.RunSpec;
import dev.pipelab.plan.Plan;
import dev.pipelab.plan.PlanReport;
import dev.pipelab.plan.Planner;
import dev.pipelab.scenario.Scenario;
import dev.pipelab.stage.OomPolicy;
import dev.pipelab.schedule.CompiledSchedule;
import dev.pipelab.schedule.Evaluator;
import dev.pipelab.schedule.Timeline;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The actor runtime's benchmarks: virtual-time emulation speed (actions and transfers per second), its cost
 * against the analytic evaluator, the overhead of full monitoring, one step on 2,048 emulated GPUs, and wall-clock
 * accuracy. Invariant: one ActorSystem (a one-node cluster) serves all rounds, so cluster start-up is not measured.
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

    void emulation() {
        Plan plan = Planner.plan(emulationScenario(4, 8, 64));
        RunSpec spec = RunSpec.of(plan);
        EventCounter counted = new EventCounter();
        withSystem(system -> {
            Emulator.run(system, spec, RunOptions.virtual(1, counted).withOom(OomPolicy.WARN)).orThrow();
            long perStep = counted.actions.get() + counted.transfers.get();
            out.printf(Locale.ROOT, "%nruntime, virtual time: llama2-70b t=8 p=8 d=4 m=64 1F1B+R: %,d compute actions + %,d transfers per step, "
                    + "reported in %,d batches%n", counted.actions.get(), counted.transfers.get(), counted.batches.get());
            CompiledSchedule compiled = Evaluator.compile(plan.schedule());
            out.printf(Locale.ROOT, "  %-8s %6s %15s %15s %9s %15s %9s %11s %10s%n", "round", "steps", "telemetry off/s",
                    "on, emulation/s", "on / off", "on, drained/s", "on / off", "trace after", "rt / eval");
            int steps = 100;
            int warmUps = 2;
            double[] emulationRatio = new double[rounds];
            double[] drainedRatio = new double[rounds];
            double bestOff = Double.MAX_VALUE;
            double bestEmulation = Double.MAX_VALUE;
            double bestDrained = Double.MAX_VALUE;
            for (int round = -warmUps + 1; round <= rounds; round++) {
                // alternate which goes first, so the JIT's and the heap's drift does not always favour one side
                boolean offFirst = (round & 1) == 0;
                double off = 0;
                double on = 0;
                double emu = 0;
                for (int half = 0; half < 2; half++) {
                    System.gc();
                    if ((half == 0) == offFirst) {
                        long t0 = System.nanoTime();
                        Emulator.run(system, spec, RunOptions.virtual(steps, EventSink.NONE).withOom(OomPolicy.WARN)).orThrow();
                        off = (System.nanoTime() - t0) / 1e9;
                    } else {
                        on = monitored(system, plan, spec, steps);
                        emu = lastEmulationSeconds;
                    }
                }
                System.gc();
                long e0 = System.nanoTime();
                int evals = 0;
                while (System.nanoTime() - e0 < 1_000_000_000L) {
                    Timeline t = compiled.evaluate(plan.stageCosts(), plan.network(), plan.linkBuffer());
                    if (t.stepTimeSeconds() <= 0) throw new IllegalStateException();
                    evals++;
                }
                double evaluatorStep = (System.nanoTime() - e0) / 1e9 / evals;
                if (round >= 1) {
                    emulationRatio[round - 1] = off / emu;
                    drainedRatio[round - 1] = off / on;
                    bestOff = Math.min(bestOff, off);
                    bestEmulation = Math.min(bestEmulation, emu);
                    bestDrained = Math.min(bestDrained, on);
                }
                out.printf(Locale.ROOT, "  %-8s %6d %,15.0f %,15.0f %8.1f%% %,15.0f %8.1f%% %9.2f s %9.0fx%n",
                        round < 1 ? "warm-up" : Integer.toString(round), steps, perStep * steps / off, perStep * steps / emu,
                        100 * off / emu, perStep * steps / on, 100 * off / on, lastTraceSeconds, (off / steps) / evaluatorStep);
            }
            if (rounds > 0) {
                out.printf(Locale.ROOT, "  on / off: median of rounds %.1f%% (emulation), %.1f%% (drained); best against best "
                                + "%.1f%% (emulation), %.1f%% (drained)%n", 100 * median(emulationRatio), 100 * median(drainedRatio),
                        100 * bestOff / bestEmulation, 100 * bestOff / bestDrained);
            }
            out.println("  (actions+transfers per wall second. 'on' feeds the event log, run aggregate, dashboard state and");
            out.println("   Prometheus metrics through an EventPump, as 'pipelab run' does: 'emulation' until the run returns,");
            out.println("   'drained' until the pump has delivered every event; 'trace after' writes trace.json from the log;");
            out.println("   'rt / eval' is the runtime's time per step over the analytic evaluator's)");
        });
    }

    /**
     * One monitored run. {@code -Dpipelab.bench.consumers=log,aggregate,dashboard,metrics} (the default; {@code none}
     * drops every event) picks the consumers, to see what each costs.
     */
    private double monitored(ActorSystem<?> system, Plan plan, RunSpec spec, int steps) {
        RunInfo info = RunInfos.of(plan, PlanReport.of(plan, plan.evaluate()), "virtual", 1.0);
        EventLog log = new EventLog();
        RunAggregate aggregate = new RunAggregate(info);
        DashboardState dashboard = new DashboardState(info);
        Metrics metrics = new Metrics(info, "bench");
        long t0 = System.nanoTime();
        String only = System.getProperty("pipelab.bench.consumers", "log,aggregate,dashboard,metrics");
        List<EventSink> consumers = new java.util.ArrayList<>();
        if (only.contains("log")) consumers.add(log);
        if (only.contains("aggregate")) consumers.add(aggregate::accept);
        if (only.contains("dashboard")) consumers.add(dashboard);
        if (only.contains("metrics")) consumers.add(metrics);
        try (EventPump all = new EventPump(consumers, 200)) {
            Emulator.run(system, spec, RunOptions.virtual(steps, all).withOom(OomPolicy.WARN)).orThrow();
            lastEmulationSeconds = (System.nanoTime() - t0) / 1e9;
        }
        double run = (System.nanoTime() - t0) / 1e9;
        long w0 = System.nanoTime();
        try {
            TraceWriter.write(info, log.events(), OutputStream.nullOutputStream());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        lastTraceSeconds = (System.nanoTime() - w0) / 1e9;
        return run;
    }

    private static double median(double[] values) {
        double[] v = values.clone();
        java.util.Arrays.sort(v);
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }

    private double lastTraceSeconds;
    private double lastEmulationSeconds;

    /** One step of llama2-70b on 2,048 emulated GPUs: t=8, p=8, d=32, m=64. */
    void scale() {
        Plan plan = Planner.plan(emulationScenario(32, 8, 64));
        RunSpec spec = RunSpec.of(plan);
        out.printf(Locale.ROOT, "%nruntime, 2,048 emulated GPUs: llama2-70b t=8 p=8 d=32 m=64 (%d stage actors), one step%n",
                plan.pipeline() * plan.data());
        out.printf(Locale.ROOT, "  %-8s %12s %18s %16s%n", "round", "wall s", "peak heap (MB)", "max heap (MB)");
        withSystem(system -> {
            for (int round = 0; round <= rounds; round++) {
                System.gc();
                resetPeaks();
                long t0 = System.nanoTime();
                RunResult r = Emulator.run(system, spec, RunOptions.virtual(1, EventSink.NONE).withOom(OomPolicy.WARN)).orThrow();
                double s = (System.nanoTime() - t0) / 1e9;
                if (r.stepSeconds(0) != plan.evaluate().stepTimeSeconds()) throw new IllegalStateException("runtime disagrees with the plan");
                out.printf(Locale.ROOT, "  %-8s %12.2f %,18d %,16d%n", round == 0 ? "warm-up" : Integer.toString(round), s,
                        peakHeap() >> 20, Runtime.getRuntime().maxMemory() >> 20);
            }
            // the dashboard at this size: one step fed into its state and the metrics, then what a browser asks for
            RunInfo info = RunInfos.of(plan, PlanReport.of(plan, plan.evaluate()), "virtual", 1.0);
            DashboardState dashboard = new DashboardState(info);
            Metrics metrics = new Metrics(info, "bench");
            long t0 = System.nanoTime();
            try (EventPump pump = new EventPump(List.<EventSink>of(dashboard, metrics), 200)) {
                Emulator.run(system, spec, RunOptions.virtual(1, pump).withOom(OomPolicy.WARN)).orThrow();
            }
            double fed = (System.nanoTime() - t0) / 1e9;
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
            out.printf(Locale.ROOT, "  with the dashboard state and metrics fed: %.2f s; /api/state %,d kB in %.1f ms; "
                    + "/metrics %,d kB in %.1f ms (best of 5)%n", fed, snapshotBytes >> 10, snapshot * 1e3, scrapeBytes >> 10, scrape * 1e3);
        });
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
    private static final class EventCounter implements EventSink {
        final AtomicLong actions = new AtomicLong();
        final AtomicLong transfers = new AtomicLong();
        final AtomicLong batches = new AtomicLong();

        @Override
        public void emit(Event e) {
            if (e instanceof dev.pipelab.monitoring.RankActivity a) {
                batches.incrementAndGet();
                for (int i = 0; i < a.actions(); i++) if (a.microBatch(i) >= 0) actions.incrementAndGet();
            } else if (e instanceof dev.pipelab.monitoring.LinkActivity l) {
                batches.incrementAndGet();
                transfers.addAndGet(l.transfers());
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
