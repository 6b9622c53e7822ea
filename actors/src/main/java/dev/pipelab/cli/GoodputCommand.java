package dev.pipelab.cli;

import dev.pipelab.fault.RandomFaults;
import dev.pipelab.goodput.Goodput;
import dev.pipelab.goodput.GoodputJson;
import dev.pipelab.goodput.GoodputPage;
import dev.pipelab.goodput.GoodputReport;
import dev.pipelab.goodput.GoodputText;
import dev.pipelab.pipeline.RunSpec;
import dev.pipelab.plan.Plan;
import dev.pipelab.plan.Planner;
import dev.pipelab.scenario.Scenario;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/**
 * {@code pipelab goodput SCENARIO [--days D] [--steps N] [--tokens T] [--sweep recovery.checkpointEverySteps=...]}:
 * weeks of training at step granularity ({@link Goodput}, docs/goodput.md) under the scenario's {@code faults.random}
 * rates: goodput, interruptions by kind, lost work, checkpoint overhead, the best checkpoint interval of a sweep beside
 * Young/Daly's; the summary on stdout, {@code goodput.json} and {@code goodput.html} in the output folder. Invariant:
 * every flag is checked and the work is sized before anything is emulated or written, and the output folder holds
 * complete files only.
 */
@Command(name = "goodput", mixinStandardHelpOptions = true,
        description = "Emulate days of training at step granularity under the scenario's faults.random rates: goodput, "
                + "interruptions, lost work, checkpoint overhead, and the best checkpoint interval against Young/Daly's; "
                + "writes goodput.json and goodput.html.")
final class GoodputCommand implements Callable<Integer> {

    /** The swept key; the only one, since the others change the plan, not the recovery. */
    static final String SWEPT = "recovery.checkpointEverySteps";
    /**
     * Steps emulated at most without --force: a step took 0.2 to 0.6 µs on a shared 2-core machine under load, so the
     * limit is minutes of emulation (docs/goodput.md, Size).
     */
    static final double LIMIT = 2e9;
    /** Swept values at most: each is a whole emulation. */
    static final int MAX_POINTS = 10_000;

    @Mixin
    ScenarioOptions scenario;

    @Option(names = "--days", paramLabel = "D", description = "Emulate D days of the run's time (default: the scenario's training.steps).")
    String days;

    @Option(names = "--steps", paramLabel = "N", description = "Stop after N committed training steps.")
    Integer steps;

    @Option(names = "--tokens", paramLabel = "T", description = "Train T tokens (e.g. 15e12): stop after ceil(T / tokens a step) steps, "
            + "and say how long they took.")
    String tokens;

    @Option(names = "--sweep", paramLabel = SWEPT + "=V1,V2,...", description = "Also emulate each checkpoint interval (values "
            + "and ranges A..B, e.g. 10,20,50..60) and compare the best with Young/Daly's optimum.")
    String sweep;

    @Option(names = "--out", paramLabel = "DIR", description = "Output folder (default: runs/<scenario>-goodput-<timestamp>).")
    Path out;

    @Option(names = "--quiet", description = "Print only the output folder, and no progress.")
    boolean quiet;

    @Option(names = "--force", description = "Emulate even above the size limit of " + "2,000,000,000 steps.")
    boolean force;

    @Spec
    CommandSpec spec;

    /** Rates for a scenario without {@code faults.random}, when given (tests build them directly). */
    private final Optional<RandomFaults> ratesOverride;

    GoodputCommand() {
        this(Optional.empty());
    }

    GoodputCommand(Optional<RandomFaults> ratesOverride) {
        this.ratesOverride = ratesOverride;
    }

    @Override
    public Integer call() throws IOException {
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter stderr = spec.commandLine().getErr();
        OptionalDouble horizonDays = days(days);
        OptionalLong tokenTarget = tokens(tokens);
        if (steps != null && steps < 1) throw new UserException("--steps must be >= 1, got " + steps);
        if (steps != null && tokenTarget.isPresent()) throw new UserException("--steps and --tokens both say when to stop; give one");
        List<Integer> intervals = sweep == null ? List.of() : sweepValues(sweep);
        if (out != null && Files.exists(out) && !Files.isDirectory(out)) throw new UserException("--out " + out + " exists and is not a folder");

        Scenario loaded = scenario.load();
        Plan plan = Planner.plan(loaded);
        RandomFaults rates = ratesOverride.or(loaded::randomFaults).orElseThrow(() -> new UserException(scenario.file
                + ": no faults.random: pipelab goodput needs failure rates (docs/scenario-keys.md)"));
        double stepSeconds = plan.evaluate().stepTimeSeconds();
        long tokensPerStep = plan.globalBatch() * plan.model().seqLength();
        long maxSteps = steps != null ? steps
                : tokenTarget.isPresent() ? ceilDiv(tokenTarget.getAsLong(), tokensPerStep)
                : horizonDays.isPresent() ? Long.MAX_VALUE : plan.steps();
        double horizonSeconds = horizonDays.isPresent() ? horizonDays.getAsDouble() * 86400 : Double.POSITIVE_INFINITY;
        Goodput.Input input = new Goodput.Input(stepSeconds, RunSpec.of(plan).checkpointBytes(), tokensPerStep, loaded.recovery(), rates,
                plan.data(), plan.pipeline(), plan.tensor(), loaded.hardware().devicesPerNode(), maxSteps, horizonSeconds);

        int every = loaded.recovery().checkpointEverySteps();
        int runs = intervals.size() + (intervals.contains(every) ? 0 : 1);
        // replays after failures add a few percent of attempts; the guard counts the steps the horizon holds
        double perRun = Math.min(maxSteps, Math.ceil(horizonSeconds / stepSeconds));
        if (perRun * runs > LIMIT && !force) {
            stderr.println(String.format(Locale.ROOT, "pipelab goodput: %s steps to emulate (%d run%s of %s steps of %s), more than the "
                            + "limit of 2,000,000,000 (minutes of emulation at 0.2 to 0.6 µs a step); use fewer --days or a larger step, or --force",
                    Format.count(perRun * runs), runs, runs == 1 ? "" : "s", Format.count(perRun), Format.seconds(stepSeconds)));
            return 2;
        }
        Path outDir = out != null ? out
                : Path.of("runs", plan.name() + "-goodput-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));

        // ---- emulate: the sweep's intervals, then the scenario's (or, without checkpoints in the scenario, the best) ----
        GoodputProgress progress = new GoodputProgress(stderr, System.console() != null, runs, System::nanoTime);
        List<GoodputReport.SweepRow> rows = new ArrayList<>();
        Goodput.Result main = null;
        Goodput.Result best = null;
        for (int k = 0; k < intervals.size(); k++) {
            Goodput.Input at = input.withCheckpointEvery(intervals.get(k));
            Goodput.Result r = Goodput.emulate(at, quiet ? Goodput.Progress.NONE : progress.run(k, at));
            rows.add(GoodputReport.SweepRow.of(r));
            if (intervals.get(k) == every) main = r;
            if (r.status() != Goodput.Status.FAILED && (best == null || r.totals().goodput() > best.totals().goodput())) best = r;
        }
        String note = "";
        if (main == null && every == 0 && best != null) {
            main = best;
            note = "the scenario takes no checkpoints (recovery.checkpointEverySteps: 0): the run shown is the sweep's best\n";
        }
        if (main == null) main = Goodput.emulate(input, quiet ? Goodput.Progress.NONE : progress.run(runs - 1, input));
        progress.done();

        // ---- outputs: rendered whole first, then written into a fresh folder that is renamed into place ----
        GoodputReport report = new GoodputReport(plan.name(), main, rows, tokenTarget);
        String summary = note + GoodputText.render(report);
        String json = GoodputJson.render(report);
        String page = GoodputPage.render(report, summary);
        writeAtomically(outDir, json, page);
        if (quiet) {
            stdout.println(outDir);
        } else {
            stdout.print(summary);
            stdout.println();
            stdout.println("wrote " + outDir + "/{goodput.json, goodput.html}");
        }
        stdout.flush();
        if (main.status() == Goodput.Status.FAILED) {
            // an interruption the run could not recover from is an outcome of the experiment, as in pipelab run: 1
            stderr.println("pipelab goodput: the run failed: " + main.reason() + (main.input().recovery().checkpoints() ? ""
                    : " (set recovery.checkpointEverySteps, or sweep it: --sweep " + SWEPT + "=A..B)"));
            return 1;
        }
        return 0;
    }

    /** {@code --days}: a number of days > 0. */
    static OptionalDouble days(String value) {
        if (value == null) return OptionalDouble.empty();
        double d = number(value);
        if (!(d > 0) || Double.isInfinite(d)) throw new UserException("--days must be a number of days > 0, got '" + value + "'");
        return OptionalDouble.of(d);
    }

    /** {@code --tokens}: a whole number of tokens >= 1, in any notation ({@code 15e12}). */
    static OptionalLong tokens(String value) {
        if (value == null) return OptionalLong.empty();
        double t = number(value);
        if (!(t >= 1) || t >= 0x1p63 || t != Math.rint(t)) {
            throw new UserException("--tokens must be a whole number of tokens >= 1 (e.g. 15e12), got '" + value + "'");
        }
        return OptionalLong.of((long) t);
    }

    private static double number(String value) {
        try {
            return Double.parseDouble(value.trim());
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }

    /**
     * {@code --sweep recovery.checkpointEverySteps=V1,V2,...}: whole intervals >= 1 and ranges {@code A..B}, in increasing
     * order without repeats; a bad entry is named by its position.
     */
    static List<Integer> sweepValues(String value) {
        int eq = value.indexOf('=');
        if (eq <= 0) throw new UserException("--sweep must look like " + SWEPT + "=V1,V2,... (or =A..B), got '" + value + "'");
        String key = value.substring(0, eq).trim();
        if (!key.equals(SWEPT)) throw new UserException("--sweep: only " + SWEPT + " can be swept, got '" + key + "'");
        String[] items = value.substring(eq + 1).split(",", -1);
        TreeSet<Integer> values = new TreeSet<>();
        for (int i = 0; i < items.length; i++) {
            String item = items[i].trim();
            String where = "--sweep value " + (i + 1) + " '" + item + "'";
            int dots = item.indexOf("..");
            if (dots < 0) {
                values.add(interval(item, where));
                continue;
            }
            int from = interval(item.substring(0, dots).trim(), where);
            int to = interval(item.substring(dots + 2).trim(), where);
            if (to < from) throw new UserException(where + ": the range runs backwards (" + from + " > " + to + ")");
            if (to - from >= MAX_POINTS) throw new UserException(where + ": " + (to - from + 1L) + " intervals, more than " + MAX_POINTS);
            for (int v = from; v <= to; v++) values.add(v);
            if (values.size() > MAX_POINTS) break;
        }
        if (values.size() > MAX_POINTS) throw new UserException("--sweep: more than " + MAX_POINTS + " intervals");
        return List.copyOf(values);
    }

    private static int interval(String s, String where) {
        int v;
        try {
            v = Integer.parseInt(s);
        } catch (NumberFormatException e) {
            throw new UserException(where + ": not a whole number of steps");
        }
        if (v < 1) throw new UserException(where + ": must be >= 1 (0 takes no checkpoint, so the first interruption ends the run)");
        return v;
    }

    private static long ceilDiv(long a, long b) {
        return a / b + (a % b == 0 ? 0 : 1);
    }

    /**
     * Writes both files into a fresh folder beside {@code target} and renames it into place, so an error leaves no
     * half-written output; into an existing folder each file is moved in whole instead (a rename cannot replace it).
     */
    static void writeAtomically(Path target, String json, String page) throws IOException {
        Path absolute = target.toAbsolutePath();
        Files.createDirectories(absolute.getParent());
        // a plain folder (not createTempDirectory's owner-only one): it becomes the output, readable like run's
        Path tmp = Files.createDirectory(absolute.resolveSibling("." + absolute.getFileName() + ".tmp-" + ProcessHandle.current().pid()
                + "-" + System.nanoTime()));
        try {
            Files.writeString(tmp.resolve("goodput.json"), json);
            Files.writeString(tmp.resolve("goodput.html"), page);
            if (isEmptyFolder(absolute)) Files.delete(absolute);
            if (!Files.exists(absolute)) {
                Files.move(tmp, absolute, StandardCopyOption.ATOMIC_MOVE);
                return;
            }
            for (String name : List.of("goodput.json", "goodput.html")) {
                Files.move(tmp.resolve(name), absolute.resolve(name), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            }
        } finally {
            if (Files.exists(tmp)) {
                try (Stream<Path> left = Files.walk(tmp)) {
                    for (Path p : left.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
                }
            }
        }
    }

    private static boolean isEmptyFolder(Path p) throws IOException {
        if (!Files.isDirectory(p)) return false;
        try (DirectoryStream<Path> s = Files.newDirectoryStream(p)) {
            return !s.iterator().hasNext();
        }
    }
}
