package dev.pipelab.pipeline;

import com.typesafe.config.ConfigFactory;
import dev.pipelab.cluster.Host;
import dev.pipelab.cluster.NodePlacement;
import dev.pipelab.link.Link;
import dev.pipelab.link.LinkSetup;
import dev.pipelab.monitoring.Event;
import dev.pipelab.monitoring.EventLog;
import dev.pipelab.monitoring.LinkRecord;
import dev.pipelab.monitoring.StageRecord;
import dev.pipelab.monitoring.TelemetryLevel;
import dev.pipelab.schedule.Network;
import dev.pipelab.schedule.Schedule;
import dev.pipelab.schedule.Schedules;
import dev.pipelab.stage.Stage;
import dev.pipelab.stage.StageSetup;
import dev.pipelab.stage.TestCosts;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Lost telemetry is a counted error, never a silent gap (docs/telemetry.md, Records across nodes): a host whose actors
 * lose messages on their way to the coordinator, as Artery drops them on overflow, by design of this test: the first
 * part of rank 0's record each step, and every record of the link 0 -> 1.
 */
class TelemetryLostTest {

    private static ActorTestKit kit;

    @BeforeAll
    static void start() {
        // a second of grace instead of five: the lost link record is waited for once per step
        kit = ActorTestKit.create(Emulator.SYSTEM_NAME,
                Emulator.config(ConfigFactory.parseString("pipelab.telemetry-grace = 1s").withFallback(TestSystems.config())));
        Cluster cluster = Cluster.get(kit.system());
        cluster.manager().tell(Join.create(cluster.selfMember().address()));
    }

    @AfterAll
    static void stop() {
        kit.shutdownTestKit();
    }

    /** Drops the first {@link Stage.RecordPart} of each step on its way to {@code to}. */
    private static Behavior<Stage.Reply> dropFirstPart(ActorRef<Stage.Reply> to) {
        int[] lastDroppedStep = {-1};
        return Behaviors.receiveMessage(r -> {
            if (r instanceof Stage.RecordPart p && p.part().step() != lastDroppedStep[0]) {
                lastDroppedStep[0] = p.part().step();
            } else {
                to.tell(r);
            }
            return Behaviors.same();
        });
    }

    /** Rank 0's stage behind a filter on its replies; every other stage as it is. */
    private static Behavior<?> stage(StageSetup setup) {
        if (setup.rank() != 0) return Stage.create(setup);
        return Behaviors.<Stage.Command>setup(ctx -> {
            ActorRef<Stage.Command> inner = ctx.spawn(Stage.create(setup), "inner");
            return Behaviors.receiveMessage(m -> {
                if (m == Stage.Stop.INSTANCE) return Behaviors.stopped();
                if (m instanceof Stage.Connect c) {
                    ActorRef<Stage.Reply> filter = ctx.spawn(dropFirstPart(c.replyTo()), "filter");
                    inner.tell(new Stage.Connect(c.links(), c.peers(), c.ringLinks(), filter, c.blocked()));
                } else {
                    inner.tell(m);
                }
                return Behaviors.same();
            });
        });
    }

    private static final Host.Factories LOSSY = new Host.Factories() {
        @Override
        public Behavior<?> stage(StageSetup setup) {
            return TelemetryLostTest.stage(setup);
        }

        @Override
        public Behavior<?> link(LinkSetup setup, ActorRef<?> target, ActorRef<?> recorder) {
            ActorRef<Link.Recorded> records = recorder.unsafeUpcast();
            boolean lossy = !setup.ring() && setup.fromRank() == 0 && setup.toRank() == 1;
            return Behaviors.<Link.Command>setup(ctx -> {
                // the link's records go nowhere: a dead end stands for a message Artery dropped
                ActorRef<Link.Recorded> to = lossy ? ctx.spawn(Behaviors.<Link.Recorded>ignore(), "dead-end") : records;
                return Link.create(setup, target.<Stage.Command>unsafeUpcast(), Stage::delivered, to);
            });
        }
    };

    @Test
    void aLostPartAndALostRecordAreCountedAndTheStepsStillEnd() {
        Schedule s = Schedules.oneFOneB(2, 200);
        RunSpec spec = new RunSpec(s, TestCosts.of(s, 1, false, TestCosts.SLOW), Network.uniform(TestCosts.SLOW), 2, 1, Long.MAX_VALUE);
        ActorRef<Host.Command> host = kit.spawn(Host.createLocal(LOSSY));
        EventLog lossy = new EventLog();
        RunResult result = Emulator.run(kit.system(), List.of(host), NodePlacement.ONE_NODE, spec,
                RunOptions.virtual(2, lossy).withTelemetry(TelemetryLevel.SPANS));
        host.tell(Host.Stop.INSTANCE);
        EventLog whole = new EventLog();
        RunResult reference = Emulator.run(kit.system(), spec, RunOptions.virtual(2, whole).withTelemetry(TelemetryLevel.SPANS));

        // the run itself is untouched: telemetry is not what decides its numbers
        assertThat(result).isEqualTo(reference);
        List<Event.StepEnded> ended = ended(lossy);
        List<Event.StepEnded> expected = ended(whole);
        assertThat(ended).hasSize(2);
        for (int k = 0; k < 2; k++) {
            Event.StepEnded e = ended.get(k);
            Event.StepEnded x = expected.get(k);
            // rank 0's record lost a part, link 0 -> 1's record never came: two records, counted
            assertThat(e.telemetryLost()).isEqualTo(2);
            assertThat(x.telemetryLost()).isZero();
            StageRecord rank0 = e.stages().get(0);
            StageRecord full = x.stages().get(0);
            // a lost part costs spans, never numbers: the sums are exact
            assertThat(rank0.busySecondsByPhase()).isEqualTo(full.busySecondsByPhase());
            assertThat(rank0.peakMemoryBytes()).isEqualTo(full.peakMemoryBytes());
            assertThat(rank0.actions().size()).isLessThan(full.actions().size());
            assertThat(rank0.actions()).isEqualTo(full.actions().subList(full.actions().size() - rank0.actions().size(),
                    full.actions().size()));
            assertThat(e.stages().get(1)).isEqualTo(x.stages().get(1));
            assertThat(e.links()).hasSize(x.links().size() - 1);
            assertThat(e.links()).containsExactly(x.links().stream().filter(l -> l.fromRank() != 0).toArray(LinkRecord[]::new));
        }
    }

    private static List<Event.StepEnded> ended(EventLog log) {
        return log.events().stream().filter(e -> e instanceof Event.StepEnded).map(e -> (Event.StepEnded) e).toList();
    }
}
