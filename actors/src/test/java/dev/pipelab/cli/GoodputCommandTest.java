package dev.pipelab.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pipelab.fault.RandomFaults;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.w3c.dom.Document;
import picocli.CommandLine;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code pipelab goodput} as a user meets it, on a small scenario: the summary, goodput.json consistent with it, the
 * page with both pictures, the sweep's best beside Young/Daly, and bad flags refused with their reason and exit 2.
 */
class GoodputCommandTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** p=4, d=2 on 4-device nodes: 8 devices, 2 nodes; a checkpoint every 200 steps. */
    private static final String SMALL = """
            name: small-goodput
            model: { preset: gpt3-350m }
            hardware: { device: rtx4090-24gb, devicesPerNode: 4 }
            parallelism: { pipeline: 4, data: 2 }
            batch: { microBatchSize: 1, microBatches: 4 }
            training: { steps: 50 }
            recovery: { checkpointEverySteps: 200 }
            seed: 1
            """;

    /** A job failing every hour on average: half GPUs (a node out for an hour, one spare), 30% network, 20% software. */
    static final RandomFaults HOURLY = new RandomFaults(7, 1.0, Optional.of(1.0), 1, List.of(
            new RandomFaults.Rate(RandomFaults.Kind.GPU, Double.NaN, 0.5, Double.NaN, 3600),
            new RandomFaults.Rate(RandomFaults.Kind.NETWORK, Double.NaN, 0.3, 60, 0),
            new RandomFaults.Rate(RandomFaults.Kind.SOFTWARE, Double.NaN, 0.2, Double.NaN, 0)), Optional.empty());

    @TempDir
    Path dir;

    private Path small() throws IOException {
        Path file = dir.resolve("small.yaml");
        Files.writeString(file, SMALL);
        return file;
    }

    /** The CLI with {@code rates} standing in for the scenario's faults.random. */
    static CliTest.Result run(RandomFaults rates, String... args) {
        CommandLine.IFactory factory = new CommandLine.IFactory() {
            @Override
            public <K> K create(Class<K> cls) throws Exception {
                if (cls == GoodputCommand.class) return cls.cast(new GoodputCommand(Optional.of(rates)));
                return CommandLine.defaultFactory().create(cls);
            }
        };
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.execute(factory, new PrintWriter(out), new PrintWriter(err), args);
        return new CliTest.Result(code, out.toString(), err.toString());
    }

    @Test
    void aDayWithASweepPrintsTheBestBesideYoungDalyAndWritesConsistentFiles() throws Exception {
        Path out = dir.resolve("out");
        CliTest.Result r = run(HOURLY, "goodput", small().toString(), "--days", "1", "--sweep",
                GoodputCommand.SWEPT + "=100,500,1000..1002,2000,5000", "--out", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode json = JSON.readTree(out.resolve("goodput.json").toFile());
        JsonNode totals = json.path("totals");

        // the text and the json say the same
        assertThat(json.path("status").asText()).isEqualTo("horizon");
        assertThat(r.out()).contains(String.format(java.util.Locale.ROOT, "goodput         %.2f%%", totals.path("goodput").asDouble() * 100),
                String.format(java.util.Locale.ROOT, "committed       %,d steps", totals.path("committedSteps").asLong()),
                String.format(java.util.Locale.ROOT, "interruptions   %d  (", totals.path("interruptions").asInt()),
                String.format(java.util.Locale.ROOT, "checkpoints     %,d written", totals.path("checkpoints").asInt()));
        assertThat(json.path("interruptions").size()).isEqualTo(totals.path("interruptions").asInt()).isPositive();
        int byKind = 0;
        for (JsonNode k : json.path("byKind")) {
            byKind += k.path("count").asInt();
            assertThat(r.out()).containsPattern("\n  " + k.path("kind").asText() + " +" + k.path("count").asInt() + "  \\(predicted ");
        }
        assertThat(byKind).isEqualTo(totals.path("interruptions").asInt());
        // every second of the day is useful, lost, writing a checkpoint or recovering
        JsonNode down = totals.path("downSeconds");
        assertThat(totals.path("usefulSeconds").asDouble() + totals.path("lostWorkSeconds").asDouble()
                + totals.path("checkpointSeconds").asDouble() + down.path("total").asDouble())
                .isCloseTo(totals.path("elapsedSeconds").asDouble(), org.assertj.core.api.Assertions.within(1e-9 * 86400));
        assertThat(totals.path("elapsedSeconds").asDouble()).isGreaterThanOrEqualTo(86400);
        // the inputs are the plan's: the checkpoint is one replica's static bytes, a step is b·m·d sequences
        assertThat(json.path("input").path("tokensPerStep").asLong()).isEqualTo(1L * 4 * 2 * 2048);
        assertThat(json.path("input").path("devices").asInt()).isEqualTo(8);
        assertThat(json.path("input").path("nodes").asInt()).isEqualTo(2);

        // the sweep: one row per interval (the scenario's 200 is not among them), the best the highest goodput
        List<Integer> every = new java.util.ArrayList<>();
        double bestGoodput = 0;
        int bestEvery = 0;
        for (JsonNode row : json.path("sweep")) {
            every.add(row.path("checkpointEverySteps").asInt());
            if (row.path("goodput").asDouble() > bestGoodput) {
                bestGoodput = row.path("goodput").asDouble();
                bestEvery = row.path("checkpointEverySteps").asInt();
            }
            assertThat(r.out()).containsPattern("\n +" + row.path("checkpointEverySteps").asInt() + " +"
                    + String.format(java.util.Locale.ROOT, "%.2f", row.path("goodput").asDouble() * 100) + "%");
        }
        assertThat(every).containsExactly(100, 500, 1000, 1001, 1002, 2000, 5000);
        assertThat(json.path("best").path("checkpointEverySteps").asInt()).isEqualTo(bestEvery);
        assertThat(json.path("input").path("recovery").path("checkpointEverySteps").asInt()).isEqualTo(200);

        // Young/Daly from the json's own inputs: sqrt(2 C MTBF) / step
        JsonNode yd = json.path("youngDaly");
        double c = json.path("input").path("checkpointBytes").asDouble() / 2e9;
        double tau = Math.sqrt(2 * c * 3600);
        assertThat(yd.path("tauSeconds").asDouble()).isCloseTo(tau, org.assertj.core.api.Assertions.within(1e-9));
        double steps = tau / json.path("input").path("stepSeconds").asDouble();
        assertThat(yd.path("steps").asDouble()).isCloseTo(steps, org.assertj.core.api.Assertions.within(1e-9));
        assertThat(yd.path("relativeGap").asDouble()).isCloseTo((bestEvery - steps) / steps, org.assertj.core.api.Assertions.within(1e-12));
        assertThat(r.out()).contains(String.format(java.util.Locale.ROOT, "best of sweep   every %d steps, goodput %.2f%%; Young/Daly %,.0f steps; gap %+.1f%%",
                bestEvery, bestGoodput * 100, steps, (bestEvery - steps) / steps * 100));

        // the page: well-formed, both pictures, the summary
        String page = Files.readString(out.resolve("goodput.html"));
        Document doc = DocumentBuilderFactory.newDefaultNSInstance().newDocumentBuilder().parse(out.resolve("goodput.html").toFile());
        assertThat(doc.getElementsByTagNameNS("http://www.w3.org/2000/svg", "svg").getLength()).isEqualTo(2);
        assertThat(page).contains("Young/Daly", "best: every " + bestEvery + " steps", "checkpoint interval sweep");
        assertThat(r.out()).endsWith("wrote " + out + "/{goodput.json, goodput.html}\n");
        try (var left = Files.list(dir)) {
            assertThat(left.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("small.yaml", "out");
        }
    }

    @Test
    void tokensSayHowLongTheyTook() throws Exception {
        Path out = dir.resolve("out");
        // 16,384 tokens a step: 1e9 tokens are ceil(61,035.2) = 61,036 steps
        CliTest.Result r = run(HOURLY, "goodput", small().toString(), "--tokens", "1e9", "--out", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode json = JSON.readTree(out.resolve("goodput.json").toFile());
        assertThat(json.path("status").asText()).isEqualTo("completed");
        assertThat(json.path("totals").path("committedSteps").asLong()).isEqualTo(61_036);
        assertThat(json.path("tokens").path("reached").asBoolean()).isTrue();
        double seconds = json.path("tokens").path("secondsToTrain").asDouble();
        assertThat(seconds).isEqualTo(json.path("totals").path("elapsedSeconds").asDouble());
        assertThat(r.out()).contains("tokens          1.00e9 trained in ", "this run        every 200 steps; gap to Young/Daly");
        // without a sweep the page has the timeline only, and says how to get the curve
        Document doc = DocumentBuilderFactory.newDefaultNSInstance().newDocumentBuilder().parse(out.resolve("goodput.html").toFile());
        assertThat(doc.getElementsByTagNameNS("http://www.w3.org/2000/svg", "svg").getLength()).isEqualTo(1);
        assertThat(Files.readString(out.resolve("goodput.html"))).contains("No sweep: run with");
    }

    @Test
    void withoutDaysOrTokensTheScenariosStepsAndQuietPrintsTheFolderOnly() throws Exception {
        Path out = dir.resolve("out");
        Files.createDirectories(out);
        Files.writeString(out.resolve("notes.txt"), "mine");
        CliTest.Result r = run(HOURLY, "goodput", small().toString(), "--quiet", "--out", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo(out + "\n");
        assertThat(r.err()).isEmpty();
        assertThat(JSON.readTree(out.resolve("goodput.json").toFile()).path("totals").path("committedSteps").asInt()).isEqualTo(50);
        // an existing folder keeps what else it holds
        assertThat(Files.readString(out.resolve("notes.txt"))).isEqualTo("mine");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "--sweep|recovery.detectSeconds=1,2|pipelab: --sweep: only recovery.checkpointEverySteps can be swept, got 'recovery.detectSeconds'",
            "--sweep|10,20|pipelab: --sweep must look like recovery.checkpointEverySteps=V1,V2,... (or =A..B), got '10,20'",
            "--sweep|recovery.checkpointEverySteps=10,x,30|pipelab: --sweep value 2 'x': not a whole number of steps",
            "--sweep|recovery.checkpointEverySteps=10,0|pipelab: --sweep value 2 '0': must be >= 1 (0 takes no checkpoint, so the first interruption ends the run)",
            "--sweep|recovery.checkpointEverySteps=50..10|pipelab: --sweep value 1 '50..10': the range runs backwards (50 > 10)",
            "--sweep|recovery.checkpointEverySteps=1..20000|pipelab: --sweep value 1 '1..20000': 20000 intervals, more than 10000",
            "--sweep|recovery.checkpointEverySteps=5,|pipelab: --sweep value 2 '': not a whole number of steps",
            "--days|0|pipelab: --days must be a number of days > 0, got '0'",
            "--days|-3|pipelab: --days must be a number of days > 0, got '-3'",
            "--days|two|pipelab: --days must be a number of days > 0, got 'two'",
            "--days|Infinity|pipelab: --days must be a number of days > 0, got 'Infinity'",
            "--tokens|1.5|pipelab: --tokens must be a whole number of tokens >= 1 (e.g. 15e12), got '1.5'",
            "--tokens|0|pipelab: --tokens must be a whole number of tokens >= 1 (e.g. 15e12), got '0'",
            "--tokens|lots|pipelab: --tokens must be a whole number of tokens >= 1 (e.g. 15e12), got 'lots'",
            "--steps|0|pipelab: --steps must be >= 1, got 0"})
    void aBadValueExitsTwoWithTheReasonAndWritesNothing(String option, String value, String message) throws IOException {
        Path out = dir.resolve("out");
        CliTest.Result r = run(HOURLY, "goodput", small().toString(), option, value, "--out", out.toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).isEqualTo(message + "\n");
        assertThat(out).doesNotExist();
    }

    @Test
    void withoutCheckpointsTheFirstInterruptionEndsTheRunUnlessASweepFindsAnInterval() throws Exception {
        Path out = dir.resolve("out");
        CliTest.Result failed = run(HOURLY, "goodput", small().toString(), "--set", "recovery.checkpointEverySteps=0", "--days", "1",
                "--out", out.toString());
        // an outcome of the experiment, as in pipelab run: exit 1, the files written and marked failed
        assertThat(failed.code()).isEqualTo(1);
        assertThat(failed.err()).containsPattern("^pipelab goodput: the run failed: [a-z]+ interruption at [0-9.]+ s: no checkpoint to "
                + "recover from \\(set recovery.checkpointEverySteps, or sweep it: --sweep recovery.checkpointEverySteps=A..B\\)\n$");
        assertThat(JSON.readTree(out.resolve("goodput.json").toFile()).path("status").asText()).isEqualTo("failed");

        Path swept = dir.resolve("swept");
        CliTest.Result best = run(HOURLY, "goodput", small().toString(), "--set", "recovery.checkpointEverySteps=0", "--days", "1",
                "--sweep", GoodputCommand.SWEPT + "=1000,2000", "--out", swept.toString());
        assertThat(best.code()).as(best.err()).isZero();
        JsonNode json = JSON.readTree(swept.resolve("goodput.json").toFile());
        assertThat(best.out()).startsWith("the scenario takes no checkpoints (recovery.checkpointEverySteps: 0): the run shown is the "
                + "sweep's best\n");
        assertThat(json.path("input").path("recovery").path("checkpointEverySteps").asInt())
                .isEqualTo(json.path("best").path("checkpointEverySteps").asInt());
    }

    @Test
    void stepsAndTokensTogetherAreAMistake() throws IOException {
        CliTest.Result r = run(HOURLY, "goodput", small().toString(), "--steps", "10", "--tokens", "1e9", "--out", dir.resolve("out").toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("pipelab: --steps and --tokens both say when to stop; give one\n");
    }

    @Test
    void aScenarioWithoutRatesIsAMistake() throws IOException {
        Path out = dir.resolve("out");
        CliTest.Result r = CliTest.run("goodput", small().toString(), "--out", out.toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).startsWith("pipelab: " + small() + ": no faults.random: pipelab goodput needs failure rates");
        assertThat(r.err().lines()).hasSize(1);
        assertThat(out).doesNotExist();
    }

    @Test
    void anAbsurdHorizonIsRefusedAtOnceUnlessForced() throws IOException {
        Path out = dir.resolve("out");
        // warm the command's classes, so what is timed is the refusal, not the JVM loading it
        run(HOURLY, "goodput", small().toString(), "--days", "1e9", "--out", out.toString());
        long t0 = System.nanoTime();
        // 1e9 days of 293.0 ms steps: 294.87e12 steps, three runs with the sweep (the operation-level model: gpt3-350m's
        // materialised attention at s = 2,048 is bound by the RTX 4090's memory bandwidth; 72.6 ms under FLOPs / peak)
        CliTest.Result r = run(HOURLY, "goodput", small().toString(), "--days", "1e9", "--sweep", GoodputCommand.SWEPT + "=100,300",
                "--out", out.toString());
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err().lines()).hasSize(1);
        assertThat(r.err()).startsWith("pipelab goodput: 884.61e12 steps to emulate (3 runs of 294.87e12 steps of 293.010 ms), more than the "
                + "limit of 2,000,000,000 (").endsWith("); use fewer --days or a larger step, or --force\n");
        assertThat(seconds).isLessThan(1.0);
        assertThat(out).doesNotExist();
    }

    @Test
    void theProgressBarEveryHalfSecondWithAnEta() {
        StringWriter err = new StringWriter();
        long[] now = {0};
        GoodputProgress bar = new GoodputProgress(new PrintWriter(err), false, 4, () -> now[0]);
        bar.at(0.1, 0);
        now[0] = 400_000_000L;
        bar.at(0.2, 0);
        assertThat(err.toString()).isEmpty();
        // 2 s for the first 40%: 3 s more for the other 60%
        now[0] = 2_000_000_000L;
        bar.at(0.4, 1);
        now[0] = 2_100_000_000L;
        bar.at(0.45, 1);
        assertThat(err.toString()).isEqualTo("goodput [############..................]  40.0%  run 2/4  ETA 3.0 s\n");
    }
}
