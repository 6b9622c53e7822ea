package dev.pipelab.monitoring.trace;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pipelab.monitoring.Event;
import dev.pipelab.monitoring.LinkRecord;
import dev.pipelab.monitoring.TransferOutcome;
import dev.pipelab.monitoring.synthetic.FaultyRun;
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
            writer.emit(new Event.FaultInjected(1, 3.5, 0, "stage.slowdown", "0/1", "stage.slowdown 0/1 at=1+0.5 factor=2.0"));
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
        // 8 ranks, and the faults process the injected slowdown brings
        assertThat(processNames).hasSize(9).contains("replica 0 rank 0", "replica 1 rank 3", "faults");
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

    @Test
    void faultsRecoveriesAndCheckpointsAreSlicesAndInstantsOnAFaultsProcessOfTheirOwn(@TempDir Path dir) throws IOException {
        SyntheticRun run = new SyntheticRun(2, 1, 2, 1.0, 0, 3);
        List<Event> steps = run.steps(3);
        double end = ((Event.StepEnded) steps.get(steps.size() - 1)).runSeconds();
        List<Event> events = new ArrayList<>(steps);
        // a latency fault from 1.0 to 2.5 s overlapping a slowdown from 2.0 s that never heals; a crash at 3.0 s
        // noticed at 3.5 s and recovered from at 4.0 s; a checkpoint of 0.25 s ending at 1.5 s
        events.add(new Event.FaultInjected(0, 1.0, 0, "link.latency", "0/0->1", "link.latency 0/0->1 at=0+1.0 for=1.5"));
        events.add(new Event.FaultHealed(0, 2.5, 0));
        events.add(new Event.FaultInjected(0, 2.0, 1, "stage.slowdown", "0/1", "stage.slowdown 0/1 at=0+2.0"));
        events.add(new Event.FaultInjected(1, 3.0, 2, "stage.crash", "0/0", "stage.crash 0/0 at=1"));
        events.add(new Event.Recovered(1, 2, "stage 0/0 crashed", 3.0, 3.5, 4.0, 0, 1, 2.0));
        events.add(new Event.Checkpointed(0, 0, 1.5, 0.25, 1000));
        events.add(FaultyRun.commit(run.info(), 0, 0)); // not a timeline item
        Path file = dir.resolve("faults.json");
        TraceWriter.write(run.info(), events, file);
        assertThat(TraceCheck.check(file, run.busyMicros)).isEmpty();

        List<JsonNode> all = new ArrayList<>();
        MAPPER.readTree(file.toFile()).get("traceEvents").forEach(all::add);
        int faultsPid = 2 * 1 + 1;
        assertThat(all).anySatisfy(e -> {
            assertThat(e.get("name").asText()).isEqualTo("process_name");
            assertThat(e.get("pid").asInt()).isEqualTo(faultsPid);
            assertThat(e.get("args").get("name").asText()).isEqualTo("faults");
        });
        List<String> threads = all.stream().filter(e -> e.get("ph").asText().equals("M") && e.get("pid").asInt() == faultsPid
                && e.get("name").asText().equals("thread_name")).map(e -> e.get("args").get("name").asText()).toList();
        // the two faults overlap, so the second gets a lane of its own
        assertThat(threads).containsExactlyInAnyOrder("faults", "faults (2)", "recovery", "checkpoints");
        List<JsonNode> slices = all.stream().filter(e -> e.get("ph").asText().equals("X") && e.get("pid").asInt() == faultsPid).toList();
        assertThat(slices).extracting(e -> e.get("name").asText() + " " + e.get("ts").asDouble() + " " + e.get("dur").asDouble())
                .containsExactly(
                        "link.latency 0/0->1 1000000.0 1500000.0",
                        "checkpoint after step 0 1250000.0 250000.0",
                        "stage.slowdown 0/1 2000000.0 " + (end * 1e6 - 2e6),  // never healed: to the end of the trace
                        "stage.crash 0/0 3000000.0 1000000.0",                  // to the recovery it caused
                        "recovery of attempt 1 3000000.0 1000000.0");
        assertThat(slices.get(1).get("args").get("bytes").asLong()).isEqualTo(1000);
        assertThat(slices.get(0).get("args").get("healed").asBoolean()).isTrue();
        assertThat(slices.get(4).get("args").get("resumedFromStep").asInt()).isZero();
        List<String> instants = all.stream().filter(e -> e.get("ph").asText().equals("i") && e.get("cat").asText().equals("fault"))
                .map(e -> e.get("name").asText() + " " + e.get("ts").asDouble()).toList();
        assertThat(instants).containsExactly("inject link.latency 0/0->1 1000000.0", "inject stage.slowdown 0/1 2000000.0",
                "heal link.latency 0/0->1 2500000.0", "inject stage.crash 0/0 3000000.0", "detect attempt 1 3500000.0");

        // without fault, recovery or checkpoint events the trace is the fault-free one, byte for byte
        Path plain = dir.resolve("plain.json");
        Path committed = dir.resolve("committed.json");
        TraceWriter.write(run.info(), steps, plain);
        List<Event> withCommits = new ArrayList<>(steps);
        withCommits.add(FaultyRun.commit(run.info(), 0, 0));
        TraceWriter.write(run.info(), withCommits, committed);
        assertThat(Files.readString(committed)).isEqualTo(Files.readString(plain)).doesNotContain("\"faults\"");
    }
}
