package dev.pipelab.cluster;

import dev.pipelab.clock.ClockMode;
import dev.pipelab.fault.FaultKind;
import dev.pipelab.fault.FaultWindow;
import dev.pipelab.link.Link;
import dev.pipelab.link.LinkSetup;
import dev.pipelab.model.LinkSpec;
import dev.pipelab.model.Recompute;
import dev.pipelab.monitoring.LinkRecord;
import dev.pipelab.monitoring.Phase;
import dev.pipelab.monitoring.StageRecord;
import dev.pipelab.monitoring.TelemetryLevel;
import dev.pipelab.monitoring.TransferKind;
import dev.pipelab.monitoring.TransferOutcome;
import dev.pipelab.numerics.Activation;
import dev.pipelab.numerics.Loss;
import dev.pipelab.numerics.RealModel;
import dev.pipelab.pipeline.Pipeline;
import dev.pipelab.pipeline.TestSystems;
import dev.pipelab.pipeline.Trainer;
import dev.pipelab.protocol.CborSerializable;
import dev.pipelab.protocol.Control;
import dev.pipelab.protocol.Payload;
import dev.pipelab.schedule.RingAllReduce;
import dev.pipelab.schedule.Schedule;
import dev.pipelab.schedule.Schedules;
import dev.pipelab.schedule.StageCost;
import dev.pipelab.stage.OomPolicy;
import dev.pipelab.stage.RealSetup;
import dev.pipelab.stage.Stage;
import dev.pipelab.stage.StageFaults;
import dev.pipelab.stage.StageProgram;
import dev.pipelab.stage.StageReport;
import dev.pipelab.stage.StageSetup;
import org.apache.pekko.actor.testkit.typed.javadsl.SerializationTestKit;
import dev.pipelab.plan.Plan;
import dev.pipelab.plan.Planner;
import dev.pipelab.scenario.ScenarioLoader;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.lang.reflect.Constructor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/** One instance of every message type round-trips through the configured serializer (jackson-cbor). */
class SerializationTest {

    @RegisterExtension
    static final TestSystems.OneNode node = new TestSystems.OneNode();

    private static Object hidden(String className, Object... args) throws Exception {
        Constructor<?> c = Arrays.stream(Class.forName(className).getDeclaredConstructors()).findFirst().orElseThrow();
        c.setAccessible(true);
        return c.newInstance(args);
    }

    @Test
    void everyMessageTypeRoundTrips() throws Exception {
        ActorRef<Stage.Command> stage = node.kit().createTestProbe(Stage.Command.class).getRef();
        ActorRef<Link.Command> link = node.kit().createTestProbe(Link.Command.class).getRef();
        ActorRef<Control.Report> reports = node.kit().createTestProbe(Control.Report.class).getRef();
        ActorRef<Control.Flushed> flushed = node.kit().createTestProbe(Control.Flushed.class).getRef();
        ActorRef<Stage.Reply> stageReplies = node.kit().createTestProbe(Stage.Reply.class).getRef();
        ActorRef<Stage.Blocked> blocked = node.kit().createTestProbe(Stage.Blocked.class).getRef();
        ActorRef<Stage.WeightsReported> weights = node.kit().createTestProbe(Stage.WeightsReported.class).getRef();
        ActorRef<Link.Recorded> recorder = node.kit().createTestProbe(Link.Recorded.class).getRef();
        ActorRef<Host.StageSpawned> stageSpawned = node.kit().createTestProbe(Host.StageSpawned.class).getRef();
        ActorRef<Host.LinkSpawned> linkSpawned = node.kit().createTestProbe(Host.LinkSpawned.class).getRef();
        ActorRef<Link.Broken> broken = node.kit().createTestProbe(Link.Broken.class).getRef();
        ActorRef<Stage.CheckpointTaken> checkpoints = node.kit().createTestProbe(Stage.CheckpointTaken.class).getRef();

        Schedule schedule = Schedules.zbH1(2, 3).withRecompute();
        LinkSpec slow = new LinkSpec("slow", 1.5e9, 0.002);
        List<StageCost> costs = List.of(
                new StageCost(0.1, 0.2, 0.3, 0.05, 10, 20, 30, 40, 50, RingAllReduce.ring(1000, 3, slow), 0.01),
                new StageCost(0.1, 0.2, 0.3, 0.05, 10, 20, 30, 40, 50, RingAllReduce.fixed(0.25), 0.01));
        StageSetup setup = new StageSetup(1, 3, StageProgram.of(schedule, costs, 1).data(), 2, 80_000_000_000L, OomPolicy.WARN,
                ClockMode.WALL, 10.0);
        LinkSetup linkSetup = LinkSetup.pipeline(0, 0, 1, slow, ClockMode.VIRTUAL, 1.0, 6, TelemetryLevel.STEPS);
        StageReport report = new StageReport(2, 1, 0, new double[] {0, 1.5}, new double[] {1.5, 3}, 3.25, 123L, 2, 3.0, 3.25,
                new double[] {3.0}, new double[] {3.0}, new double[] {0, 0.5}, List.of(12L, 13L));
        Control.Report probeReport = new Control.Report(3, "stage-0-1", 1, 10, 9, true, 0, false,
                List.of("rank 1 action #0 1F0: waits for the activation of 0F0"));
        StageRecord stageRecord = new StageRecord(4, 1, 0, Map.of(Phase.F, 1.5, Phase.OPT, 0.25), 1.75, 200L, 300L, 2,
                new TreeMap<>(Map.of(1, 0.5)), List.of(new StageRecord.AllReduce(2, 1000L, 3.0, 3.25)),
                List.of(new StageRecord.OutOfMemory(0, 1.0, 300L, 250L)),
                List.of(new StageRecord.Action(Phase.F, 0, 1, 0.0, 1.5, 1.5), new StageRecord.Action(Phase.OPT, -1, -1, 3.25, 3.5, 0.25)),
                List.of(new StageRecord.MemoryChange(0.0, 300L)), List.of(new StageRecord.CreditStall(1, 1.0, 1.5)));
        LinkRecord linkRecord = new LinkRecord(4, 1, 2, 0, 0, true, 1000L, 0.75, 3, 1,
                List.of(new LinkRecord.Transfer(TransferKind.ALLREDUCE, 2, -1, 1000L, 3.0, 3.1, 3.85)));
        // under faults: a dropped transmission, its retransmission and a duplicate copy (the outcome is on the wire)
        LinkRecord faultyRecord = new LinkRecord(4, 0, 0, 0, 1, false, 3000L, 2.25, 1, 1, 1, 1, List.of(
                new LinkRecord.Transfer(TransferKind.ACTIVATION, 0, 2, 1000L, 0.5, 0.5, 1.25, TransferOutcome.DROPPED),
                new LinkRecord.Transfer(TransferKind.ACTIVATION, 0, 2, 1000L, 0.7, 1.25, 2.0),
                new LinkRecord.Transfer(TransferKind.ACTIVATION, 0, 2, 1000L, 1.25, 2.0, 2.75, TransferOutcome.DUPLICATE)));
        ActorRef<Link.Broken> brokenTo = node.kit().createTestProbe(Link.Broken.class).getRef();

        List<Object> messages = new ArrayList<>(List.of(
                new Stage.Connect(Map.of(1, link), Map.of(0, stage, 1, stage), List.of(link), stageReplies, blocked),
                new Stage.RunStep(4, 123_456_789L, List.of(0L, 1L, 2L)),
                new Stage.Deliver(4, 7, 1.25),
                new Stage.CreditGranted(4, 1, 3, 2.5),
                new Stage.RingChunk(4, 2, 5, 9.75),
                new Stage.Deliver(4, 7, 1.25, new Payload(new byte[] {1, 2, 3, -1})),
                new Stage.RingChunk(4, 2, 5, 9.75, new Payload(new byte[] {9, 8, 7})),
                new Stage.ReportWeights(weights),
                new Stage.WeightsReported(0, 1, List.of(new Payload(new byte[] {5, 6}), Payload.EMPTY)),
                new Stage.Connected(1, 0),
                new Stage.Done(report, Optional.of(stageRecord), List.of(0.5, 0.25)),
                new Stage.Done(report, Optional.empty(), List.of()),
                new Stage.Done(report, Optional.of(stageRecord), List.of(), 3),
                new Stage.RecordPart(stageRecord),
                new Stage.Failed(0, 1, "out of memory", Optional.of(stageRecord), 2),
                new Stage.Failed(0, 1, "out of memory", Optional.of(stageRecord)),
                new Stage.Blocked(4),
                new Trainer.WeightsReported(0, 1, List.of(new Payload(new byte[] {5, 6}), Payload.EMPTY)),
                new Trainer.ReplicaDone(4, 0, List.of(report), List.of(stageRecord), List.of(0.5, 0.25)),
                new Link.Transfer(4, 99L, 3, 6, 1, 2, TransferKind.ACTIVATION, 123_456_789L, 0.5, new Payload(new byte[] {4, 4})),
                new Link.RingTransfer(4, 99L, 1, 2, 1000L, slow, 0.5, new Payload(new byte[] {3})),
                new Link.Recorded(linkRecord),
                new Link.Recorded(linkRecord, 1, 3),
                new Link.Recorded(faultyRecord),
                new Link.Faults(4, List.of(new FaultWindow(0, FaultKind.LINK_LOSS, -1.5, Double.POSITIVE_INFINITY, 0.25, 7L),
                        new FaultWindow(2, FaultKind.LINK_PARTITION, 0.5, 2.0, 0, 7L)), 0.2, 1800.0, brokenTo),
                new Link.Broken(4, "link-0-0to1", 2, 1800.5, "link-0-0to1: message 3 did not get through"),
                new Trainer.ReplicaDone(4, 0, List.of(report), List.of(stageRecord), List.of(), 2),
                hidden("dev.pipelab.pipeline.Trainer$TelemetryOverdue", 4),
                new Control.Flushed("stage-0-1", List.of(stageRecord), List.of(), 1, 2),
                new Host.SpawnStage(new StageSetup(1, 3, StageProgram.of(schedule, costs, 1).data(), 2, 80_000_000_000L,
                        OomPolicy.WARN, ClockMode.VIRTUAL, 1.0, Optional.of(RealSetup.sgd(
                                RealModel.mlp(6, 8, 4, 4, Activation.GELU, true, Loss.CROSS_ENTROPY, 42), 2, 9, 0.1, 0.9,
                                Recompute.FULL, true)), TelemetryLevel.SPANS),
                        stage, stageSpawned),
                new Stage.Probe(2, reports),
                new Stage.Flush(flushed),
                Stage.Stop.INSTANCE,
                hidden("dev.pipelab.stage.Stage$Tick", 4),
                new Link.Transfer(4, 99L, 3, 6, 1, 2, TransferKind.GRADIENT, 123_456_789L, 0.5),
                new Link.RingTransfer(4, 99L, 1, 2, 1000L, slow, 0.5),
                new Link.RingTransfer(4, 99L, 1, 0, 0L, RingAllReduce.fixed(0.25).link(), 0.5),
                new Link.Probe(2, reports),
                new Link.Flush(flushed),
                Link.Stop.INSTANCE,
                hidden("dev.pipelab.link.Link$Due", 17L),
                new Pipeline.Wire(Map.of(0, stage, 1, stage)),
                new Pipeline.RunStep(4, 99L),
                hidden("dev.pipelab.pipeline.Pipeline$StageReplied", new Stage.Connected(1, 0)),
                hidden("dev.pipelab.pipeline.Pipeline$StageSpawnedReply", new Host.StageSpawned(0, 1, stage)),
                hidden("dev.pipelab.pipeline.Pipeline$LinkSpawnedReply", new Host.LinkSpawned(linkSetup, link)),
                new Trainer.StagesReady(0, Map.of(0, stage)),
                new Trainer.ReplicaReady(0, List.of(stage), List.of(link)),
                new Trainer.ReplicaDone(4, 0, List.of(report), List.of(), List.of()),
                new Trainer.Failed("boom"),
                new Trainer.Failed("out of memory", List.of(stageRecord)),
                new Trainer.StageBlocked(4),
                hidden("dev.pipelab.pipeline.Trainer$LinkRecorded", linkRecord, 0, 1),
                hidden("dev.pipelab.pipeline.Trainer$FlushedReply", new Control.Flushed("link-0-0to1", List.of(), List.of(linkRecord))),
                new Control.Flushed("stage-0-1", List.of(stageRecord), List.of()),
                hidden("dev.pipelab.pipeline.Trainer$ProbeReply", probeReport),
                hidden("dev.pipelab.pipeline.Trainer$ProbeNow", 3),
                new Host.SpawnStage(setup, stage, stageSpawned),
                new Host.SpawnLink(LinkSetup.ring(0, 1, 1, ClockMode.VIRTUAL, 1.0, 2, TelemetryLevel.OFF), stage, recorder,
                        stage, linkSpawned),
                Host.Stop.INSTANCE,
                new Host.CountRuns(node.kit().createTestProbe(Host.Runs.class).getRef()),
                new Host.RunEnded(stage),
                new Host.Runs(2, 17),
                new Host.StageSpawned(0, 1, stage),
                new Host.LinkSpawned(linkSetup, link),
                new Host.LinkSpawned(LinkSetup.pipeline(0, 0, 1, LinkSpec.FREE, ClockMode.VIRTUAL, 1.0, 4, TelemetryLevel.SPANS), link),
                probeReport,
                // faults and recovery
                new Stage.Connect(Map.of(1, link), Map.of(0, stage), List.of(), stageReplies, blocked, broken),
                new Stage.RunStep(5, 3, 123L, List.of(0L, 1L), new StageFaults(
                        List.of(new FaultWindow(0, FaultKind.STAGE_CRASH, 0.5, Double.POSITIVE_INFINITY, 0, 0)),
                        Map.of(1, List.of(new FaultWindow(1, FaultKind.LINK_LOSS, -1.0, 2.5, 0.05, 7))),
                        List.of(new FaultWindow(2, FaultKind.LINK_DUPLICATE, 0, 1, 0.5, 1)), 0.2, 1800),
                        Optional.of(new Stage.Restore(3, List.of(new Payload(new byte[] {1}))))),
                new Stage.TakeCheckpoint(checkpoints),
                new Stage.CheckpointTaken(0, 1, 3, List.of(new Payload(new byte[] {2, 3}))),
                new Stage.Crashed(0, 1, 5, 0.5, 0, "injected stage.crash"),
                new Stage.Done(report, Optional.empty(), List.of(), 1, 3, 2),
                new Link.Faults(5, List.of(new FaultWindow(1, FaultKind.LINK_PARTITION, 0.25, 3.0, 0, 0)), 0.2, 1800, broken),
                new Link.Broken(5, "link-0-0to1", 1, 1800.25, "no transmission got through"),
                new Pipeline.RunStep(5, 3, 99L, Map.of(1, StageFaults.NONE), Map.of(0, new Stage.Restore(3, List.of()))),
                hidden("dev.pipelab.pipeline.Pipeline$LinkBroken", new Link.Broken(5, "link-0-0to1", 1, 2.0, "gave up")),
                new Trainer.StepFailed(5, 0, 1, 0.5, 0, "injected stage.crash", List.of(stageRecord)),
                hidden("dev.pipelab.pipeline.Trainer$CheckpointReply", new Stage.CheckpointTaken(0, 1, 3, List.of())),
                new Trainer.ReplicaDone(4, 0, List.of(report), List.of(), List.of(), 0, List.of(5), 1),
                new Trainer.ActorLost(1, stage),
                Host.Kill.INSTANCE,
                new Host.Pause(2.5)));

        SerializationTestKit serialization = node.kit().serializationTestKit();
        Set<String> types = new TreeSet<>();
        for (Object m : messages) {
            assertThat(m).isInstanceOf(CborSerializable.class);
            assertThat(serialization.verifySerialization(m, true)).as(m.getClass().getName()).isEqualTo(m);
            types.add(m.getClass().getName());
        }
        // every permitted command type of every protocol is covered
        for (Class<?> protocol : List.of(Stage.Command.class, Stage.Reply.class, Link.Command.class, Pipeline.Command.class,
                Trainer.Command.class, Host.Command.class)) {
            for (Class<?> sub : protocol.getPermittedSubclasses()) assertThat(types).as(protocol.getName()).contains(sub.getName());
        }
    }

    /**
     * A fault-free link record crosses nodes as it did before faults existed: the fault counts and the transfer outcome
     * are left out when they say nothing happened (0, delivered), and a record with them reads back equal.
     */
    @Test
    void aFaultFreeLinkRecordCarriesNoFaultFields() {
        Serialization serialization = SerializationExtension.get(Adapter.toClassic(node.system()));
        LinkRecord plain = new LinkRecord(4, 0, 0, 0, 1, false, 1000L, 0.75, 1, 0,
                List.of(new LinkRecord.Transfer(TransferKind.ACTIVATION, 0, 2, 1000L, 0.5, 0.5, 1.25)));
        String wire = new String(serialization.serialize(new Link.Recorded(plain)).get(), StandardCharsets.ISO_8859_1);
        assertThat(wire).contains("transfers").doesNotContain("dropped").doesNotContain("duplicates").doesNotContain("outcome");
        LinkRecord faulty = new LinkRecord(4, 0, 0, 0, 1, false, 2000L, 1.5, 1, 0, 1, 0,
                List.of(new LinkRecord.Transfer(TransferKind.ACTIVATION, 0, 2, 1000L, 0.5, 0.5, 1.25, TransferOutcome.DROPPED),
                        new LinkRecord.Transfer(TransferKind.ACTIVATION, 0, 2, 1000L, 0.7, 1.25, 2.0)));
        wire = new String(serialization.serialize(new Link.Recorded(faulty)).get(), StandardCharsets.ISO_8859_1);
        assertThat(wire).contains("dropped").contains("outcome").contains("DROPPED").doesNotContain("DELIVERED");
        assertThat(node.kit().serializationTestKit().verifySerialization(new Link.Recorded(faulty), true))
                .isEqualTo(new Link.Recorded(faulty));
    }

    @Test
    void eachStagesSetupOfADeepPipelineFitsOneArteryFrame() {
        Plan plan = Planner.plan(ScenarioLoader.load(Path.of("..", "scenarios", "article-80-stages.yaml")));
        Serialization serialization =
                SerializationExtension.get(Adapter.toClassic(node.system()));
        ActorRef<Host.StageSpawned> replyTo = node.kit().createTestProbe(Host.StageSpawned.class).getRef();
        List<StageProgram> programs = StageProgram.all(plan.schedule(), plan.stageCosts());
        int largest = 0;
        for (StageProgram program : programs) {
            StageSetup setup = new StageSetup(0, plan.data(), program.data(), plan.linkBuffer(), plan.device().memoryBytes(),
                    OomPolicy.FAIL, ClockMode.VIRTUAL, 1.0);
            largest = Math.max(largest, serialization.serialize(new Host.SpawnStage(setup, replyTo, replyTo)).get().length);
        }
        assertThat(programs).hasSize(80);
        assertThat(largest).isLessThan(256 * 1024 / 4);
    }
}
