package dev.pipelab.numerics;

import dev.pipelab.model.Recompute;
import dev.pipelab.schedule.Schedules;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Recovery's promise: a run restarted from a checkpoint (weights and optimizer state through {@link WeightsFile}) and
 * replayed from the committed step ends with the same bits as the run that never stopped.
 */
class CheckpointTest {

    @ParameterizedTest
    @EnumSource(BitExactnessTest.Kind.class)
    void resumingFromACheckpointIsBitIdentical(BitExactnessTest.Kind kind) throws Exception {
        RealModel model = BitExactnessTest.model(kind);
        DataSource data = BitExactnessTest.data(kind);
        OptimizerSpec opt = BitExactnessTest.optimizer(kind);
        PipelineTrainer straight = new PipelineTrainer(model, data, Schedules.oneFOneB(2, 4), Recompute.NONE, 2, opt,
                PipelineTrainer.Reduction.RING);
        TrainingResult want = straight.train(5);

        PipelineTrainer first = new PipelineTrainer(model, data, Schedules.oneFOneB(2, 4), Recompute.NONE, 2, opt,
                PipelineTrainer.Reduction.RING);
        first.train(3);
        byte[] file = WeightsFile.encode(first.checkpoint());

        PipelineTrainer resumed = new PipelineTrainer(model, data, Schedules.oneFOneB(2, 4), Recompute.NONE, 2, opt,
                PipelineTrainer.Reduction.RING);
        resumed.restore(WeightsFile.decode(file, "checkpoint"), opt);
        TrainingResult got = resumed.train(3, 2);

        assertThat(got.losses()).containsExactlyElementsOf(want.losses().subList(3, 5));
        BitExactnessTest.assertBitIdentical(new TrainingResult(want.losses().subList(3, 5), got.weights()),
                new TrainingResult(want.losses().subList(3, 5), want.weights()));
        // without the optimizer state the resumed run would differ (momentum / Adam moments matter)
        PipelineTrainer weightsOnly = new PipelineTrainer(model, data, Schedules.oneFOneB(2, 4), Recompute.NONE, 2, opt,
                PipelineTrainer.Reduction.RING);
        WeightsFile.copyInto(weightsOnly.params(), WeightsFile.decode(file, "checkpoint"));
        List<Double> lossesWithoutState = weightsOnly.train(3, 2).losses();
        assertThat(lossesWithoutState.get(1)).isNotEqualTo(want.losses().get(4));
    }
}
