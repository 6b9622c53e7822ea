package dev.pipelab.cluster;

import dev.pipelab.monitoring.Event;
import dev.pipelab.monitoring.EventLog;
import dev.pipelab.monitoring.LinkRecord;
import dev.pipelab.monitoring.StageRecord;
import dev.pipelab.monitoring.TelemetryLevel;
import dev.pipelab.pipeline.Emulator;
import dev.pipelab.pipeline.RunOptions;
import dev.pipelab.pipeline.RunResult;
import dev.pipelab.pipeline.RunSpec;
import dev.pipelab.link.Link;
import dev.pipelab.protocol.Control;
import dev.pipelab.protocol.RecordParts;
import dev.pipelab.schedule.Network;
import dev.pipelab.schedule.Schedule;
import dev.pipelab.schedule.Schedules;
import dev.pipelab.stage.TestCosts;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.SerializationExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Telemetry between nodes (two ActorSystems in one JVM, Artery TCP on 127.0.0.1, port 0): records larger than Artery's
 * 256 KiB frame reach the coordinator whole, as parts (docs/telemetry.md, Records across nodes), and a worker keeps
 * no actor of a run once the run ended or its coordinator left.
 */
class TelemetryAcrossNodesIT {

    private ActorTestKit a;
    private ActorTestKit b;
    /** Node B's host, as B itself refers to it. */
    private ActorRef<Host.Command> hostB;

    @AfterEach
    void stop() {
        if (b != null) b.shutdownTestKit();
        if (a != null) a.shutdownTestKit();
    }

    /** Node A (the coordinator's) and node B up in one cluster, a host on each; the hosts, node A's first. */
    private List<ActorRef<Host.Command>> twoNodes() {
        TwoNodes nodes = TwoNodes.start();
        a = nodes.a();
        b = nodes.b();
        hostB = nodes.hostB();
        return nodes.hosts();
    }

    private static int bytes(ActorTestKit kit, Object message) {
        return SerializationExtension.get(Adapter.toClassic(kit.system())).serialize(message).get().length;
    }

    /**
     * 2,400 micro-batches per step at level spans: every stage record (about 650 KB) and link record (about 270 KB)
     * is larger than the frame, so whole they would be dropped and the run would hang; as parts every one arrives, and
     * the coordinator's events (from which report.json, trace.json and report.html are written) equal the one-node run's.
     */
    @Test
    void recordsLargerThanTheFrameArriveWholeAcrossNodes() {
        List<ActorRef<Host.Command>> hosts = twoNodes();
        Schedule s = Schedules.oneFOneB(2, 2400);
        int d = 2;
        RunSpec spec = new RunSpec(s, TestCosts.of(s, d, false, TestCosts.SLOW), Network.uniform(TestCosts.SLOW), 2, d, Long.MAX_VALUE);
        // replica 0's rank 0 and replica 1's rank 1 on node B: every pipeline link and ring link crosses nodes
        NodePlacement split = (replica, rank) -> (replica + rank + 1) % 2;
        EventLog across = new EventLog();
        RunOptions options = RunOptions.virtual(2, across).withTelemetry(TelemetryLevel.SPANS);
        RunResult two = Emulator.run(a.system(), hosts, split, spec, options).orThrow();
        EventLog embedded = new EventLog();
        RunResult one = Emulator.run(a.system(), spec, RunOptions.virtual(2, embedded).withTelemetry(TelemetryLevel.SPANS)).orThrow();
        assertThat(two).isEqualTo(one);
        assertThat(across.events()).isEqualTo(embedded.events());

        List<Event.StepEnded> ended = across.events().stream().filter(e -> e instanceof Event.StepEnded).map(e -> (Event.StepEnded) e).toList();
        assertThat(ended).hasSize(2).allSatisfy(e -> assertThat(e.telemetryLost()).isZero());
        Event.StepEnded last = ended.get(1);
        assertThat(last.stages()).hasSize(2 * d);
        int frame = 256 * 1024;
        for (StageRecord r : last.stages()) {
            assertThat(bytes(a, new Control.Flushed("x", List.of(r), List.of()))).isGreaterThan(frame);
            assertThat(r.actions()).hasSize(2 * 2400 + 1);
        }
        List<LinkRecord> pipelineLinks = last.links().stream().filter(l -> !l.ring()).toList();
        assertThat(pipelineLinks).hasSize(2 * d);
        for (LinkRecord r : pipelineLinks) {
            assertThat(bytes(a, new Link.Recorded(r))).isGreaterThan(frame);
            assertThat(r.transfers()).hasSize(2400);
            assertThat(RecordParts.split(r, RecordParts.spansPerPart(frame))).hasSizeGreaterThan(1);
        }
    }

    /** How many runs have actors on {@code host}, asked from {@code kit}. */
    private static Host.Runs runs(ActorTestKit kit, ActorRef<Host.Command> host) {
        TestProbe<Host.Runs> probe = kit.createTestProbe(Host.Runs.class);
        host.tell(new Host.CountRuns(probe.getRef()));
        return probe.receiveMessage(Duration.ofSeconds(10));
    }

    @Test
    void aRunThatEndedLeavesNoActorOnAWorker() {
        List<ActorRef<Host.Command>> hosts = twoNodes();
        Schedule s = Schedules.oneFOneB(2, 4);
        RunSpec spec = new RunSpec(s, TestCosts.of(s, 1, false, TestCosts.SLOW), Network.uniform(TestCosts.SLOW), 2, 1, Long.MAX_VALUE);
        Emulator.run(a.system(), hosts, (replica, rank) -> rank % 2, spec, RunOptions.virtual(2, new EventLog())).orThrow();
        b.createTestProbe().awaitAssert(Duration.ofSeconds(10), () -> {
            assertThat(runs(b, hostB)).isEqualTo(new Host.Runs(0, 0));
            return null;
        });
    }

    /**
     * A wall-clock run whose every actor is on node B: when node A (the coordinator, with the trainer) terminates mid-run,
     * B's host stops the run's actors (remote death watch on the trainer fires once A has left the cluster).
     */
    @Test
    void aWorkerStopsTheActorsOfARunWhoseCoordinatorIsGone() {
        List<ActorRef<Host.Command>> hosts = twoNodes();
        Schedule s = Schedules.oneFOneB(2, 8);
        RunSpec spec = new RunSpec(s, TestCosts.of(s, 1, false, TestCosts.SLOW), Network.uniform(TestCosts.SLOW), 2, 1, Long.MAX_VALUE);
        // about 4 emulated seconds per step at speed 1: 100 steps take minutes, so the run is mid-way when A goes
        RunOptions options = RunOptions.virtual(100, new EventLog()).withWallClock(1.0);
        CompletableFuture.runAsync(() -> Emulator.run(a.system(), hosts, (replica, rank) -> 1, spec, options));
        b.createTestProbe().awaitAssert(Duration.ofSeconds(20), () -> {
            Host.Runs r = runs(b, hostB);
            assertThat(r.runs()).isEqualTo(1);
            // two stages and two links
            assertThat(r.actors()).isEqualTo(4);
            return null;
        });
        a.shutdownTestKit();
        a = null;
        b.createTestProbe().awaitAssert(Duration.ofSeconds(30), () -> {
            assertThat(runs(b, hostB)).isEqualTo(new Host.Runs(0, 0));
            return null;
        });
    }
}
