package dev.pipelab.cli;

import com.typesafe.config.ConfigFactory;
import dev.pipelab.cluster.Host;
import dev.pipelab.cluster.LocalCluster;
import dev.pipelab.cluster.Node;
import dev.pipelab.cluster.NodePlacement;
import dev.pipelab.cluster.WorkerPlacement;
import dev.pipelab.monitoring.EventSink;
import dev.pipelab.pipeline.Emulator;
import dev.pipelab.pipeline.RunOptions;
import dev.pipelab.pipeline.RunResult;
import dev.pipelab.pipeline.RunSpec;
import dev.pipelab.plan.Plan;
import dev.pipelab.plan.Planner;
import dev.pipelab.scenario.Scenario;
import dev.pipelab.stage.OomPolicy;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * {@code pipelab bench cluster}: a local test cluster of worker processes started the way {@code pipelab cluster up}
 * starts them, driven from this one JVM. Measures (a) the time from launching the workers to all of them {@code Up},
 * and from there to a coordinator that joined seeing every worker's host; (b) virtual-time emulation speed on the
 * embedded one-node system against the workers with {@code pack} and {@code spread}, in alternating rounds.
 * Invariant: every worker process it starts is stopped before it returns, also when it fails or the JVM is
 * interrupted (Ctrl-C runs the shutdown hook that stops them).
 */
final class ClusterBench {

    /** Rounds of (embedded, pack, spread) run first and not counted: the JIT of every JVM compiles the paths. */
    static final int WARM_UPS = Integer.getInteger("pipelab.bench.warmups", 2);
    /**
     * Steps per run of the default scenario: 0.1-0.5 s of wall time embedded on an idle 2-core machine, 1-2 s on a busy
     * one; on the workers several times that (spread: tens of times), which is what bounds the run length.
     */
    static final int STEPS = Integer.getInteger("pipelab.bench.steps", 100);
    /** Only a guard against a hang: with a load average of 20 on 2 cores a worker once took over 120 s to be Up. */
    private static final Duration UP_TIMEOUT = Duration.ofSeconds(300);

    private final PrintWriter out;
    private final PrintWriter err;
    private final int rounds;
    private final int nodes;
    private final Optional<Scenario> scenario;

    /** Workers this bench started and has not stopped yet; the shutdown hook stops them. */
    private final List<LocalCluster.Node> running = new ArrayList<>();

    ClusterBench(PrintWriter out, PrintWriter err, int rounds, int nodes, Optional<Scenario> scenario) {
        this.out = out;
        this.err = err;
        this.rounds = rounds;
        this.nodes = nodes;
        this.scenario = scenario;
    }

    /**
     * llama2-70b t=8 p=8 d=2 m=64 1F1B with selective recomputation: 16 stages, so that pack puts each replica on one
     * worker (8 slots on 2 cores) and the ring all-reduce crosses JVMs, while spread deals every stage round-robin.
     */
    static Scenario defaultScenario() {
        Scenario s = RuntimeBench.emulationScenario(2, 8, 64);
        return new Scenario("bench-cluster", s.model(), s.hardware(), s.parallelism(), s.batch(),
                new Scenario.Training("1f1b", "selective", "adam-mixed", STEPS, Optional.empty(), Optional.empty(), "warn"),
                Optional.empty(), 0);
    }

    void run() throws IOException {
        Scenario s = scenario.orElseGet(ClusterBench::defaultScenario);
        // real numerics measure their action times: no virtual-time answer to check the runs against
        if (s.realNumerics()) throw new UserException("bench cluster: --scenario must use emulated numerics, not training.numerics: real");
        Plan plan = Planner.plan(s);
        RunSpec spec = RunSpec.of(plan);
        int steps = plan.steps();
        // said before minutes of start-up, not after: the workers offer their default slots (cores x SLOTS_PER_CORE)
        int slots = nodes * Node.Options.defaultSlots();
        if (plan.data() * plan.pipeline() > slots) {
            throw new UserException("bench cluster: " + plan.data() * plan.pipeline() + " stages (" + plan.data() + " replicas x "
                    + plan.pipeline() + " ranks) need more than the " + slots + " slots of " + nodes + " worker(s): raise --nodes");
        }
        Path dir = Files.createTempDirectory("pipelab-bench-cluster-");
        Thread hook = new Thread(this::stopWorkers, "bench-cluster-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            Node coordinator = startup(dir);
            try {
                emulation(coordinator, plan, spec, steps);
            } finally {
                coordinator.close();
            }
        } finally {
            stopWorkers();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // the JVM is already shutting down: the hook runs (and finds nothing left to stop)
            }
        }
        out.println("  worker logs: " + dir);
    }

    /**
     * {@link #rounds} times: launch the workers, time until all are Up, then until a coordinator joined and sees all
     * their hosts; every round but the last stops its workers. Returns the last round's coordinator.
     */
    private Node startup(Path dir) throws IOException {
        out.printf(Locale.ROOT, "%ncluster start-up: %d worker processes on 127.0.0.1 (as 'pipelab cluster up --nodes %d'), %d rounds%n",
                nodes, nodes, rounds);
        out.printf(Locale.ROOT, "  %-7s %14s %26s%n", "round", "all Up (s)", "+ coordinator sees hosts (s)");
        List<Double> up = new ArrayList<>();
        List<Double> hosts = new ArrayList<>();
        for (int round = 1; ; round++) {
            ClusterCommand.Up command = new ClusterCommand.Up();
            command.nodes = nodes;
            Path roundDir = Files.createDirectories(dir.resolve("round-" + round));
            long t0 = System.nanoTime();
            List<Integer> ports = command.ports();
            List<LocalCluster.Node> launched = new ArrayList<>();
            for (int i = 0; i < nodes; i++) {
                LocalCluster.Node n = command.launch(roundDir, i, ports);
                launched.add(n);
                synchronized (running) {
                    running.add(n);
                }
            }
            LocalCluster cluster = new LocalCluster(launched);
            try {
                cluster = ClusterCommand.Up.awaitUp(cluster, roundDir, UP_TIMEOUT);
            } catch (RuntimeException e) {
                throw new IllegalStateException("bench cluster: " + e.getMessage(), e);
            }
            double allUp = (System.nanoTime() - t0) / 1e9;
            long t1 = System.nanoTime();
            Node coordinator = Node.start(new Node.Options(Node.Role.COORDINATOR, Optional.empty(), ClusterCommand.HOST, 0,
                    List.of(cluster.seed().hostPort()), 1), Emulator.ACTORS);
            List<Node.Worker> workers;
            try {
                coordinator.awaitUp(UP_TIMEOUT);
                workers = coordinator.awaitWorkers(UP_TIMEOUT);
                if (workers.size() != nodes) {
                    throw new IllegalStateException("bench cluster: the coordinator sees " + workers.size() + " workers, not " + nodes);
                }
            } catch (RuntimeException e) {
                coordinator.close();
                throw e;
            }
            double seen = (System.nanoTime() - t1) / 1e9;
            up.add(allUp);
            hosts.add(seen);
            out.printf(Locale.ROOT, "  %-7d %14.2f %26.2f%n", round, allUp, seen);
            out.flush();
            if (round == rounds) {
                out.printf(Locale.ROOT, "  medians: all Up %.2f s, then the coordinator joined and saw %d hosts %.2f s later%n",
                        median(up), nodes, median(hosts));
                return coordinator;
            }
            coordinator.close();
            stopWorkers();
        }
    }

    /**
     * Alternating rounds of the same run on the embedded one-node system, on the workers with pack and with spread;
     * each run must give the analytic step time, so the speeds compare runs that computed the same answer.
     */
    private void emulation(Node coordinator, Plan plan, RunSpec spec, int steps) {
        List<Node.Worker> workers = coordinator.awaitWorkers(UP_TIMEOUT);
        List<ActorRef<Host.Command>> hosts = workers.stream().map(Node.Worker::host).toList();
        List<Integer> slots = workers.stream().map(Node.Worker::slots).toList();
        NodePlacement pack;
        NodePlacement spread;
        try {
            pack = WorkerPlacement.of(WorkerPlacement.assign(WorkerPlacement.Strategy.PACK, slots, plan.data(), plan.pipeline()));
            spread = WorkerPlacement.of(WorkerPlacement.assign(WorkerPlacement.Strategy.SPREAD, slots, plan.data(), plan.pipeline()));
        } catch (IllegalArgumentException e) {
            throw new UserException("bench cluster: " + e.getMessage());
        }
        double analytic = plan.evaluate().stepTimeSeconds();
        ActorSystem<Void> embedded = ActorSystem.create(Behaviors.empty(), Emulator.SYSTEM_NAME, Emulator.config(ConfigFactory.empty()));
        try {
            Cluster cluster = Cluster.get(embedded);
            cluster.manager().tell(Join.create(cluster.selfMember().address()));
            RuntimeBench.EventCounter counted = new RuntimeBench.EventCounter();
            Emulator.run(embedded, spec, RunOptions.virtual(1, counted).withOom(OomPolicy.WARN)).orThrow();
            long perStep = counted.actions.get() + counted.transfers.get();
            out.printf(Locale.ROOT, "%ncluster emulation, virtual time: %s, p=%d d=%d m=%d %s, %d steps a run: %,d compute actions + %,d "
                            + "transfers per step%n", plan.name(), plan.pipeline(), plan.data(),
                    plan.microBatches(), plan.schedule().name(), steps, counted.actions.get(), counted.transfers.get());
            out.printf(Locale.ROOT, "  this JVM drives all runs; %d warm-up rounds, then %d rounds of embedded, pack, spread; telemetry off%n",
                    WARM_UPS, rounds);
            out.printf(Locale.ROOT, "  %-7s %14s %14s %14s %13s %15s%n", "round", "embedded/s", "pack/s", "spread/s", "pack/embed", "spread/embed");
            List<Double> e = new ArrayList<>();
            List<Double> p = new ArrayList<>();
            List<Double> sp = new ArrayList<>();
            List<Double> pr = new ArrayList<>();
            List<Double> sr = new ArrayList<>();
            for (int round = -WARM_UPS + 1; round <= rounds; round++) {
                double re = perStep * steps / timed(() -> Emulator.run(embedded, spec, options(steps)), analytic);
                double rp = perStep * steps / timed(() -> Emulator.run(coordinator.system(), hosts, pack, spec, options(steps)), analytic);
                double rs = perStep * steps / timed(() -> Emulator.run(coordinator.system(), hosts, spread, spec, options(steps)), analytic);
                out.printf(Locale.ROOT, "  %-7s %,14.0f %,14.0f %,14.0f %12.2fx %14.2fx%n", round < 1 ? "warm-up" : Integer.toString(round),
                        re, rp, rs, rp / re, rs / re);
                out.flush();
                if (round < 1) continue;
                e.add(re);
                p.add(rp);
                sp.add(rs);
                pr.add(rp / re);
                sr.add(rs / re);
            }
            out.printf(Locale.ROOT, "  medians: embedded %,.0f/s, pack %,.0f/s, spread %,.0f/s; pack/embedded %.2fx (%.2f-%.2f), "
                            + "spread/embedded %.2fx (%.2f-%.2f)%n", median(e), median(p), median(sp), median(pr), min(pr), max(pr),
                    median(sr), min(sr), max(sr));
            out.println("  (emulated compute actions + transfers per wall second; a ratio is the round's cluster speed over its");
            out.println("   embedded speed; every run gave the analytic step time)");
        } finally {
            embedded.terminate();
            try {
                embedded.getWhenTerminated().toCompletableFuture().get();
            } catch (Exception ex) {
                // best effort
            }
        }
    }

    private static RunOptions options(int steps) {
        return RunOptions.virtual(steps, EventSink.NONE).withOom(OomPolicy.WARN);
    }

    /** Wall seconds of one run, after checking that every step took the analytic step time. */
    private static double timed(Supplier<RunResult> run, double analytic) {
        System.gc();
        long t0 = System.nanoTime();
        RunResult r = run.get().orThrow();
        double s = (System.nanoTime() - t0) / 1e9;
        for (RunResult.StepResult step : r.steps()) {
            if (step.stepSeconds() != analytic) {
                throw new IllegalStateException("bench cluster: step " + step.step() + " took " + step.stepSeconds()
                        + " emulated s, the plan says " + analytic + " (a bug: deployment must not change a virtual-time number)");
            }
        }
        return s;
    }

    /** Stops every worker still running (SIGTERM, SIGKILL after 30 s); says so when one survives even that. */
    private void stopWorkers() {
        List<LocalCluster.Node> nodes;
        synchronized (running) {
            nodes = List.copyOf(running);
            running.clear();
        }
        if (nodes.isEmpty()) return;
        ClusterCommand.Stopper.Result r = ClusterCommand.Stopper.stop(nodes, Duration.ofSeconds(30), err);
        if (!r.survivors().isEmpty()) err.println("bench cluster: still alive after SIGKILL: pids " + r.survivors());
        err.flush();
    }

    private static double median(List<Double> values) {
        double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }

    private static double min(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
    }

    private static double max(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
    }
}
