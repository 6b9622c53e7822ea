package dev.pipelab.monitoring;

import dev.pipelab.monitoring.report.ReportJson;
import dev.pipelab.monitoring.report.RunReport;
import dev.pipelab.monitoring.synthetic.FaultyRun;
import dev.pipelab.monitoring.synthetic.StepBuilder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ReportJsonTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private static RunInfo infoWithMemory() {
        return TinyGPipe.info().with("virtual", 1, Optional.of(MemoryInfo.of(10, 10, 20, 30)));
    }

    private static String json(List<Event> events, WallClock wall) {
        return ReportJson.toJson(RunReport.of(RunTelemetry.of(infoWithMemory(), events), wall));
    }

    private static JsonNode parse(String json) throws Exception {
        return MAPPER.readTree(json);
    }

    @Test
    void headlineNumbersAreTheStepsExactly() throws Exception {
        JsonNode r = parse(json(TinyGPipe.events(3), new WallClock("2026-11-28T03:00:00Z", 1.5)));
        assertThat(r.get("name").asText()).isEqualTo("tiny");
        assertThat(r.get("schedule").asText()).isEqualTo("gpipe");
        assertThat(r.get("clock").asText()).isEqualTo("virtual");
        assertThat(r.get("completedSteps").asInt()).isEqualTo(3);
        assertThat(r.get("runSeconds").asDouble()).isEqualTo(30.0);
        assertThat(r.get("stepTimeSeconds").asDouble()).isEqualTo(10.0);
        assertThat(r.get("lastStepTimeSeconds").asDouble()).isEqualTo(10.0);
        assertThat(r.get("bubbleFraction").asDouble()).isEqualTo(0.35);
        assertThat(r.get("samplesPerSecond").asDouble()).isEqualTo(1234.4);
        assertThat(r.get("tokensPerSecond").asDouble()).isEqualTo(1234.4 * 8);
        assertThat(r.get("mfu").asDouble()).isEqualTo(0.5);
        assertThat(r.get("hfu").asDouble()).isEqualTo(0.75);
        assertThat(r.get("memory").get("totalBytes").asLong()).isEqualTo(70);
        assertThat(r.get("memory").get("optimizerBytes").asLong()).isEqualTo(20);
    }

    @Test
    void stagesLinksStepsAndPlaceholders() throws Exception {
        JsonNode r = parse(json(TinyGPipe.events(2), new WallClock("t", 0)));
        JsonNode s1 = r.get("stages").get(1);
        assertThat(s1.get("index").asInt()).isEqualTo(1);
        assertThat(s1.get("layers").asInt()).isEqualTo(5);
        assertThat(s1.get("busyFraction").asDouble()).isEqualTo(0.65);
        assertThat(s1.get("peakMemoryBytes").asLong()).isEqualTo(140);
        assertThat(s1.get("peakInFlightMicrobatches").asInt()).isEqualTo(2);
        assertThat(s1.get("busySecondsByPhase").toString()).isEqualTo("{\"F\":2.0,\"B\":4.0,\"W\":0.0,\"R\":0.0,\"OPT\":0.5}");
        assertThat(s1.get("replicas")).hasSize(1);
        JsonNode link = r.get("links").get(0);
        assertThat(link.toString()).isEqualTo("{\"replica\":0,\"from\":0,\"to\":1,\"bytes\":4000,\"transfers\":4,"
                + "\"busySeconds\":1.0,\"stallSeconds\":0.0,\"maxQueueDepth\":0}");
        assertThat(r.get("steps")).hasSize(2);
        assertThat(r.get("steps").get(1).toString()).isEqualTo("{\"step\":1,\"stepTimeSeconds\":10.0,\"runSeconds\":20.0,"
                + "\"samplesPerSecond\":1234.4,\"bubbleFraction\":0.35,\"committedOffset\":24688}");
        assertThat(r.get("faults").isArray()).isTrue();
        assertThat(r.get("faults")).isEmpty();
        // a fault-free run without commits: nothing recovered, nothing lost, all of the time useful, no ledger recorded
        assertThat(r.get("recovery").toString()).isEqualTo("{\"recoveries\":[],\"checkpoints\":0,\"checkpointSeconds\":0.0,"
                + "\"checkpointBytes\":0,\"replayedSteps\":0,\"lostWorkSeconds\":0.0,\"usefulSeconds\":20.0,"
                + "\"elapsedSeconds\":20.0,\"goodput\":1.0,\"transmissionsDropped\":0,\"duplicatesDropped\":0,\"ledger\":null}");
        assertThat(r.get("outOfMemory")).isEmpty();
    }

    @Test
    void keysComeInTheDocumentedOrderWithWallClockLast() throws Exception {
        JsonNode r = parse(json(TinyGPipe.events(1), new WallClock("t", 0)));
        List<String> keys = new ArrayList<>();
        r.fieldNames().forEachRemaining(keys::add);
        assertThat(keys).containsExactly("name", "schedule", "clock", "speed", "plan", "completedSteps", "runSeconds",
                "stepTimeSeconds", "lastStepTimeSeconds", "bubbleFraction", "samplesPerSecond", "tokensPerSecond", "mfu",
                "hfu", "memory", "stages", "links", "allReduce", "steps", "faults", "recovery", "outOfMemory", "status",
                "wallClock");
        assertThat(r.get("status").asText()).isEqualTo("completed");
    }

    @Test
    void identicalEventsGiveIdenticalBytesApartFromWallClock() {
        String a = json(TinyGPipe.shuffled(3, 11), new WallClock("2026-11-28T03:00:00Z", 1.5));
        String b = json(TinyGPipe.shuffled(3, 12), new WallClock("2026-11-28T04:10:00Z", 7.25));
        assertThat(a).isNotEqualTo(b);
        String wall = "  \"wallClock\"";
        assertThat(a.substring(0, a.indexOf(wall))).isEqualTo(b.substring(0, b.indexOf(wall)));
        assertThat(a.substring(a.indexOf(wall))).contains("\"startedAt\": \"2026-11-28T03:00:00Z\"", "\"wallSeconds\": 1.5");
    }

    @Test
    void aClusterRunListsItsPlacementBeforeTheWallClockAndChangesNothingElse() throws Exception {
        RunInfo deployed = infoWithMemory().with(new Deployment("explicit",
                List.of("pekko://pipelab@127.0.0.1:25521", "pekko://pipelab@127.0.0.1:25522"), List.of(List.of(1, 0))));
        WallClock wall = new WallClock("t", 0);
        String embedded = json(TinyGPipe.events(2), wall);
        String cluster = ReportJson.toJson(RunReport.of(RunTelemetry.of(deployed, TinyGPipe.events(2)), wall));

        JsonNode r = parse(cluster);
        assertThat(r.get("placement").toString()).isEqualTo("[{\"replica\":0,\"rank\":0,\"node\":\"pekko://pipelab@127.0.0.1:25522\"},"
                + "{\"replica\":0,\"rank\":1,\"node\":\"pekko://pipelab@127.0.0.1:25521\"}]");
        List<String> keys = new ArrayList<>();
        r.fieldNames().forEachRemaining(keys::add);
        assertThat(keys.subList(keys.size() - 3, keys.size())).containsExactly("status", "placement", "wallClock");
        // deployment only: without the placement the report is the embedded run's, byte for byte
        assertThat(parse(embedded).has("placement")).isFalse();
        ((ObjectNode) r).remove("placement");
        assertThat(r).isEqualTo(parse(embedded));
    }

    @Test
    void aDeploymentNamesEveryStageOnAnExistingWorker() {
        List<String> two = List.of("pekko://pipelab@10.0.0.1:1", "pekko://pipelab@10.0.0.2:1");
        Deployment d = new Deployment("spread", two, List.of(List.of(0, 1), List.of(1, 0)));
        assertThat(d.worker(1, 0)).isEqualTo(1);
        assertThat(d.address(1, 1)).isEqualTo("pekko://pipelab@10.0.0.1:1");
        assertThat(d.label(0, 1)).isEqualTo("10.0.0.2:1");
        assertThatThrownBy(() -> new Deployment("explicit", two, List.of(List.of(0, 2))))
                .hasMessage("workerOf[0][1] must be within 0..1, got 2");
        assertThatThrownBy(() -> new Deployment("explicit", two, List.of(List.of(0, 1), List.of(0))))
                .hasMessage("workerOf[1] must have 2 entries, got 1");
        // the deployment must place the run's shape: TinyGPipe has 1 replica of 2 ranks
        assertThatThrownBy(() -> TinyGPipe.info().with(d)).hasMessage("deployment must place 1 replicas x 2 ranks, got 2 x 2");
    }

    @Test
    void doublesKeepFullPrecision() throws Exception {
        // a bubble of 1/3 must survive the round trip through text bit for bit
        RunInfo info = new RunInfo("third", "gpipe", 3, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, List.of(1, 1, 1), List.of(0L, 0L, 0L));
        StepBuilder b = new StepBuilder(info, 0);
        for (int r = 0; r < 3; r++) b.action(0, r, r, Phase.F, 0, r * 0.5, r * 0.5 + 2);
        String text = ReportJson.toJson(RunReport.of(RunTelemetry.of(info, List.of(b.ended(3.0, 3.0, 1))), new WallClock("t", 0)));
        assertThat(text).contains("\"bubbleFraction\": 0.3333333333333333,");
        assertThat(parse(text).get("bubbleFraction").asDouble()).isEqualTo(1.0 / 3);
    }

    @Test
    void memoryIsNullWhenTheCallerHasNoBreakdownAndOutOfMemoryIsListed() throws Exception {
        List<Event> events = TinyGPipe.step(TinyGPipe.builder(0).outOfMemory(0, 1, 1, 2.25, 1_500_000_000L, 1_000_000_000L));
        JsonNode r = parse(ReportJson.toJson(RunReport.of(RunTelemetry.of(TinyGPipe.info(), events), new WallClock("t", 0))));
        assertThat(r.get("memory").isNull()).isTrue();
        assertThat(r.get("outOfMemory").toString()).isEqualTo("[{\"step\":0,\"replica\":0,\"rank\":1,\"atSeconds\":2.25,"
                + "\"bytes\":1500000000,\"capacityBytes\":1000000000}]");
    }

    @Test
    void allReduceIsListedPerStage() throws Exception {
        List<Event> events = TinyGPipe.step(TinyGPipe.builder(0).allReduce(0, 1, 1, 4096, 7.25, 7.5));
        JsonNode r = parse(json(events, new WallClock("t", 0)));
        // every model stage is listed, a stage that no replica reduced with zeros
        assertThat(r.get("allReduce").toString()).isEqualTo("[{\"stage\":0,\"bytes\":0,\"seconds\":0.0},"
                + "{\"stage\":1,\"bytes\":4096,\"seconds\":0.25}]");
        JsonNode none = parse(json(List.of(), new WallClock("t", 0)));
        assertThat(none.get("allReduce")).isEmpty();
    }

    @Test
    void aRunThatDidNotCompleteSaysSoAndWhyAndReportsTheStepsItCompleted() throws Exception {
        List<Event> events = new ArrayList<>(TinyGPipe.events(2));
        events.add(TinyGPipe.builder(2).abandoned("rank 1 waits for F2 from rank 0"));
        RunReport report = RunReport.of(RunTelemetry.of(TinyGPipe.info(), events),
                RunReport.Outcome.deadlocked("rank 1 waits for F2 from rank 0"), new WallClock("t", 0));
        JsonNode r = parse(ReportJson.toJson(report));
        assertThat(r.get("completedSteps").asInt()).isEqualTo(2);
        assertThat(r.get("status").asText()).isEqualTo("deadlocked");
        assertThat(r.get("failure").asText()).isEqualTo("rank 1 waits for F2 from rank 0");
        List<String> keys = new ArrayList<>();
        r.fieldNames().forEachRemaining(keys::add);
        assertThat(keys.subList(keys.size() - 3, keys.size())).containsExactly("status", "failure", "wallClock");
        assertThat(parse(ReportJson.toJson(RunReport.of(RunTelemetry.of(TinyGPipe.info(), List.of()),
                RunReport.Outcome.failed("boom"), new WallClock("t", 0)))).get("status").asText()).isEqualTo("failed");
        assertThatThrownBy(() -> new RunReport.Outcome(RunReport.Status.COMPLETED, Optional.of("x")))
                .hasMessage("a completed run must have no failure, got Optional[x]");
        assertThatThrownBy(() -> new RunReport.Outcome(RunReport.Status.FAILED, Optional.empty()))
                .hasMessage("a failed run must give its reason, got Optional.empty");
    }

    @Test
    void writesUtf8WithUnixLineEnds(@TempDir Path dir) throws Exception {
        RunReport report = RunReport.of(RunTelemetry.of(infoWithMemory(), TinyGPipe.events(1)), new WallClock("t", 0));
        Path file = dir.resolve("report.json");
        ReportJson.write(report, file);
        String text = Files.readString(file, StandardCharsets.UTF_8);
        assertThat(text).isEqualTo(ReportJson.toJson(report)).doesNotContain("\r").startsWith("{\n  \"name\": \"tiny\",\n")
                .endsWith("}\n");
    }

    @Test
    void aFaultyRunListsItsFaultsRecoveriesCheckpointsGoodputAndTheLedgerOfEveryTrainingStep() throws Exception {
        JsonNode r = parse(json(FaultyRun.events(TinyGPipe.info()), new WallClock("t", 0)));
        assertThat(r.get("faults")).hasSize(2);
        assertThat(r.get("faults").get(0).toString()).isEqualTo("{\"index\":0,\"kind\":\"stage.crash\",\"target\":\"0/1\","
                + "\"description\":\"stage.crash 0/1 at=2+3.0\",\"injectedAtSeconds\":25.0,\"healedAtSeconds\":null,"
                + "\"detectedAtSeconds\":27.0,\"recoveredAtSeconds\":40.0,\"lostWorkSeconds\":13.0,\"recoveries\":1}");
        JsonNode latency = r.get("faults").get(1);
        assertThat(latency.get("healedAtSeconds").asDouble()).isEqualTo(45.0);
        assertThat(latency.get("detectedAtSeconds").isNull()).isTrue();
        assertThat(latency.get("recoveries").asInt()).isZero();

        JsonNode rec = r.get("recovery");
        assertThat(rec.get("recoveries").get(0).toString()).isEqualTo("{\"attempt\":2,\"fault\":0,\"reason\":\"stage 0/1 crashed\","
                + "\"failedAtSeconds\":25.0,\"detectedAtSeconds\":27.0,\"recoveredAtSeconds\":40.0,\"detectionSeconds\":2.0,"
                + "\"downtimeSeconds\":15.0,\"resumedFromStep\":1,\"replayedSteps\":1,\"lostWorkSeconds\":13.0}");
        assertThat(rec.get("checkpoints").asInt()).isEqualTo(1);
        assertThat(rec.get("checkpointSeconds").asDouble()).isEqualTo(2.0);
        assertThat(rec.get("checkpointBytes").asLong()).isEqualTo(1_000_000);
        assertThat(rec.get("replayedSteps").asInt()).isEqualTo(1);
        assertThat(rec.get("lostWorkSeconds").asDouble()).isEqualTo(FaultyRun.LOST_WORK_SECONDS);
        assertThat(rec.get("goodput").asDouble()).isEqualTo(FaultyRun.GOODPUT);
        JsonNode ledger = rec.get("ledger");
        assertThat(ledger.get("balanced").asBoolean()).isTrue();
        assertThat(ledger.get("trainingSteps").asInt()).isEqualTo(3);
        assertThat(ledger.get("problems")).isEmpty();
        // m = 2 micro-batches of one replica per step: offsets 2t, 2t+1; step 1 ran in attempts 1 and 3, 3 counted
        assertThat(ledger.get("steps").toString()).isEqualTo("[{\"step\":0,\"attempt\":0,\"attempts\":[0],"
                + "\"replicas\":[{\"replica\":0,\"offsets\":\"0-1\"}]},"
                + "{\"step\":1,\"attempt\":3,\"attempts\":[1,3],\"replicas\":[{\"replica\":0,\"offsets\":\"2-3\"}]},"
                + "{\"step\":2,\"attempt\":4,\"attempts\":[4],\"replicas\":[{\"replica\":0,\"offsets\":\"4-5\"}]}]");

        // the same events in any order give the same report
        assertThat(json(FaultyRun.shuffled(TinyGPipe.info(), 3), new WallClock("t", 0)))
                .isEqualTo(json(FaultyRun.events(TinyGPipe.info()), new WallClock("t", 0)));
    }

    @Test
    void anUnbalancedLedgerIsMarkedWithItsProblems() throws Exception {
        List<Event> events = new ArrayList<>(TinyGPipe.events(2));
        events.add(FaultyRun.commit(TinyGPipe.info(), 0, 0));
        events.add(FaultyRun.commit(TinyGPipe.info(), 1, 0)); // step 0's offsets consumed again, as step 0 again
        JsonNode ledger = parse(json(events, new WallClock("t", 0))).get("recovery").get("ledger");
        assertThat(ledger.get("balanced").asBoolean()).isFalse();
        assertThat(ledger.get("problems").get(0).asText()).isEqualTo("training step 0: committed 2 times (attempts 0, 1), expected once");
    }

    @Test
    void droppedAndDuplicatedTransmissionsAreSummedFromTheLinksRecords() throws Exception {
        List<Event> events = new ArrayList<>();
        for (int k = 0; k < 2; k++) {
            events.add(new Event.StepStarted(k, 10.0 * k, 0, 2));
            // link 0->1 dropped 3 + k transmissions and delivered k + 1 second copies
            LinkRecord link = new LinkRecord(k, 0, 0, 0, 1, false, 4000, 1.0, 4, 0, 3 + k, k + 1, List.of());
            events.add(new Event.StepEnded(k, 10.0, 10.0 * (k + 1), 0, List.of(), List.of(link)));
        }
        JsonNode rec = parse(json(events, new WallClock("t", 0))).get("recovery");
        assertThat(rec.get("transmissionsDropped").asLong()).isEqualTo(3 + 4);
        assertThat(rec.get("duplicatesDropped").asLong()).isEqualTo(1 + 2);
    }
}
