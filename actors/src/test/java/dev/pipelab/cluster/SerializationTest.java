package dev.pipelab.cluster;

import dev.pipelab.clock.ClockMode;
import dev.pipelab.link.Link;
import dev.pipelab.link.LinkSetup;
import dev.pipelab.model.LinkSpec;
import dev.pipelab.pipeline.Pipeline;
import dev.pipelab.pipeline.Quiescence;
import dev.pipelab.pipeline.TestSystems;
import dev.pipelab.pipeline.Trainer;
import dev.pipelab.schedule.RingAllReduce;
import dev.pipelab.schedule.Schedule;
import dev.pipelab.schedule.Schedules;
import dev.pipelab.schedule.StageCost;
import dev.pipelab.stage.OomPolicy;
import dev.pipelab.stage.Stage;
import dev.pipelab.stage.StageProgram;
import dev.pipelab.stage.StageReport;
import dev.pipelab.stage.StageSetup;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.SerializationTestKit;
import dev.pipelab.plan.Plan;
import dev.pipelab.plan.Planner;
import dev.pipelab.scenario.ScenarioLoader;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.SerializationExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Constructor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/** One instance of every message type round-trips through the configured serializer (jackson-cbor). */
class SerializationTest {

    private static ActorTestKit kit;

    @BeforeAll
    static void start() {
        kit = TestSystems.oneNode();
    }

    @AfterAll
    static void stop() {
        kit.shutdownTestKit();
    }

    private static Object hidden(String className, Object... args) throws Exception {
        Constructor<?> c = Arrays.stream(Class.forName(className).getDeclaredConstructors()).findFirst().orElseThrow();
        c.setAccessible(true);
        return c.newInstance(args);
    }

    @Test
    void everyMessageTypeRoundTrips() throws Exception {
        ActorRef<Stage.Command> stage = kit.createTestProbe(Stage.Command.class).getRef();
        ActorRef<Link.Command> link = kit.createTestProbe(Link.Command.class).getRef();
        ActorRef<Pipeline.Command> pipeline = kit.createTestProbe(Pipeline.Command.class).getRef();
        ActorRef<Trainer.Command> trainer = kit.createTestProbe(Trainer.Command.class).getRef();
        ActorRef<Quiescence.Report> reports = kit.createTestProbe(Quiescence.Report.class).getRef();
        ActorRef<Host.StageSpawned> stageSpawned = kit.createTestProbe(Host.StageSpawned.class).getRef();
        ActorRef<Host.LinkSpawned> linkSpawned = kit.createTestProbe(Host.LinkSpawned.class).getRef();

        Schedule schedule = Schedules.zbH1(2, 3).withRecompute();
        LinkSpec slow = new LinkSpec("slow", 1.5e9, 0.002);
        List<StageCost> costs = List.of(
                new StageCost(0.1, 0.2, 0.3, 0.05, 10, 20, 30, 40, 50, RingAllReduce.ring(1000, 3, slow), 0.01),
                new StageCost(0.1, 0.2, 0.3, 0.05, 10, 20, 30, 40, 50, RingAllReduce.fixed(0.25), 0.01));
        StageSetup setup = new StageSetup(1, 3, StageProgram.of(schedule, costs, 1).data(), 2, 80_000_000_000L, OomPolicy.WARN,
                ClockMode.WALL, 10.0);
        LinkSetup linkSetup = LinkSetup.reportedBySender(0, 0, 1, slow, ClockMode.VIRTUAL, 1.0, 6);
        StageReport report = new StageReport(2, 1, 0, new double[] {0, 1.5}, new double[] {1.5, 3}, 3.25, 123L, 2, 3.0, 3.25,
                new double[] {3.0}, new double[] {3.0}, new double[] {0, 0.5}, List.of(12L, 13L));
        Quiescence.Report probeReport = new Quiescence.Report(3, "stage-0-1", 1, 10, 9, true, 0, false,
                List.of("rank 1 action #0 1F0: waits for the activation of 0F0"));

        List<Object> messages = new ArrayList<>(List.of(
                new Stage.Connect(Map.of(1, link), Map.of(0, stage, 1, stage), List.of(link), pipeline, trainer),
                new Stage.RunStep(4, 123_456_789L, List.of(0L, 1L, 2L)),
                new Stage.Deliver(4, 7, 1.25),
                new Stage.CreditGranted(4, 1, 3, 2.5),
                new Stage.RingChunk(4, 2, 5, 9.75),
                new Stage.Deliver(4, 7, 1.25, new byte[] {1, 2, 3, -1}),
                new Stage.RingChunk(4, 2, 5, 9.75, new byte[] {9, 8, 7}),
                new Stage.ReportWeights(trainer),
                new Trainer.WeightsReported(0, 1, List.of(new byte[] {5, 6}, new byte[0])),
                new Pipeline.StageDone(report, List.of(0.5, 0.25)),
                new Trainer.ReplicaDone(4, 0, List.of(report), List.of(0.5, 0.25)),
                new Link.Transfer(4, 99L, 3, 6, 1, 2, "activation", 123_456_789L, 0.5, new byte[] {4, 4}),
                new Link.RingTransfer(4, 99L, 1, 2, 1000L, slow, 0.5, new byte[] {3}),
                new Host.SpawnStage(new StageSetup(1, 3, StageProgram.of(schedule, costs, 1).data(), 2, 80_000_000_000L,
                        OomPolicy.WARN, ClockMode.VIRTUAL, 1.0, java.util.Optional.of(dev.pipelab.stage.RealSetup.sgd(
                                dev.pipelab.numerics.RealModel.mlp(6, 8, 4, 4, dev.pipelab.numerics.Activation.GELU, true,
                                        dev.pipelab.numerics.Loss.CROSS_ENTROPY, 42), 2, 9, 0.1, 0.9,
                                dev.pipelab.model.Recompute.FULL, true)), List.of(new StageSetup.SentLink(0, slow)), true),
                        stageSpawned),
                new Stage.Probe(2, reports),
                new Stage.Flush(trainer),
                Stage.Stop.INSTANCE,
                hidden("dev.pipelab.stage.Stage$Tick", 4),
                new Link.Transfer(4, 99L, 3, 6, 1, 2, "activation", 123_456_789L, 0.5),
                new Link.RingTransfer(4, 99L, 1, 2, 1000L, slow, 0.5),
                new Link.RingTransfer(4, 99L, 1, 0, 0L, RingAllReduce.fixed(0.25).link(), 0.5),
                new Link.Probe(2, reports),
                new Link.Flush(trainer),
                Link.Stop.INSTANCE,
                hidden("dev.pipelab.link.Link$Due", 17L),
                new Pipeline.Wire(Map.of(0, stage, 1, stage)),
                new Pipeline.RunStep(4, 99L),
                new Pipeline.StageConnected(1, 0),
                new Pipeline.StageDone(report),
                new Pipeline.StageFailed(0, 1, "out of memory"),
                hidden("dev.pipelab.pipeline.Pipeline$StageSpawnedReply", new Host.StageSpawned(0, 1, stage)),
                hidden("dev.pipelab.pipeline.Pipeline$LinkSpawnedReply", new Host.LinkSpawned(linkSetup, link)),
                new Trainer.StagesReady(0, Map.of(0, stage)),
                new Trainer.ReplicaReady(0, List.of(stage), List.of(link)),
                new Trainer.ReplicaDone(4, 0, List.of(report)),
                new Trainer.Failed("boom"),
                new Trainer.StageBlocked(4),
                new Trainer.Flushed("stage-0-1"),
                hidden("dev.pipelab.pipeline.Trainer$ProbeReply", probeReport),
                hidden("dev.pipelab.pipeline.Trainer$ProbeNow", 3),
                new Host.SpawnStage(setup, stageSpawned),
                new Host.SpawnLink(LinkSetup.ring(0, 1, 1, ClockMode.VIRTUAL, 1.0, 2), stage, linkSpawned),
                Host.Stop.INSTANCE,
                new Host.StageSpawned(0, 1, stage),
                new Host.LinkSpawned(linkSetup, link),
                new Host.LinkSpawned(LinkSetup.pipeline(0, 0, 1, LinkSpec.FREE, ClockMode.VIRTUAL, 1.0, 4), link),
                probeReport));

        SerializationTestKit serialization = kit.serializationTestKit();
        Set<String> types = new TreeSet<>();
        for (Object m : messages) {
            assertThat(m).isInstanceOf(CborSerializable.class);
            assertThat(serialization.verifySerialization(m, true)).as(m.getClass().getName()).isEqualTo(m);
            types.add(m.getClass().getName());
        }
        // every permitted command type of every protocol is covered
        for (Class<?> protocol : List.of(Stage.Command.class, Link.Command.class, Pipeline.Command.class, Trainer.Command.class,
                Host.Command.class)) {
            for (Class<?> sub : protocol.getPermittedSubclasses()) assertThat(types).as(protocol.getName()).contains(sub.getName());
        }
    }

    @Test
    void eachStagesSetupOfADeepPipelineFitsOneArteryFrame() {
        Plan plan = Planner.plan(ScenarioLoader.load(Path.of("..", "scenarios", "article-80-stages.yaml")));
        org.apache.pekko.serialization.Serialization serialization =
                SerializationExtension.get(Adapter.toClassic(kit.system()));
        ActorRef<Host.StageSpawned> replyTo = kit.createTestProbe(Host.StageSpawned.class).getRef();
        List<StageProgram> programs = StageProgram.all(plan.schedule(), plan.stageCosts());
        int largest = 0;
        for (StageProgram program : programs) {
            StageSetup setup = new StageSetup(0, plan.data(), program.data(), plan.linkBuffer(), plan.device().memoryBytes(),
                    OomPolicy.FAIL, ClockMode.VIRTUAL, 1.0);
            largest = Math.max(largest, serialization.serialize(new Host.SpawnStage(setup, replyTo)).get().length);
        }
        assertThat(programs).hasSize(80);
        assertThat(largest).isLessThan(256 * 1024 / 4);
    }
}
