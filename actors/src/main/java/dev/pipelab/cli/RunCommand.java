package dev.pipelab.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pipelab.clock.ClockMode;
import dev.pipelab.cluster.Host;
import dev.pipelab.cluster.Node;
import dev.pipelab.cluster.NodePlacement;
import dev.pipelab.cluster.WorkerPlacement;
import dev.pipelab.fault.Fault;
import dev.pipelab.fault.FaultCheck;
import dev.pipelab.fault.FaultChoice;
import dev.pipelab.fault.FaultInbox;
import dev.pipelab.fault.FaultProblem;
import dev.pipelab.fault.FaultSyntax;
import dev.pipelab.fault.RunShape;
import dev.pipelab.monitoring.Deployment;
import dev.pipelab.monitoring.Event;
import dev.pipelab.monitoring.EventLog;
import dev.pipelab.monitoring.EventPump;
import dev.pipelab.monitoring.EventSink;
import dev.pipelab.monitoring.ProgressLine;
import dev.pipelab.monitoring.RunInfo;
import dev.pipelab.monitoring.RunTelemetry;
import dev.pipelab.monitoring.StageRecord;
import dev.pipelab.monitoring.StepSummary;
import dev.pipelab.monitoring.WallClock;
import dev.pipelab.monitoring.dashboard.DashboardServer;
import dev.pipelab.monitoring.dashboard.DashboardState;
import dev.pipelab.monitoring.dashboard.FaultInjector;
import dev.pipelab.monitoring.metrics.Metrics;
import dev.pipelab.monitoring.report.HtmlReport;
import dev.pipelab.monitoring.report.OutOfMemoryLines;
import dev.pipelab.monitoring.report.ReportJson;
import dev.pipelab.monitoring.report.RunReport;
import dev.pipelab.monitoring.report.SummaryTable;
import dev.pipelab.monitoring.report.TextGantt;
import dev.pipelab.monitoring.trace.TraceWriter;
import dev.pipelab.numerics.Param;
import dev.pipelab.numerics.SequentialTrainer;
import dev.pipelab.numerics.WeightsFile;
import dev.pipelab.pipeline.Emulator;
import dev.pipelab.pipeline.RunOptions;
import dev.pipelab.pipeline.RunResult;
import dev.pipelab.pipeline.RunSpec;
import dev.pipelab.pipeline.TelemetryChoice;
import dev.pipelab.plan.Plan;
import dev.pipelab.plan.PlanReport;
import dev.pipelab.plan.Planner;
import dev.pipelab.scenario.LoadedScenario;
import dev.pipelab.scenario.Scenario;
import dev.pipelab.scenario.ScenarioLoader;
import dev.pipelab.schedule.Timeline;
import dev.pipelab.stage.OomPolicy;
import dev.pipelab.stage.RealSetup;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code pipelab run [SCENARIO]}: the scenario as a live pipeline of Pekko actors on the embedded one-node cluster,
 * with a progress line per step, the dashboard and {@code /metrics} while it runs, and {@code report.json},
 * {@code trace.json} and {@code report.html} at the end. Invariant: the output folder holds only complete files
 * (each is written beside its name and moved into place), and a virtual-time run is checked against the plan.
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Run a scenario as a live pipeline of Pekko actors (default: scenarios/quickstart.yaml) and write "
                + "report.json, trace.json and report.html.")
final class RunCommand implements Callable<Integer> {

    @Parameters(arity = "0..1", paramLabel = "SCENARIO", description = "Scenario file (default: scenarios/quickstart.yaml).")
    Path file;

    @Option(names = "--set", paramLabel = "KEY.PATH=VALUE", description = "Override a scenario value (repeatable).")
    List<String> sets = new ArrayList<>();

    @Option(names = "--device", paramLabel = "NAME", description = "Swap the device type.")
    String device;

    @Option(names = "--fault", paramLabel = "SPEC",
            description = "Inject a fault, after the scenario's faults: 'KIND TARGET at=STEP[+SECONDS] [for=SECONDS] "
                    + "[heal=STEP[+SECONDS]] [PARAM=VALUE] [seed=N]', e.g. 'link.loss 0/1->2 at=3+0.5 for=2 probability=0.05' "
                    + "(repeatable; docs/scenario-keys.md lists kinds and targets).")
    List<String> faultSpecs = new ArrayList<>();

    @Option(names = "--clock", defaultValue = "virtual", paramLabel = "virtual|wall",
            description = "virtual: as fast as messages flow, exact and deterministic; wall: durations become timers "
                    + "scaled by --speed, to watch it live (default ${DEFAULT-VALUE}).")
    String clock;

    @Option(names = "--speed", defaultValue = "1.0", paramLabel = "X",
            description = "Wall clock only: emulated seconds per wall second (default ${DEFAULT-VALUE}).")
    double speed;

    @Option(names = "--steps", paramLabel = "N", description = "Steps to run (default: the scenario's training.steps).")
    Integer steps;

    @Option(names = "--telemetry", paramLabel = "off|steps|spans",
            description = "How much each stage and link records: spans (every action and transfer), steps (per-step sums), "
                    + "off (default: the scenario's telemetry.level, auto: spans for small runs, steps for large ones).")
    String telemetry;

    @Option(names = "--force", description = "Run even a job the size guard estimates too large for this machine's time or heap.")
    boolean force;

    @Option(names = "--out", paramLabel = "DIR", description = "Output folder (default: runs/<scenario>-<timestamp>).")
    Path out;

    @Option(names = "--port", defaultValue = "9471", paramLabel = "N",
            description = "Dashboard and /metrics port (default ${DEFAULT-VALUE}; 0 = any free port; a busy port falls back to a free one).")
    int port;

    @Option(names = "--bind", defaultValue = "127.0.0.1", paramLabel = "ADDR",
            description = "Address the dashboard binds to (default ${DEFAULT-VALUE}; anything else exposes it, with a warning).")
    String bind;

    @Option(names = "--no-dashboard", description = "Do not serve the dashboard and /metrics.")
    boolean noDashboard;

    @Option(names = "--serve", description = "Keep serving the finished run's dashboard until Ctrl-C.")
    boolean serve;

    @Option(names = "--quiet", description = "Print only the output folder (for scripts).")
    boolean quiet;

    @Option(names = "--sequential", description = "Real-numerics scenarios: train with the sequential reference (one thread, "
            + "no actors) instead, writing the loss per step and the weights; the scenario's faults do not apply.")
    boolean sequential;

    @Option(names = "--cluster", paramLabel = "HOST:PORT|FILE",
            description = "Run on a pipelab cluster: join it as the coordinator through this seed (or the seeds of this "
                    + "HOCON file), place every stage on its workers, and leave at the end (default: the embedded one-node cluster).")
    String cluster;

    @Option(names = "--placement", paramLabel = "pack|spread|explicit",
            description = "With --cluster: pack keeps each replica's ranks on as few workers as their slots allow, spread "
                    + "deals stages round-robin, explicit follows the scenario's cluster.workers (default: the scenario's "
                    + "cluster.placement, pack).")
    String placement;

    @Option(names = "--cluster-name", paramLabel = "NAME",
            description = "With --cluster: the cluster's name (default: the --cluster file's pipelab.cluster.name, else pipelab).")
    String clusterName;

    @Option(names = "--cluster-timeout", defaultValue = "60", paramLabel = "SECONDS",
            description = "With --cluster: give up when no workers are seen within this time (default ${DEFAULT-VALUE}).")
    int clusterTimeout;

    @Option(names = "--management", paramLabel = "PORT|off",
            description = "With --cluster: the coordinator's operations endpoint (cluster membership and health over HTTP, "
                    + "read-only) on this port of the coordinator's address; 0: a free port, off: none (default ${DEFAULT-VALUE}).")
    String management = "0";

    @Spec
    CommandSpec spec;

    /** The coordinator's node of a {@code --cluster} run; closed (the node leaves) whatever the run's outcome. */
    private Node clusterNode;

    @Override
    public Integer call() throws Exception {
        try {
            return runScenario();
        } finally {
            if (clusterNode != null) clusterNode.close();
        }
    }

    private Integer runScenario() throws Exception {
        PrintWriter stdout = spec.commandLine().getOut();
        ClockMode mode = switch (clock) {
            case "virtual" -> ClockMode.VIRTUAL;
            case "wall" -> ClockMode.WALL;
            default -> throw new UserException("--clock must be virtual or wall, got '" + clock + "'");
        };
        if (!(speed > 0) || Double.isInfinite(speed)) throw new UserException("--speed must be a positive number, got " + speed);
        if (steps != null && steps < 1) throw new UserException("--steps must be >= 1, got " + steps);
        if (port < 0 || port > 65535) throw new UserException("--port must be within 0..65535, got " + port);
        if (placement != null && cluster == null) throw new UserException("--placement needs --cluster");
        if (clusterName != null && cluster == null) throw new UserException("--cluster-name needs --cluster");
        if (clusterName != null && clusterName.isBlank()) throw new UserException("--cluster-name must not be blank");
        if (clusterTimeout < 1) throw new UserException("--cluster-timeout must be >= 1, got " + clusterTimeout);
        OptionalInt managementPort = managementPort(management);
        if (managementPort.isPresent() && managementPort.getAsInt() != 0 && cluster == null) {
            throw new UserException("--management needs --cluster");
        }
        if (placement != null && !List.of("pack", "spread", "explicit").contains(placement)) {
            throw new UserException("--placement must be pack, spread or explicit, got '" + placement + "'");
        }
        if (telemetry != null && !List.of("off", "steps", "spans").contains(telemetry)) {
            throw new UserException("--telemetry must be off, steps or spans, got '" + telemetry + "'");
        }

        Path scenarioFile = file != null ? file : Path.of(System.getProperty("pipelab.home", "."), "scenarios", "quickstart.yaml");
        if (!Files.isRegularFile(scenarioFile)) throw new UserException("no scenario file at " + scenarioFile);
        List<String> all = new ArrayList<>(sets);
        if (device != null) all.add("hardware.device=" + device);
        LoadedScenario loaded = ScenarioLoader.loadWithSource(scenarioFile, all);
        Scenario scenario = loaded.scenario();
        // before planning: a size the machine cannot run is refused at once, not after minutes of planning or spawning
        SizeGuard.run(scenario, steps != null ? steps : scenario.training().steps(),
                telemetry != null ? telemetry : scenario.telemetry().level(), mode == ClockMode.VIRTUAL, cluster == null, force);
        Plan plan = Planner.plan(scenario);
        Timeline analytic = plan.evaluate();
        PlanReport analyticReport = PlanReport.of(plan, analytic);
        int stepCount = steps != null ? steps : plan.steps();
        if (sequential && !scenario.realNumerics()) throw new UserException("--sequential needs training.numerics: real");
        Optional<RealSetup> real = scenario.realNumerics() ? Optional.of(RealScenario.setup(scenario, plan)) : Optional.empty();
        List<Fault> optionFaults = RunFaults.parse(faultSpecs);
        if (sequential) {
            // the reference has no actors to break (and recovery leaves the weights as they would be without faults)
            if (!optionFaults.isEmpty()) throw new UserException("--sequential trains without actors: it takes no --fault");
            Path outDir = outputFolder(plan.name());
            return runSequential(plan, real.orElseThrow(), stepCount, outDir, weightsFile(scenario, outDir), stdout);
        }
        // every fault is checked before anything is written; node targets again once a cluster run has found its workers
        RunShape faultShape = RunFaults.shape(plan, stepCount, cluster == null ? 0 : RunShape.UNKNOWN_WORKERS);
        RunFaults.check(loaded, optionFaults, faultShape);
        TelemetryChoice recording = telemetry != null
                ? TelemetryChoice.of(telemetry, "--telemetry", plan.schedule(), plan.data(), stepCount)
                : TelemetryChoice.of(scenario.telemetry().level(), "scenario", plan.schedule(), plan.data(), stepCount);

        // ---- cluster: join as the coordinator and place every (replica, rank) on the workers before anything runs ----
        // the schema allows only pack, spread and explicit in the scenario, and the flag was checked above; without
        // --cluster the scenario's placement is not used (the embedded run has one node)
        WorkerPlacement.Strategy strategy = WorkerPlacement.Strategy.of(placement != null ? placement : scenario.cluster().placement());
        List<List<Integer>> explicitMap = scenario.cluster().workers();
        if (cluster != null && strategy == WorkerPlacement.Strategy.EXPLICIT && explicitMap.isEmpty()) {
            throw new UserException("--placement explicit needs the scenario's cluster.workers (one list per replica of "
                    + "the worker index of each rank, e.g. [[0, 0, 1, 1]])");
        }
        List<Node.Worker> workers = List.of();
        int[][] onWorker = new int[0][0];
        List<Integer> slots = List.of();
        if (cluster != null) {
            if (sequential) throw new UserException("--sequential runs without actors: it takes no --cluster");
            Node.Options coordinator = coordinatorOptions(cluster).withClusterName(Optional.ofNullable(clusterName));
            if (managementPort.isPresent()) coordinator = coordinator.withManagement(managementPort.getAsInt());
            try {
                clusterNode = Node.start(coordinator, Emulator.ACTORS);
            } catch (IllegalStateException e) {
                throw new UserException("--management " + management + ": " + e.getMessage());
            }
            try {
                clusterNode.awaitUp(Duration.ofSeconds(clusterTimeout));
                workers = clusterNode.awaitWorkers(Duration.ofSeconds(clusterTimeout));
                slots = workers.stream().map(Node.Worker::slots).toList();
                if (strategy != WorkerPlacement.Strategy.EXPLICIT) {
                    onWorker = WorkerPlacement.assign(strategy, slots, plan.data(), plan.pipeline());
                }
            } catch (IllegalStateException | IllegalArgumentException e) {
                throw new UserException("--cluster " + cluster + ": " + e.getMessage());
            }
            if (strategy == WorkerPlacement.Strategy.EXPLICIT) {
                try {
                    onWorker = WorkerPlacement.explicit(explicitMap, slots, plan.data(), plan.pipeline());
                } catch (IllegalArgumentException e) {
                    // the map is the scenario's: name the file, as its loader does
                    throw new UserException(scenarioFile + ": " + e.getMessage());
                }
            }
        }
        List<Fault> faults = RunFaults.resolve(loaded, optionFaults, cluster == null ? faultShape : faultShape.withWorkers(workers.size()));
        Path outDir = outputFolder(plan.name());
        Path weightsFile = weightsFile(scenario, outDir);
        RunInfo unplacedInfo = RunInfos.of(plan, analyticReport, mode == ClockMode.WALL ? "wall" : "virtual", speed);
        RunInfo info = cluster == null ? unplacedInfo : unplacedInfo.with(deployment(strategy, workers, onWorker));

        // ---- telemetry: the run's step events go to the log (for the trace) and to the run's telemetry, which
        // summarises each completed step once for the dashboard, the metrics and the progress line ----
        EventLog log = new EventLog();
        RunTelemetry runTelemetry = new RunTelemetry(info);
        DashboardState dashboard = new DashboardState(info);
        Metrics metrics = new Metrics(info, Main.version());
        runTelemetry.addListener(dashboard);
        runTelemetry.addListener(metrics);
        long wallStart = System.nanoTime();
        Instant startedAt = Instant.now();
        PrintWriter progress = quiet ? null : stdout;
        // the ETA counts from the first step's start, not from the actor system's start-up
        long[] firstStep = {0};
        EventSink stepZero = e -> {
            if (e instanceof Event.StepStarted started && started.step() == 0) firstStep[0] = System.nanoTime();
        };
        if (progress != null) {
            runTelemetry.addListener(new RunTelemetry.Listener() {
                @Override
                public void stepSummarised(StepSummary summary) {
                    if (real.isPresent()) return;
                    // training steps committed so far: an attempt that replays a step after a failure is not a new one
                    int done = (int) (summary.ended().committedOffset() / ((long) plan.microBatches() * plan.data()));
                    progress.println(ProgressLine.of(summary, done, stepCount, (System.nanoTime() - firstStep[0]) / 1e9));
                    progress.flush();
                }

                @Override
                public void lossReported(int step, double loss) {
                    if (step % 25 != 0 && step != stepCount - 1) return;
                    progress.printf(Locale.ROOT, "step %d/%d  loss %.6f  (%.1f s)%n", step + 1, stepCount, loss,
                            (System.nanoTime() - wallStart) / 1e9);
                    progress.flush();
                }
            });
        }
        // the actors only append to the pump; the log and the telemetry (and so its listeners) are fed on its thread
        EventPump sink = new EventPump(List.of(stepZero, log, runTelemetry), 200);

        // a wall-clock run takes faults while it goes on (the dashboard's form, POST /api/faults); a virtual one is over
        // before anyone could post one
        FaultInbox liveFaults = mode == ClockMode.WALL ? new FaultInbox() : FaultInbox.NONE;
        RunShape liveShape = cluster == null ? faultShape : faultShape.withWorkers(workers.size());
        FaultInjector injector = mode == ClockMode.WALL ? entry -> injectLive(entry, liveShape, liveFaults) : null;
        DashboardServer server = noDashboard ? null : startDashboard(dashboard, metrics, injector, stdout);
        if (!quiet) {
            stdout.printf(Locale.ROOT, "pipelab run: %s, %s, p=%d d=%d t=%d v=%d, m=%d, %d steps, %s clock%s, %s%n", plan.name(),
                    plan.schedule().name(), plan.pipeline(), plan.data(), plan.tensor(), plan.virtualStages(), plan.microBatches(),
                    stepCount, info.clock(), mode == ClockMode.WALL ? " at speed " + speed : "", recording.reason()
                            + (cluster != null ? ", on " + workers.size() + " workers, placement " + strategy.label() : ""));
            for (int w = 0; w < workers.size(); w++) {
                stdout.printf(Locale.ROOT, "  worker %d  %s  %d slots%n", w, Deployment.label(workers.get(w).address()),
                        workers.get(w).slots());
            }
            for (Fault f : faults) stdout.printf(Locale.ROOT, "  fault  %s  (%s)%n", f.describe(), f.where());
            scenario.randomFaults().ifPresent(r -> stdout.printf(Locale.ROOT, "  faults at random: %s, seed %d, job MTBF %s%n",
                    r.preset().map(x -> "preset " + x + (r.scale() != 1 ? " x" + (r.scale() == Math.rint(r.scale()) ? String.valueOf((long) r.scale()) : String.valueOf(r.scale())) : "")).orElse("rates as written"),
                    r.seed(), Format.seconds(r.mtbfSeconds(new dev.pipelab.fault.RandomFaults.Size(plan.devices(), plan.placement().nodes())))));
            if (server != null) stdout.printf(Locale.ROOT, "dashboard %s   metrics %smetrics%n", server.uri(), server.uri());
            if (clusterNode != null) clusterNode.management().ifPresent(url -> stdout.printf(Locale.ROOT,
                    "management %s/cluster/members   %s/ready%n", url, url));
            stdout.flush();
        }

        OomPolicy oom = scenario.training().onOutOfMemory().equals("fail") ? OomPolicy.FAIL : OomPolicy.WARN;
        RunOptions options = new RunOptions(mode, speed, stepCount, sink, oom, Duration.ofHours(24))
                .withTelemetry(recording.level()).withFaults(faults, scenario.recovery()).withLiveFaults(liveFaults);
        if (scenario.randomFaults().isPresent()) {
            options = options.withRandomFaults(scenario.randomFaults().get(), plan.tensor(), scenario.hardware().devicesPerNode());
        }
        RunResult result = null;
        RuntimeException crash = null;
        try {
            RunSpec runSpec = real.isPresent() ? RunSpec.of(plan).withReal(real.get()) : RunSpec.of(plan);
            if (cluster != null) {
                List<ActorRef<Host.Command>> hosts = workers.stream().map(Node.Worker::host).toList();
                result = runWatched(hosts, workers, WorkerPlacement.of(onWorker, slots), runSpec, options);
            } else {
                result = Emulator.run(runSpec, options);
            }
        } catch (RuntimeException e) {
            // a failure after some steps still leaves the report and the trace of what ran
            crash = e;
        } finally {
            sink.close();
        }
        if (crash == null && sink.failure().isPresent()) {
            // the run went on, but a view of it (progress, dashboard, metrics) failed: the report says so, the exit is 1
            crash = new IllegalStateException("telemetry: " + sink.failure().get(), sink.failure().get());
        }
        double wallSeconds = (System.nanoTime() - wallStart) / 1e9;

        // ---- outputs: complete files only, also when the run did not complete ----
        RunReport.Outcome outcome = crash != null ? RunReport.Outcome.failed(String.valueOf(crash))
                : switch (result.status()) {
                    case DEADLOCKED -> RunReport.Outcome.deadlocked(result.deadlock().orElseThrow().message());
                    case FAILED -> RunReport.Outcome.failed(result.failure().orElse("(no reason given)"));
                    default -> RunReport.Outcome.COMPLETED;
                };
        // a cluster run's placement comes with its RunInfo's deployment
        RunReport report = RunReport.of(runTelemetry, outcome, new WallClock(startedAt.toString(), wallSeconds));
        List<Event> events = log.events();
        writeAtomically(outDir.resolve("report.json"), tmp -> ReportJson.write(report, tmp));
        writeAtomically(outDir.resolve("trace.json"), tmp -> TraceWriter.write(info, events, tmp));
        List<StageRecord> lastStep = runTelemetry.lastSummary().map(s -> s.ended().stages()).orElse(List.of());
        writeAtomically(outDir.resolve("report.html"), tmp -> HtmlReport.write(report, lastStep, tmp));
        dashboard.finish();
        if (crash != null) {
            if (server != null) server.close();
            throw crash;
        }
        if (real.isPresent() && !result.weights().isEmpty()) writeWeights(weightsFile, result.weights());

        int code = 0;
        int lost = runTelemetry.telemetryLost();
        if (lost > 0) {
            // counted, never silent: the steps they belong to lack those records or some of their spans (docs/telemetry.md)
            spec.commandLine().getErr().printf(Locale.ROOT, "pipelab run: telemetry lost: %d record(s) of stages or links sent "
                    + "between nodes never arrived whole; the steps they belong to miss them or some of their spans%n", lost);
        }
        if (!quiet) {
            stdout.println();
            stdout.print(SummaryTable.render(report));
            stdout.println();
            stdout.print(TextGantt.render(runTelemetry, 0, 100));
            stdout.println();
            // one line per (step, rank, need) over the replicas, not one per replica and rank
            for (String line : OutOfMemoryLines.of(runTelemetry.outOfMemory(), plan.data())) stdout.println(line);
        }
        if (result.status() == RunResult.Status.DEADLOCKED) {
            spec.commandLine().getErr().println(result.deadlock().orElseThrow().message());
            code = 2;
        } else if (result.status() == RunResult.Status.FAILED) {
            spec.commandLine().getErr().println("pipelab run: the run failed: " + result.failure().orElse("(no reason given)"));
            // a plan that does not fit (out of memory without faults) is the scenario's mistake: 2; a fault the run
            // could not recover from is an outcome of the experiment, not of its input: 1 (docs/faults.md)
            code = options.faults().isEmpty() && result.recovery().recoveries() == 0 ? 2 : 1;
        } else if (!quiet && real.isPresent()) {
            List<Double> l = result.losses();
            stdout.printf(Locale.ROOT, "loss %.6f -> %.6f over %d steps (action times measured: %s per step)%n", l.get(0),
                    l.get(l.size() - 1), l.size(), Format.seconds(result.runSeconds() / l.size()));
            stdout.println("weights: " + weightsFile);
        } else if (!quiet) {
            stdout.println(agreement(result, analytic, mode, !options.faults().isEmpty()));
        }
        stdout.println(quiet ? outDir.toString() : "wrote " + outDir + "/{report.json, trace.json, report.html}");
        stdout.flush();

        if (server != null) {
            if (serve) {
                stdout.println("serving the finished run at " + server.uri() + " until Ctrl-C");
                stdout.flush();
                CountDownLatch forever = new CountDownLatch(1);
                Thread hook = new Thread(server::close);
                Runtime.getRuntime().addShutdownHook(hook);
                try {
                    forever.await();
                } catch (InterruptedException stop) {
                    // run in-process (Main.execute on a thread of its own): an interrupt ends serving, as Ctrl-C ends the CLI
                    Runtime.getRuntime().removeShutdownHook(hook);
                    Thread.currentThread().interrupt();
                }
            }
            server.close();
        }
        return code;
    }

    /** {@code --sequential}: the reference trainer on the scenario's real model; report.json holds what it can. */
    private Integer runSequential(Plan plan, RealSetup real, int stepCount, Path outDir, Path weightsFile, PrintWriter stdout)
            throws IOException {
        SequentialTrainer trainer = new SequentialTrainer(real.model(), real.data(), plan.microBatches(), plan.data(),
                real.optimizerSpec());
        long t0 = System.nanoTime();
        List<Double> losses = new ArrayList<>();
        for (int k = 0; k < stepCount; k++) {
            losses.add(trainer.step(k));
            if (!quiet && (k % 25 == 0 || k == stepCount - 1)) {
                stdout.printf(Locale.ROOT, "step %d/%d  loss %.6f  (%.1f s)%n", k + 1, stepCount, losses.get(k), (System.nanoTime() - t0) / 1e9);
                stdout.flush();
            }
        }
        double wallSeconds = (System.nanoTime() - t0) / 1e9;
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        root.put("name", plan.name());
        root.put("sequential", true);
        root.put("completedSteps", stepCount);
        losses.forEach(root.putArray("loss")::add);
        root.putObject("wallClock").put("wallSeconds", wallSeconds);
        writeAtomically(outDir.resolve("report.json"),
                tmp -> Files.writeString(tmp, mapper.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n"));
        writeWeights(weightsFile, trainer.params());
        stdout.println(quiet ? outDir.toString() : "sequential reference: wrote " + outDir + "/report.json and " + weightsFile);
        stdout.flush();
        return 0;
    }

    private static void writeWeights(Path file, List<Param> weights) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        writeAtomically(file, tmp -> WeightsFile.write(tmp, weights));
    }

    /** Every completed step of a virtual-time run equals the analytic evaluator's step, to the bit. */
    private static String agreement(RunResult result, Timeline analytic, ClockMode mode, boolean faulty) {
        double emulated = result.steps().get(result.steps().size() - 1).stepSeconds();
        if (mode == ClockMode.WALL) {
            return String.format(Locale.ROOT, "step time: emulated %s in wall time, analytic %s (%+.2f%%)", Format.seconds(emulated),
                    Format.seconds(analytic.stepTimeSeconds()), (emulated / analytic.stepTimeSeconds() - 1) * 100);
        }
        long same = result.steps().stream().filter(s -> s.stepSeconds() == analytic.stepTimeSeconds()).count();
        if (faulty) {
            // faults change the steps they act in; the others must still be the evaluator's to the bit
            return String.format(Locale.ROOT, "step time: %d of %d completed attempts took the analytic %s to the bit; faults "
                    + "changed the others", same, result.steps().size(), Format.seconds(analytic.stepTimeSeconds()));
        }
        boolean exact = same == result.steps().size();
        return String.format(Locale.ROOT, "step time: runtime %s, analytic %s: %s", Format.seconds(emulated),
                Format.seconds(analytic.stepTimeSeconds()), exact ? "identical to the bit" : "DIFFERENT (a bug; please report it)");
    }

    /**
     * Runs on the workers; a worker that leaves the cluster meanwhile fails the run at once, where the run would
     * otherwise wait for its messages until the safety timeout. The run's actors on the other workers then stay
     * until those workers stop.
     */
    private RunResult runWatched(List<ActorRef<Host.Command>> hosts, List<Node.Worker> workers, NodePlacement placement,
                                 RunSpec runSpec, RunOptions options) throws InterruptedException {
        CompletableFuture<RunResult> run = CompletableFuture.supplyAsync(
                () -> Emulator.run(clusterNode.system(), hosts, placement, runSpec, options));
        while (true) {
            try {
                return run.get(500, TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
            } catch (TimeoutException e) {
                // with checkpoints the trainer recovers from a lost worker (its stages move to the others)
                Optional<String> lost = options.recovery().checkpoints() ? Optional.empty() : clusterNode.lost(workers);
                if (lost.isPresent()) throw new UserException(lost.get());
            }
        }
    }

    /** {@code --management}: a port within 0..65535 (0: a free one), or {@code off}. */
    static OptionalInt managementPort(String value) {
        if (value.equals("off")) return OptionalInt.empty();
        try {
            int p = Integer.parseInt(value);
            if (p >= 0 && p <= 65535) return OptionalInt.of(p);
        } catch (NumberFormatException e) {
            // said below
        }
        throw new UserException("--management must be a port within 0..65535 or off, got '" + value + "'");
    }

    /** The placement as the monitoring consumers label with it: the workers in the coordinator's order, and who hosts what. */
    private static Deployment deployment(WorkerPlacement.Strategy strategy, List<Node.Worker> workers, int[][] onWorker) {
        List<List<Integer>> workerOf = new ArrayList<>();
        for (int[] replica : onWorker) workerOf.add(Arrays.stream(replica).boxed().toList());
        return new Deployment(strategy.label(), workers.stream().map(Node.Worker::address).toList(), workerOf);
    }

    /**
     * The coordinator's node: {@code --cluster HOST:PORT} joins that seed from this machine's address on the route to it
     * ({@link Node#addressTowards}: 127.0.0.1 for a seed on loopback, the interface's address for a seed on another
     * host, which must reach the coordinator back); {@code --cluster FILE} takes the file's config (its hostname, its
     * seeds) on a free port, since the file's port is a seed's.
     */
    private static Node.Options coordinatorOptions(String cluster) {
        Path file = Path.of(cluster);
        try {
            if (!Files.isRegularFile(file)) {
                Address seed;
                try {
                    seed = Node.seedAddress(cluster);
                } catch (IllegalArgumentException e) {
                    throw new UserException("--cluster " + cluster + ": neither a file nor a seed's host:port");
                }
                return new Node.Options(Node.Role.COORDINATOR, Optional.empty(), Node.addressTowards(seed.getHost().orElseThrow()),
                        0, List.of(cluster), 1);
            }
            Node.Options fromFile = Node.Options.of(Node.Role.COORDINATOR, Optional.of(file), Optional.empty(), Optional.of(0),
                    List.of(), 1);
            if (fromFile.seeds().isEmpty()) throw new UserException("--cluster " + cluster
                    + ": the file lists no seeds (pekko.cluster.seed-nodes, or pipelab.cluster.seeds: PIPELAB_SEEDS in multi-host.conf)");
            return fromFile;
        } catch (IllegalArgumentException e) {
            throw new UserException("--cluster " + cluster + ": " + e.getMessage());
        }
    }

    /** Where the final weights of a real-numerics run go: the scenario's real.weightsOut, else the output folder. */
    private static Path weightsFile(Scenario scenario, Path outDir) {
        return scenario.real().flatMap(Scenario.Real::weightsOut).map(Path::of).orElse(outDir.resolve("weights.plwt"));
    }

    private Path outputFolder(String name) throws IOException {
        Path dir = out != null ? out
                : Path.of("runs", name + "-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        if (Files.exists(dir) && !Files.isDirectory(dir)) throw new UserException("--out " + dir + " exists and is not a folder");
        Files.createDirectories(dir);
        return dir;
    }

    /**
     * A fault posted while the run goes on: read as a scenario entry ({@code atStep} may be left out: a live fault acts
     * from the next step's start whatever it says), checked against the run like every other, its choice resolved,
     * handed to the trainer. Returns the reason it was refused, or nothing.
     */
    static Optional<String> injectLive(Map<String, Object> entry, RunShape shape, FaultInbox inbox) {
        Map<String, Object> withStep = new java.util.LinkedHashMap<>(entry);
        withStep.putIfAbsent("atStep", 0);
        FaultSyntax.Parsed parsed = FaultSyntax.fromMap(withStep, "");
        if (parsed.fault().isEmpty()) return Optional.of(parsed.problems().get(0).toString());
        Fault fault = parsed.fault().get();
        if (fault.healsExplicitly()) return Optional.of("heal: a live fault lasts durationSeconds from the next step's start");
        List<FaultProblem> problems = FaultCheck.check(fault, shape);
        if (!problems.isEmpty()) return Optional.of(problems.get(0).toString());
        for (Fault f : FaultChoice.resolve(fault, shape)) inbox.add(f);
        return Optional.empty();
    }

    private DashboardServer dashboardOn(DashboardState state, Metrics metrics, FaultInjector injector, int port) throws IOException {
        DashboardServer.Options options = new DashboardServer.Options(bind, port, 300);
        return injector == null ? DashboardServer.start(state, metrics, options) : DashboardServer.start(state, metrics, options, injector);
    }

    private DashboardServer startDashboard(DashboardState state, Metrics metrics, FaultInjector injector, PrintWriter stdout)
            throws IOException {
        if (!InetAddress.getByName(bind).isLoopbackAddress()) {
            spec.commandLine().getErr().println("pipelab run: WARNING: the dashboard binds to " + bind
                    + ", reachable from other machines; it has no authentication");
        }
        try {
            return dashboardOn(state, metrics, injector, port);
        } catch (IOException busy) {
            if (port == 0) throw busy;
            spec.commandLine().getErr().println("pipelab run: port " + port + " is busy; using a free port");
            return dashboardOn(state, metrics, injector, 0);
        }
    }

    private interface Writer {
        void write(Path tmp) throws IOException;
    }

    private static void writeAtomically(Path target, Writer writer) throws IOException {
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        writer.write(tmp);
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
