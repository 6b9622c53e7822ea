package dev.pipelab.goodput;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pipelab.fault.FaultDraws;
import dev.pipelab.fault.RandomFaults;
import dev.pipelab.fault.RecoveryBook;
import dev.pipelab.fault.RecoverySpec;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * One interruption, worked by hand: 10 s steps, a 10 s checkpoint after every 5 steps, 10 steps to train. Steps 0..4
 * end at 50 s, the checkpoint at 60 s, steps 5 and 6 at 80 s; a GPU fails at 85 s in step 7's attempt. It is noticed
 * at 95 s, the spare node is free, the restart takes 30 s and reading the checkpoint back 10 s: training resumes at
 * step 5 at 135 s, having lost 5 s of step 7 and the 20 s of steps 5 and 6. Steps 5..9 end at 185 s and their
 * checkpoint at 195 s. Useful 100 s, lost 25 s, checkpoints 20 s, down 50 s: 195 s.
 */
class GoodputReportTest {

    static final RecoverySpec RECOVERY = new RecoverySpec(5, 2e9, 10, 30, 0.2, 1800, 3, false);
    static final RandomFaults RATES = new RandomFaults(3, 1.0, Optional.of(1.0), 1, List.of(
            new RandomFaults.Rate(RandomFaults.Kind.GPU, Double.NaN, 0.75, Double.NaN, 3600),
            new RandomFaults.Rate(RandomFaults.Kind.SOFTWARE, Double.NaN, 0.25, Double.NaN, 0)), Optional.empty());

    static GoodputReport byHand() {
        Goodput.Input in = new Goodput.Input(10, 20_000_000_000L, 1000, RECOVERY, RATES, 1, 2, 1, 1, 10, Double.POSITIVE_INFINITY);
        // the shared cost model, driven through the story above
        RecoveryBook book = new RecoveryBook(RECOVERY, 1);
        for (int s = 0; s < 5; s++) book.committed(s, 10);
        assertThat(book.checkpointed(4, 20_000_000_000L)).isEqualTo(10.0);
        book.committed(5, 10);
        book.committed(6, 10);
        book.failed(7);
        RecoveryBook.Rollback back = book.rollBack(85, 10, 3600, 80);
        assertThat(back).isEqualTo(new RecoveryBook.Rollback(5, 2, 25, 95, 95, 135));
        for (int s = 5; s < 10; s++) book.committed(s, 10);
        book.checkpointed(9, 20_000_000_000L);
        FaultDraws.Draw draw = new FaultDraws.Draw(0, 85, RandomFaults.Kind.GPU, 1, 0, 1);
        Goodput.Result result = new Goodput.Result(in, Goodput.Status.COMPLETED, "", book.totals(195), 11,
                List.of(new Goodput.Interruption(draw, 7, 85, back, 10, 3600)), Map.of(RandomFaults.Kind.GPU, 1), 3600);
        return new GoodputReport("by-hand", result, List.of(), OptionalLong.of(10_000));
    }

    @Test
    void whereTheTimeWent() {
        GoodputReport report = byHand();
        assertThat(report.downtime()).isEqualTo(new GoodputReport.Downtime(10, 0, 30, 10));
        assertThat(report.result().totals().goodput()).isEqualTo(100.0 / 195);
        assertThat(report.checkpointWriteSeconds()).isEqualTo(10.0);
        assertThat(report.checkpointFraction()).isEqualTo(20.0 / 195);
        assertThat(report.expected()).isCloseTo(195.0 / 3600, within(1e-15));
        assertThat(report.expected(RandomFaults.Kind.GPU)).isCloseTo(0.75 * 195 / 3600, within(1e-15));
        assertThat(report.tokensReached()).isTrue();
    }

    @Test
    void theTimelinesCorners() {
        List<double[]> corners = byHand().progress();
        assertThat(corners).containsExactly(new double[] {0, 0}, new double[] {85, 7}, new double[] {85, 5}, new double[] {135, 5},
                new double[] {195, 10});
    }

    @Test
    void theSummarySaysIt() {
        String text = GoodputText.render(byHand());
        assertThat(text).contains(
                "status          completed 10 training steps\n",
                "goodput         51.28%  (effective training time ratio: 1.7 min useful of 3.3 min elapsed)\n",
                "interruptions   1  (the rates predict 0.0542, Poisson 95% range 0..1); MTBF 1.00 h\n",
                "  gpu                 1  (predicted 0.0406, 95% 0..1)\n",
                "  software            0  (predicted 0.0135, 95% 0..0)\n",
                "lost work       25.0 s  (2 replayed steps and the failed attempts)\n",
                "time down       50.0 s: detection 10.0 s, waiting for spares 0.0 s, restart 30.0 s, checkpoint reads 10.0 s\n",
                "checkpoints     2 written, 20.0 s (10.26% of elapsed)\n",
                "tokens          10,000 trained in 3.3 min\n",
                "accounting      useful + lost work + checkpoints + time down = elapsed, to 0.0e+00 s\n",
                // sqrt(2 x 10 x 3,600) = 268.3 s = 26.8 steps of 10 s
                "Young/Daly      tau = sqrt(2 x 10.000 s x MTBF 1.00 h) = 4.5 min = 26.8 steps\n",
                "this run        every 5 steps; gap to Young/Daly -81.4%");
    }

    @Test
    void theJsonSaysTheSame() throws Exception {
        JsonNode json = new ObjectMapper().readTree(GoodputJson.render(byHand()));
        assertThat(json.path("totals").path("goodput").asDouble()).isEqualTo(100.0 / 195);
        assertThat(json.path("totals").path("downSeconds").path("total").asDouble()).isEqualTo(50.0);
        assertThat(json.path("tokens").path("secondsToTrain").asDouble()).isEqualTo(195.0);
        JsonNode i = json.path("interruptions").get(0);
        assertThat(i.path("kind").asText()).isEqualTo("gpu");
        assertThat(i.path("failedAtSeconds").asDouble()).isEqualTo(85.0);
        assertThat(i.path("recoveredAtSeconds").asDouble()).isEqualTo(135.0);
        assertThat(i.path("checkpointReadSeconds").asDouble()).isEqualTo(10.0);
        assertThat(json.path("youngDaly").path("tauSeconds").asDouble()).isEqualTo(Math.sqrt(2 * 10 * 3600.0));
        assertThat(json.path("youngDaly").path("comparedWith").asText()).isEqualTo("scenario");
        assertThat(json.path("best").isNull()).isTrue();
    }

    @Test
    void aJobWithoutAnyRateHasNoMtbfInItsJson() throws Exception {
        RandomFaults none = new RandomFaults(1, 1.0, Optional.empty(), 0, List.of(), Optional.empty());
        Goodput.Input in = new Goodput.Input(10, 1_000_000_000L, 1000, RECOVERY, none, 1, 2, 1, 1, 20, Double.POSITIVE_INFINITY);
        GoodputReport report = new GoodputReport("calm", Goodput.emulate(in, Goodput.Progress.NONE), List.of(), OptionalLong.empty());
        JsonNode json = new ObjectMapper().readTree(GoodputJson.render(report));
        assertThat(json.path("totals").path("mtbfSeconds").isNull()).isTrue();
        assertThat(json.path("youngDaly").path("steps").isNull()).isTrue();
        assertThat(json.path("totals").path("committedSteps").asInt()).isEqualTo(20);
        assertThat(GoodputText.render(report)).contains("MTBF never", "= never = inf steps");
    }

    @Test
    void theBestIntervalIsTheHighestGoodputThatDidNotFailTheShorterOnATie() {
        GoodputReport.SweepRow failed = row(5, Goodput.Status.FAILED, 0.99);
        GoodputReport.SweepRow ten = row(10, Goodput.Status.HORIZON, 0.9);
        GoodputReport.SweepRow twenty = row(20, Goodput.Status.HORIZON, 0.9);
        GoodputReport.SweepRow forty = row(40, Goodput.Status.HORIZON, 0.8);
        GoodputReport report = new GoodputReport("s", byHand().result(), List.of(failed, ten, twenty, forty), OptionalLong.empty());
        assertThat(report.best()).contains(ten);
    }

    private static GoodputReport.SweepRow row(int every, Goodput.Status status, double goodput) {
        return new GoodputReport.SweepRow(every, status, new RecoveryBook.Totals(1, 0, 0, 0, goodput * 100, 100, 0, 0, 0), 0);
    }
}
