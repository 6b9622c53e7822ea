package dev.pipelab.numerics;

import dev.pipelab.model.Recompute;
import dev.pipelab.schedule.Schedules;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The toy models really learn their synthetic tasks within a few hundred steps: the mean loss of the last 10
 * steps is below half the first step's. (Timings are printed, not asserted: STYLE.md, timed tests flake.)
 */
class LearningTest {

    private static double tailMean(List<Double> losses) {
        double s = 0;
        for (int i = losses.size() - 10; i < losses.size(); i++) s += losses.get(i);
        return s / 10;
    }

    @Test
    void tinyTransformerLearnsArithmeticSequencesThroughAZeroBubblePipeline() {
        RealModel model = RealModel.transformer(10, 6, 16, 2, 2, Activation.GELU, true, 1);
        DataSource data = SequenceData.forModel(model, 8, 2);
        long start = System.nanoTime();
        PipelineTrainer trainer = new PipelineTrainer(model, data, Schedules.zbH1(2, 2).withRecompute(), Recompute.FULL, 1,
                OptimizerSpec.Adam.of(0.01), PipelineTrainer.Reduction.RING);
        List<Double> losses = trainer.train(150).losses();
        System.out.printf("transformer (zb-h1 p=2 m=2 b=8, full recompute): loss %.4f -> %.4f in 150 steps, %d ms%n",
                losses.get(0), tailMean(losses), (System.nanoTime() - start) / 1_000_000);
        assertThat(losses.get(0)).as("starts near ln 10").isBetween(Math.log(10) - 0.7, Math.log(10) + 0.7);
        assertThat(tailMean(losses)).isLessThan(0.5 * losses.get(0));
    }

    @Test
    void mlpLearnsTheTeachersClasses() {
        RealModel model = RealModel.mlp(8, 32, 3, 4, Activation.RELU, false, Loss.CROSS_ENTROPY, 3);
        DataSource data = TeacherData.forModel(model, 16, 4);
        long start = System.nanoTime();
        List<Double> losses = new SequentialTrainer(model, data, 2, 1, new OptimizerSpec.Sgd(0.1, 0.9)).train(300).losses();
        System.out.printf("mlp classification (m=2 b=16, sgd momentum): loss %.4f -> %.4f in 300 steps, %d ms%n",
                losses.get(0), tailMean(losses), (System.nanoTime() - start) / 1_000_000);
        assertThat(tailMean(losses)).isLessThan(0.5 * losses.get(0));
    }

    @Test
    void mlpLearnsTheTeachersRegression() {
        RealModel model = RealModel.mlp(8, 32, 3, 2, Activation.TANH, true, Loss.MSE, 5);
        DataSource data = TeacherData.forModel(model, 16, 6);
        long start = System.nanoTime();
        List<Double> losses = new SequentialTrainer(model, data, 2, 1, OptimizerSpec.Adam.of(0.01)).train(300).losses();
        System.out.printf("mlp regression (m=2 b=16, adam): loss %.4f -> %.4f in 300 steps, %d ms%n",
                losses.get(0), tailMean(losses), (System.nanoTime() - start) / 1_000_000);
        assertThat(tailMean(losses)).isLessThan(0.5 * losses.get(0));
    }
}
