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
import java.util.ArrayList;
import java.util.List;
import java.nio.file.Path;
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

    /** Forked JVMs unless {@code --rounds} says otherwise. */
    static final int DEFAULT_FORKS = 5;

    /**
     * Pairs of runs (one per mode) measured per forked JVM, after {@link #FORK_WARM_UPS} warm-up pairs (after four
     * single-mode runs, the JIT was still compiling); steps per run.
     */
    static final int FORK_RUNS = Integer.getInteger("pipelab.bench.runs", 8);
    static final int FORK_WARM_UPS = Integer.getInteger("pipelab.bench.warmups", 5);
    static final int FORK_STEPS = 200;

    /**
     * Emulation speed with telemetry off and with all monitoring on, in {@code rounds} forked JVMs that each run both
     * modes in turn ({@code --fork pair}), and the ratio of the two within each JVM. Why pairs inside a JVM: the same
     * code ran up to 1.7x faster in one JVM than in another (its JIT's choices), so comparing modes across JVMs needed
     * more forks than a benchmark can afford, while within one JVM both modes run the same compiled code. Why
     * alternate from the start: a mode first met after the other has warmed up would deoptimise the stages' code and
     * pay for recompiling it; after the warm-up pairs, both modes' paths are compiled. Each fork's ratio is the median
     * of its monitored runs over the median of its telemetry-off runs; the result is the median of the forks' ratios.
     */
    void emulation() {
        Plan plan = Planner.plan(emulationScenario(4, 8, 64));
        RunSpec spec = RunSpec.of(plan);
        EventCounter counted = new EventCounter();
        double[] evaluatorStep = new double[1];
        withSystem(system -> {
            Emulator.run(system, spec, RunOptions.virtual(1, counted).withOom(OomPolicy.WARN)).orThrow();
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
        });
        long perStep = counted.actions.get() + counted.transfers.get();
        out.printf(Locale.ROOT, "%nruntime, virtual time: llama2-70b t=8 p=8 d=4 m=64 1F1B+R: %,d compute actions + %,d transfers per step, "
                + "reported in %,d records%n", counted.actions.get(), counted.transfers.get(), counted.records.get());
        out.printf(Locale.ROOT, "  %d forked JVMs; each: %d warm-up pairs of runs, then %d pairs (off and on in turn) of %d steps (medians)%n",
                rounds, FORK_WARM_UPS, FORK_RUNS, FORK_STEPS);
        out.printf(Locale.ROOT, "  %-5s %14s %14s %14s %8s %8s %9s %9s %10s %11s%n", "fork", "off/s", "on/s", "on drained/s",
                "on/off", "drained", "cpu off", "cpu on", "consumers", "trace after");
        List<Double> offRates = new ArrayList<>();
        List<Double> onRates = new ArrayList<>();
        List<Double> ratios = new ArrayList<>();
        List<Double> drainedRatios = new ArrayList<>();
        List<Double> offCpu = new ArrayList<>();
        List<Double> onCpu = new ArrayList<>();
        List<Double> consumerCpu = new ArrayList<>();
        for (int fork = 1; fork <= rounds; fork++) {
            ForkResult r = fork();
            double off = perStep * FORK_STEPS / median(r.off.emulationSeconds);
            double on = perStep * FORK_STEPS / median(r.on.emulationSeconds);
            double drained = perStep * FORK_STEPS / median(r.on.drainedSeconds);
            offRates.add(off);
            onRates.add(on);
            ratios.add(on / off);
            drainedRatios.add(drained / off);
            offCpu.add(median(r.off.cpuSeconds));
            onCpu.add(median(r.on.cpuSeconds));
            consumerCpu.add(median(r.on.consumerSeconds));
            out.printf(Locale.ROOT, "  %-5d %,14.0f %,14.0f %,14.0f %7.1f%% %7.1f%% %7.2f s %7.2f s %8.2f s %9.2f s%n", fork, off, on,
                    drained, 100 * on / off, 100 * drained / off, median(r.off.cpuSeconds), median(r.on.cpuSeconds),
                    median(r.on.consumerSeconds), r.traceSeconds);
            out.flush();
        }
        out.printf(Locale.ROOT, "  medians: telemetry off %,.0f/s, all monitoring on %,.0f/s; on / off %.1f%% (forks %.1f%%-%.1f%%), "
                        + "%.1f%% until every event is consumed%n", median(offRates), median(onRates), 100 * median(ratios),
                100 * min(ratios), 100 * max(ratios), 100 * median(drainedRatios));
        out.printf(Locale.ROOT, "  cpu per run: off %.2f s, on %.2f s, of which the consumers %.2f s%n",
                median(offCpu), median(onCpu), median(consumerCpu));
        out.printf(Locale.ROOT, "  runtime / evaluator, time per step: %.0fx%n", perStep / median(offRates) / evaluatorStep[0]);
        out.println("  (actions+transfers per wall second. 'on' feeds the event log, run telemetry, dashboard state and");
        out.println("   Prometheus metrics through an EventPump, as 'pipelab run' does, until the run returns; 'drained' until");
        out.println("   the pump has delivered every event; 'cpu' is the process's cpu seconds per run, all threads; 'consumers'");
        out.println("   the part the pump's consumers took; 'trace after' writes trace.json of the fork's last monitored run)");
    }

    private record Runs(double[] emulationSeconds, double[] drainedSeconds, double[] cpuSeconds, double[] consumerSeconds) {
        static Runs of(List<double[]> runs) {
            double[][] columns = new double[4][runs.size()];
            for (int i = 0; i < runs.size(); i++) for (int c = 0; c < 4; c++) columns[c][i] = runs.get(i)[c];
            return new Runs(columns[0], columns[1], columns[2], columns[3]);
        }
    }

    private record ForkResult(Runs off, Runs on, double traceSeconds) {}

    /** Starts a JVM like this one (same options, e.g. PIPELAB_JAVA_OPTS) that runs {@link #forked} with both modes. */
    private ForkResult fork() {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName(), "bench", "runtime",
                "--fork", "pair"));
        List<double[]> off = new ArrayList<>();
        List<double[]> on = new ArrayList<>();
        double trace = 0;
        StringBuilder all = new StringBuilder();
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            try (var reader = new java.io.BufferedReader(new java.io.InputStreamReader(process.getInputStream(),
                    java.nio.charset.StandardCharsets.UTF_8))) {
                String line;
                while ((line = reader.readLine()) != null) {
                    all.append(line).append('\n');
                    String[] f = line.trim().split("\\s+");
                    if (f[0].equals("RUN") && f.length == 6 && (f[1].equals("off") || f[1].equals("on"))) {
                        (f[1].equals("off") ? off : on).add(new double[] {Double.parseDouble(f[2]), Double.parseDouble(f[3]),
                                Double.parseDouble(f[4]), Double.parseDouble(f[5])});
                    } else if (f[0].equals("TRACE") && f.length == 2) {
                        trace = Double.parseDouble(f[1]);
                    }
                }
            }
            int code = process.waitFor();
            if (code != 0 || off.size() != FORK_RUNS || on.size() != FORK_RUNS) {
                throw new IllegalStateException("forked benchmark exited with " + code + " after " + off.size() + " + "
                        + on.size() + " runs:\n" + all);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot start a forked benchmark JVM: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
        return new ForkResult(Runs.of(off), Runs.of(on), trace);
    }

    /**
     * The forked side of {@link #emulation}: {@code pair} runs both modes in turn (the measured pairs alternate which
     * goes first), {@code off} (EventSink.NONE) or {@code on} (as {@link #monitored}) one mode only, for profiling;
     * prints {@code RUN mode emulationSeconds drainedSeconds cpuSeconds consumerSeconds} per measured run and, after a
     * monitored mode, {@code TRACE seconds} for writing its last run's trace.
     */
    void forked(String mode) {
        if (!List.of("off", "on", "pair").contains(mode)) throw new UserException("--fork must be off, on or pair, got '" + mode + "'");
        Plan plan = Planner.plan(emulationScenario(4, 8, 64));
        RunSpec spec = RunSpec.of(plan);
        withSystem(system -> {
            for (int run = -FORK_WARM_UPS + 1; run <= FORK_RUNS; run++) {
                List<String> modes = !mode.equals("pair") ? List.of(mode) : run % 2 == 0 ? List.of("off", "on") : List.of("on", "off");
                for (String m : modes) {
                    System.gc();
                    double emulation;
                    double drained;
                    double cpu;
                    double consumers = 0;
                    if (m.equals("off")) {
                        long c0 = processCpuNanos();
                        long t0 = System.nanoTime();
                        Emulator.run(system, spec, RunOptions.virtual(FORK_STEPS, EventSink.NONE).withOom(OomPolicy.WARN)).orThrow();
                        emulation = (System.nanoTime() - t0) / 1e9;
                        drained = emulation;
                        cpu = (processCpuNanos() - c0) / 1e9;
                    } else {
                        drained = monitored(system, plan, spec, FORK_STEPS, run == FORK_RUNS);
                        emulation = lastEmulationSeconds;
                        cpu = lastCpuSeconds;
                        consumers = lastConsumerCpuSeconds;
                    }
                    if (run >= 1) out.printf(Locale.ROOT, "RUN %s %.6f %.6f %.6f %.6f%n", m, emulation, drained, cpu, consumers);
                    out.flush();
                }
            }
            if (!mode.equals("off")) out.printf(Locale.ROOT, "TRACE %.6f%n", lastTraceSeconds);
        });
    }

    /**
     * One monitored run. {@code -Dpipelab.bench.consumers=log,telemetry,dashboard,metrics} (the default; {@code none}
     * drops every event after the pump; {@code unpumped} drops it at the sink, without a pump) picks the consumers, to
     * see what each costs; the dashboard and the metrics read the telemetry's step summaries, so either brings it.
     */
    private double monitored(ActorSystem<?> system, Plan plan, RunSpec spec, int steps, boolean writeTrace) {
        RunInfo info = RunInfos.of(plan, PlanReport.of(plan, plan.evaluate()), "virtual", 1.0);
        EventLog log = new EventLog();
        RunTelemetry telemetry = new RunTelemetry(info);
        DashboardState dashboard = new DashboardState(info);
        Metrics metrics = new Metrics(info, "bench");
        long t0 = System.nanoTime();
        String only = System.getProperty("pipelab.bench.consumers", "log,telemetry,dashboard,metrics");
        List<EventSink> consumers = new ArrayList<>();
        if (only.contains("log")) consumers.add(log);
        if (only.contains("dashboard")) telemetry.addListener(dashboard);
        if (only.contains("metrics")) telemetry.addListener(metrics);
        if (only.contains("telemetry") || only.contains("dashboard") || only.contains("metrics")) consumers.add(telemetry);
        long c0 = processCpuNanos();
        if (only.equals("unpumped")) {
            // the stages and links record and hand out their step records, and nothing takes them: the producers' cost alone
            Emulator.run(system, spec, RunOptions.virtual(steps, event -> { }).withOom(OomPolicy.WARN)).orThrow();
            lastEmulationSeconds = (System.nanoTime() - t0) / 1e9;
            lastCpuSeconds = (processCpuNanos() - c0) / 1e9;
            lastConsumerCpuSeconds = 0;
            lastTraceSeconds = 0;
            return lastEmulationSeconds;
        }
        EventPump all = new EventPump(consumers, 200);
        try (all) {
            Emulator.run(system, spec, RunOptions.virtual(steps, all).withOom(OomPolicy.WARN)).orThrow();
            lastEmulationSeconds = (System.nanoTime() - t0) / 1e9;
        }
        lastCpuSeconds = (processCpuNanos() - c0) / 1e9;
        lastConsumerCpuSeconds = all.consumerCpuNanos() / 1e9;
        double run = (System.nanoTime() - t0) / 1e9;
        if (!writeTrace) return run;
        long w0 = System.nanoTime();
        try {
            TraceWriter.write(info, log.events(), OutputStream.nullOutputStream());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        lastTraceSeconds = (System.nanoTime() - w0) / 1e9;
        return run;
    }

    private static double min(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
    }

    private static double max(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
    }

    private static double median(List<Double> values) {
        return median(values.stream().mapToDouble(Double::doubleValue).toArray());
    }

    private static double median(double[] values) {
        double[] v = values.clone();
        java.util.Arrays.sort(v);
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }

    private static long processCpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        return 0;
    }

    private double lastConsumerCpuSeconds;
    private double lastCpuSeconds;
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
            // the dashboard at this size: one step summarised into its state and the metrics, then what a browser asks for
            RunInfo info = RunInfos.of(plan, PlanReport.of(plan, plan.evaluate()), "virtual", 1.0);
            DashboardState dashboard = new DashboardState(info);
            Metrics metrics = new Metrics(info, "bench");
            RunTelemetry telemetry = new RunTelemetry(info);
            telemetry.addListener(dashboard);
            telemetry.addListener(metrics);
            long t0 = System.nanoTime();
            try (EventPump pump = new EventPump(List.of(telemetry), 200)) {
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
