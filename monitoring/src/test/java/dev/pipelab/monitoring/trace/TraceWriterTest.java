package dev.pipelab.monitoring.trace;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pipelab.monitoring.Event;
import dev.pipelab.monitoring.LinkRecord;
import dev.pipelab.monitoring.TransferOutcome;
import dev.pipelab.monitoring.synthetic.SyntheticRun;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class TraceWriterTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    @Test
    void aClusterRunsProcessesCarryTheirWorkersAddress(@TempDir Path dir) throws IOException {
        SyntheticRun run = new SyntheticRun(2, 2, 2, 1.0, 0.3, 7);
        List<Event> events = run.steps(1);
        Path file = dir.resolve("trace.json");
        TraceWriter.write(run.deployedOn(3), events, file);

        assertThat(TraceCheck.check(file, run.busyMicros)).isEmpty();
        List<String> names = new ArrayList<>();
        MAPPER.readTree(file.toFile()).get("traceEvents").forEach(e -> {
            if (e.get("ph").asText().equals("M") && e.get("name").asText().equals("process_name")) names.add(e.get("args").get("name").asText());
        });
        assertThat(names).containsExactly("replica 0 rank 0 @ 127.0.0.1:25521", "replica 0 rank 1 @ 127.0.0.1:25522",
                "replica 1 rank 0 @ 127.0.0.1:25523", "replica 1 rank 1 @ 127.0.0.1:25521");
    }

    @Test
    void syntheticTwoStepTwoReplicaRunPassesEveryCheck(@TempDir Path dir) throws IOException {
        SyntheticRun run = new SyntheticRun(4, 2, 4, 1.0, 0.3, 7);
        List<Event> events = run.steps(2);
        Path file = dir.resolve("trace.json");
        try (TraceWriter writer = new TraceWriter(run.info(), file)) {
            for (Event e : events) writer.emit(e);
            writer.fault(3.5, "stage.slowdown", "replica 0 rank 1");
        }

        assertThat(TraceCheck.check(file, run.busyMicros)).isEmpty();

        JsonNode root = MAPPER.readTree(file.toFile());
        assertThat(root.get("displayTimeUnit").asText()).isEqualTo("ms");
        assertThat(root.get("metadata").get("scenario").asText()).isEqualTo("synthetic");
        List<JsonNode> all = new ArrayList<>();
        root.get("traceEvents").forEach(all::add);
        Set<String> processNames = new HashSet<>();
        Set<String> categories = new HashSet<>();
        Set<String> threadNames = new HashSet<>();
        int flowsS = 0;
        int flowsF = 0;
        for (JsonNode e : all) {
            String ph = e.get("ph").asText();
            if (ph.equals("M") && e.get("name").asText().equals("process_name")) processNames.add(e.get("args").get("name").asText());
            if (ph.equals("M") && e.get("name").asText().equals("thread_name")) threadNames.add(e.get("args").get("name").asText());
            if (ph.equals("X")) categories.add(e.get("cat").asText());
            if (ph.equals("s")) flowsS++;
            if (ph.equals("f")) {
                flowsF++;
                assertThat(e.get("bp").asText()).isEqualTo("e");
            }
        }
        assertThat(processNames).hasSize(8).contains("replica 0 rank 0", "replica 1 rank 3");
        assertThat(categories).contains("forward", "backward", "optimizer", "transfer", "allreduce", "stall");
        // latency longer than a forward: two activations of one link are in flight at once, so a second lane exists
        assertThat(threadNames).contains("compute", "send → 1", "recv ← 0", "send → 1 (2)");
        long transfers = SyntheticRun.transfers(events);
        assertThat(flowsS).isEqualTo(transfers).isEqualTo(flowsF);
        assertThat(all).anySatisfy(e -> {
            assertThat(e.get("ph").asText()).isEqualTo("C");
            assertThat(e.get("name").asText()).isEqualTo("memory");
        });
        assertThat(all).anySatisfy(e -> assertThat(e.get("name").asText()).startsWith("queue → "));
        assertThat(all).anySatisfy(e -> {
            assertThat(e.get("ph").asText()).isEqualTo("i");
            assertThat(e.get("s").asText()).isEqualTo("g");
        });
        // the second step sits after the first on the run's axis: F mb0 of step 1 starts at step 0's end
        Event.StepEnded first = (Event.StepEnded) events.stream().filter(e -> e instanceof Event.StepEnded).findFirst().orElseThrow();
        assertThat(all).anySatisfy(e -> {
            assertThat(e.get("name").asText()).isEqualTo("F mb0");
            assertThat(e.get("args").get("step").asInt()).isEqualTo(1);
            assertThat(e.get("ts").asDouble()).isCloseTo(first.runSeconds() * 1e6, Offset.offset(1e-3));
        });
    }

    /**
     * A transmission a fault dropped is drawn on the sender's track only, marked, with no flow arrow; a duplicate copy
     * is drawn on both tracks, marked; the trace stays sound.
     */
    @Test
    void droppedAndDuplicateTransmissionsAreMarked(@TempDir Path dir) throws IOException {
        SyntheticRun run = new SyntheticRun(2, 1, 2, 1.0, 0, 5);
        List<Event> events = new ArrayList<>();
        for (Event e : run.steps(1)) {
            if (!(e instanceof Event.StepEnded s)) {
                events.add(e);
                continue;
            }
            // the link's first transfer becomes a dropped transmission, its second a delivered one followed by a copy
            LinkRecord l = s.links().get(0);
            List<LinkRecord.Transfer> ts = new ArrayList<>(l.transfers());
            ts.set(0, withOutcome(ts.get(0), TransferOutcome.DROPPED));
            LinkRecord.Transfer second = ts.get(1);
            ts.add(2, withOutcome(second, TransferOutcome.DUPLICATE));
            List<LinkRecord> links = new ArrayList<>(s.links());
            links.set(0, new LinkRecord(l.step(), l.replica(), l.toReplica(), l.fromRank(), l.toRank(), l.ring(), l.bytes(),
                    l.busySeconds(), l.messages(), l.maxQueueDepth(), 1, 1, ts));
            events.add(new Event.StepEnded(s.step(), s.stepSeconds(), s.runSeconds(), s.committedOffset(), s.stages(), links));
        }
        Path file = dir.resolve("faults.json");
        TraceWriter.write(run.info(), events, file);
        assertThat(TraceCheck.check(file, run.busyMicros)).isEmpty();

        List<JsonNode> dropped = new ArrayList<>();
        List<JsonNode> copies = new ArrayList<>();
        int flowsS = 0;
        int flowsF = 0;
        for (JsonNode e : MAPPER.readTree(file.toFile()).get("traceEvents")) {
            String ph = e.get("ph").asText();
            if (ph.equals("s")) flowsS++;
            if (ph.equals("f")) flowsF++;
            if (!ph.equals("X") || !e.get("cat").asText().equals("transfer")) continue;
            JsonNode outcome = e.get("args").get("outcome");
            if (outcome == null) continue;
            if (outcome.asText().equals("dropped")) dropped.add(e);
            if (outcome.asText().equals("duplicate")) copies.add(e);
        }
        assertThat(dropped).singleElement().satisfies(e -> {
            assertThat(e.get("name").asText()).endsWith("→ 1 (dropped)");
            assertThat(e.get("pid").asInt()).isEqualTo(1); // the sender's track, rank 0
        });
        assertThat(copies).hasSize(2).allSatisfy(e -> assertThat(e.get("name").asText()).endsWith("(duplicate)"));
        // every transmission but the dropped one has its arrow
        assertThat(flowsS).isEqualTo(flowsF).isEqualTo((int) SyntheticRun.transfers(events) - 1);
    }

    private static LinkRecord.Transfer withOutcome(LinkRecord.Transfer t, TransferOutcome outcome) {
        return new LinkRecord.Transfer(t.kind(), t.stage(), t.microBatch(), t.bytes(), t.readySeconds(), t.startSeconds(),
                t.endSeconds(), outcome);
    }

    @Test
    void eventsInAnyOrderGiveTheSameSoundTrace(@TempDir Path dir) throws IOException {
        SyntheticRun run = new SyntheticRun(3, 2, 3, 0.01, 0.5, 11);
        List<Event> events = new ArrayList<>(run.steps(2));
        List<Event> shuffled = new ArrayList<>(events);
        Collections.shuffle(shuffled, new Random(3));
        Path file = dir.resolve("shuffled.json");
        TraceWriter.write(run.info(), shuffled, file);
        assertThat(TraceCheck.check(file, run.busyMicros)).isEmpty();
    }

    @Test
    void manyThreadsEmittingOneStepAtATimeGiveASoundTrace(@TempDir Path dir) throws Exception {
        SyntheticRun run = new SyntheticRun(4, 4, 4, 0.2, 0.4, 17);
        Path file = dir.resolve("threads.json");
        try (TraceWriter writer = new TraceWriter(run.info(), file)) {
            for (int step = 0; step < 3; step++) {
                List<Event> events = run.nextStep();
                writer.emit(events.get(0)); // StepStarted before the spans, StepEnded after them, as the runtime does
                List<Thread> threads = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    int from = 1 + t * (events.size() - 2) / 4;
                    int to = 1 + (t + 1) * (events.size() - 2) / 4;
                    threads.add(start(() -> events.subList(from, to).forEach(writer::emit)));
                }
                for (Thread t : threads) t.join();
                writer.emit(events.get(events.size() - 1));
            }
        }
        assertThat(TraceCheck.check(file, run.busyMicros)).isEmpty();
    }

    @Test
    void wrongBusyTimeIsReported(@TempDir Path dir) throws IOException {
        SyntheticRun run = new SyntheticRun(2, 1, 2, 1.0, 0, 1);
        Path file = dir.resolve("trace.json");
        TraceWriter.write(run.info(), run.steps(1), file);
        assertThat(TraceCheck.check(file, Map.of(1, 1.0))).singleElement().asString()
                .startsWith("pid 1: compute slices add up to");
    }

    private static Thread start(Runnable r) {
        Thread t = new Thread(r);
        t.start();
        return t;
    }

    @Test
    void partialOverlapAndMissingFlowEndAreRejected(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("broken.json");
        Files.writeString(file, """
                {"traceEvents":[
                  {"ph":"M","name":"process_name","pid":1,"tid":0,"args":{"name":"replica 0 rank 0"}},
                  {"ph":"X","name":"F mb0","cat":"forward","pid":1,"tid":1,"ts":0,"dur":10},
                  {"ph":"X","name":"F mb1","cat":"forward","pid":1,"tid":1,"ts":5,"dur":10},
                  {"ph":"X","name":"F mb0 → 1","cat":"transfer","pid":1,"tid":10256,"ts":10,"dur":3},
                  {"ph":"s","name":"transfer","cat":"transfer","id":1,"pid":1,"tid":10256,"ts":10}
                ],"displayTimeUnit":"ms"}
                """);
        List<String> problems = TraceCheck.check(file);
        assertThat(problems).hasSize(2);
        assertThat(problems.get(0)).contains("F mb1").contains("partially overlaps");
        assertThat(problems.get(1)).isEqualTo("flow id 1: 1 start(s), 0 finish(es)");
    }

    @Test
    void decreasingTimestampsAndInvalidJsonAreRejected(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("order.json");
        Files.writeString(file, """
                {"traceEvents":[
                  {"ph":"X","name":"B mb0","cat":"backward","pid":1,"tid":1,"ts":20,"dur":5},
                  {"ph":"X","name":"F mb0","cat":"forward","pid":1,"tid":1,"ts":0,"dur":5}
                ]}
                """);
        assertThat(TraceCheck.check(file)).singleElement().asString().contains("before the previous 20.0");
        Path bad = dir.resolve("bad.json");
        Files.writeString(bad, "{\"traceEvents\":[{\"ph\":\"X\",");
        assertThat(TraceCheck.check(bad)).singleElement().asString().startsWith("not valid JSON");
    }
}
