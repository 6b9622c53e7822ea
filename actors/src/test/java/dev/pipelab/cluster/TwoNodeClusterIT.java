package dev.pipelab.cluster;

import dev.pipelab.clock.ClockMode;
import dev.pipelab.monitoring.EventLog;
import dev.pipelab.monitoring.Event;
import dev.pipelab.pipeline.Emulator;
import dev.pipelab.pipeline.RunOptions;
import dev.pipelab.pipeline.RunResult;
import dev.pipelab.pipeline.RunSpec;
import dev.pipelab.schedule.Evaluator;
import dev.pipelab.schedule.Network;
import dev.pipelab.schedule.Schedule;
import dev.pipelab.schedule.Schedules;
import dev.pipelab.schedule.StageCost;
import dev.pipelab.schedule.Timeline;
import dev.pipelab.stage.TestCosts;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import dev.pipelab.model.Recompute;
import dev.pipelab.numerics.Activation;
import dev.pipelab.numerics.Loss;
import dev.pipelab.numerics.OptimizerSpec;
import dev.pipelab.numerics.RealModel;
import dev.pipelab.numerics.SequentialTrainer;
import dev.pipelab.numerics.TensorCodec;
import dev.pipelab.numerics.TrainingResult;
import dev.pipelab.numerics.WeightsFile;
import dev.pipelab.stage.OomPolicy;
import dev.pipelab.stage.RealSetup;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two nodes (two ActorSystems in one JVM on 127.0.0.1, port 0, one cluster): a pipeline whose ranks and replicas
 * are split over both nodes gives exactly the one-node run's numbers and events.
 */
class TwoNodeClusterIT {

    private ActorTestKit a;
    private ActorTestKit b;

    @AfterEach
    void stop() {
        if (b != null) b.shutdownTestKit();
        if (a != null) a.shutdownTestKit();
    }


    /** Two nodes up in one cluster, a host on each; the hosts, node A's first. */
    private List<ActorRef<Host.Command>> twoNodes() {
        TwoNodes nodes = TwoNodes.start();
        a = nodes.a();
        b = nodes.b();
        return nodes.hosts();
    }

    @Test
    void aPipelineSplitOverTwoNodesGivesTheOneNodeNumbers() {
        List<ActorRef<Host.Command>> hosts = twoNodes();
        Schedule s = Schedules.oneFOneB(4, 8).withRecompute();
        int d = 2;
        List<StageCost> costs = TestCosts.of(s, d, true, TestCosts.SLOW);
        RunSpec spec = new RunSpec(s, costs, Network.uniform(TestCosts.SLOW), 2, d, Long.MAX_VALUE);
        // even ranks of replica 0 on node A, odd on node B; replica 1 the other way round: every link and ring crosses
        NodePlacement split = (replica, rank) -> (replica + rank) % 2;
        EventLog coordinator = new EventLog();
        RunResult two = Emulator.run(a.system(), hosts, split, spec, RunOptions.virtual(2, coordinator)).orThrow();

        EventLog oneLog = new EventLog();
        RunResult one = Emulator.run(a.system(), spec, RunOptions.virtual(2, oneLog)).orThrow();
        assertThat(two).isEqualTo(one);
        Timeline t = Evaluator.evaluate(s, costs, spec.network(), 2);
        assertThat(two.stepSeconds(1)).isEqualTo(t.stepTimeSeconds());
        assertThat(two.actionStart(1, 1, 3, 5)).isEqualTo(t.start(3, 5));

        // the coordinator alone emits; the records of the stages and links on both nodes reached it, and the stream is
        // the one-node run's
        assertThat(coordinator.events()).isEqualTo(oneLog.events());
        List<Event.StepEnded> ended = coordinator.events().stream().filter(e -> e instanceof Event.StepEnded)
                .map(e -> (Event.StepEnded) e).toList();
        assertThat(ended).hasSize(2);
        assertThat(ended.get(1).stages()).hasSize(4 * d);
        assertThat(ended.get(1).links()).isNotEmpty();
    }

    /** Real numerics split over two nodes: tensors and gradient chunks cross nodes; losses and weights equal the one-node run's bits. */
    @Test
    void realNumericsSplitOverTwoNodesGivesTheOneNodeBits() {
        List<ActorRef<Host.Command>> hosts = twoNodes();
        Schedule s = Schedules.zbH2(4, 8).withRecompute();
        int d = 2;
        RealSetup real = RealSetup.adam(RealModel.transformer(8, 4, 8, 8, 2, Activation.GELU, true, 42), 2, 9,
                OptimizerSpec.Adam.of(0.01), Recompute.FULL, true);
        RunSpec spec = new RunSpec(s, TestCosts.of(s, d, true, TestCosts.SLOW), Network.uniform(TestCosts.SLOW), 2, d,
                Long.MAX_VALUE).withReal(real);
        NodePlacement split = (replica, rank) -> (replica + rank) % 2;
        RunResult two = Emulator.run(a.system(), hosts, split, spec, RunOptions.virtual(3, new EventLog())).orThrow();
        RunResult one = Emulator.run(a.system(), spec, RunOptions.virtual(3, new EventLog())).orThrow();
        assertThat(two.losses()).hasSize(3);
        for (int i = 0; i < 3; i++) {
            assertThat(Double.doubleToRawLongBits(two.losses().get(i))).isEqualTo(Double.doubleToRawLongBits(one.losses().get(i)));
        }
        assertThat(WeightsFile.encode(two.weights())).isEqualTo(WeightsFile.encode(one.weights()));
        assertThat(two.weights()).isNotEmpty();

        // activations of 128 × 320 doubles (327,688 bytes) and weights files of about 0.8 MB exceed the ordinary
        // 256 KiB frame: they cross on the large-message lane, or Artery would drop them and the run would deadlock
        Schedule big = Schedules.oneFOneB(2, 4);
        RealSetup large = RealSetup.sgd(RealModel.mlp(8, 320, 4, 4, Activation.TANH, false, Loss.CROSS_ENTROPY, 3),
                128, 5, 0.01, 0.9, Recompute.NONE, true);
        assertThat(TensorCodec.fitsFrame(TensorCodec.encodedBytes(128, 320))).isFalse();
        RunSpec bigSpec = new RunSpec(big, TestCosts.of(big, d, false, TestCosts.SLOW), Network.uniform(TestCosts.SLOW), 2, d,
                Long.MAX_VALUE).withReal(large);
        // a dropped message would leave the run waiting forever: a generous safety net instead of ten minutes
        RunOptions options = new RunOptions(ClockMode.VIRTUAL, 1.0, 2, new EventLog(),
                OomPolicy.FAIL, Duration.ofSeconds(120));
        RunResult bigTwo = Emulator.run(a.system(), hosts, split, bigSpec, options).orThrow();
        TrainingResult reference = new SequentialTrainer(large.model(), large.data(), 4, d,
                large.optimizerSpec()).train(2);
        for (int i = 0; i < 2; i++) {
            assertThat(Double.doubleToRawLongBits(bigTwo.losses().get(i))).isEqualTo(Double.doubleToRawLongBits(reference.losses().get(i)));
        }
        assertThat(WeightsFile.encode(bigTwo.weights())).isEqualTo(WeightsFile.encode(reference.weights()));
    }
}
