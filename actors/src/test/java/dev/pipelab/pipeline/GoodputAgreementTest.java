package dev.pipelab.pipeline;

import dev.pipelab.fault.RandomFaults;
import dev.pipelab.fault.RecoveryBook;
import dev.pipelab.fault.RecoverySpec;
import dev.pipelab.goodput.Goodput;
import dev.pipelab.link.CreditWindow;
import dev.pipelab.monitoring.Event;
import dev.pipelab.monitoring.EventLog;
import dev.pipelab.schedule.Evaluator;
import dev.pipelab.schedule.Network;
import dev.pipelab.schedule.Schedule;
import dev.pipelab.schedule.Schedules;
import dev.pipelab.schedule.StageCost;
import dev.pipelab.stage.TestCosts;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What licenses {@code pipelab goodput} (docs/goodput.md): for the same seeded random interruptions, the step-level
 * emulation and a virtual-time run of the actors give identical goodput, lost work, step and attempt counts, and
 * identical recoveries one by one, for every kind the rate model draws.
 */
class GoodputAgreementTest {

    @RegisterExtension
    static final TestSystems.OneNode node = new TestSystems.OneNode();

    private static final int STEPS = 120;
    private static final Schedule SCHEDULE = Schedules.oneFOneB(4, 8);
    private static final List<StageCost> COSTS = TestCosts.of(SCHEDULE, 2, false, TestCosts.SLOW);
    private static final RunSpec SPEC = new RunSpec(SCHEDULE, COSTS, Network.uniform(TestCosts.SLOW), CreditWindow.UNBOUNDED, 2,
            Long.MAX_VALUE);
    private static final double STEP = Evaluator.evaluate(SPEC.schedule(), SPEC.costs(), SPEC.network(), SPEC.linkBuffer()).stepTimeSeconds();
    /** Checkpoints every 4 steps, each written in 0.3 steps; a restart takes 0.5 steps; a silent failure goes 0.25 unnoticed. */
    private static final RecoverySpec RECOVERY = new RecoverySpec(4, SPEC.checkpointBytes() / (0.3 * STEP), 0.25 * STEP, 0.5 * STEP,
            0.2, 1800, 1_000, false);

    /** One kind alone, a failure every 4 steps on average, with a detection of its own for odd kinds. */
    private static RandomFaults only(RandomFaults.Kind kind, long seed) {
        double detect = kind.ordinal() % 2 == 1 ? 0.25 * STEP : Double.NaN;
        return new RandomFaults(seed, 1.0, Optional.of(4 * STEP / 3600), 0,
                List.of(new RandomFaults.Rate(kind, Double.NaN, 1.0, detect, 0)), Optional.empty());
    }

    @ParameterizedTest
    @EnumSource(RandomFaults.Kind.class)
    void everyKindGivesTheSameRunInBoth(RandomFaults.Kind kind) {
        agree(only(kind, 11 + kind.ordinal()));
    }

    @Test
    void aMixWithRepairsAndOneSpareGivesTheSameRunInBoth() {
        // per-unit rates (8 devices, 4 nodes of 2: a failure every 4.6 steps), gpu and host failures take their node out for
        // 5 steps, one spare
        double perHour = 3600 / (60 * STEP);
        RandomFaults mix = new RandomFaults(5, 1.0, Optional.empty(), 1, List.of(
                new RandomFaults.Rate(RandomFaults.Kind.GPU, perHour, Double.NaN, Double.NaN, 5 * STEP),
                new RandomFaults.Rate(RandomFaults.Kind.HOST, perHour, Double.NaN, 0.1 * STEP, 5 * STEP),
                new RandomFaults.Rate(RandomFaults.Kind.SOFTWARE, perHour, Double.NaN, 0, 0)), Optional.empty());
        Goodput.Result g = agree(mix);
        assertThat(g.totals().waitedForSpareSeconds()).as("some restart waited for the spare").isPositive();
        assertThat(g.byKind()).containsKeys(RandomFaults.Kind.GPU, RandomFaults.Kind.HOST, RandomFaults.Kind.SOFTWARE);
    }

    private static Goodput.Result agree(RandomFaults rates) {
        Goodput.Result g = Goodput.emulate(new Goodput.Input(STEP, SPEC.checkpointBytes(), 1, RECOVERY, rates, 2, 4, 1, 2, STEPS,
                Double.POSITIVE_INFINITY), Goodput.Progress.NONE);
        EventLog log = new EventLog();
        RunResult r = Emulator.run(node.system(), SPEC, RunOptions.virtual(STEPS, log).withFaults(List.of(), RECOVERY)
                .withRandomFaults(rates, 1, 2)).orThrow();
        assertThat(g.status()).isEqualTo(Goodput.Status.COMPLETED);
        assertThat(r.status()).isEqualTo(RunResult.Status.COMPLETED);
        assertThat(g.interruptions().size()).as("interruptions really happen").isGreaterThan(STEPS / 6);

        RecoveryBook.Totals t = g.totals();
        RunResult.Recovery x = r.recovery();
        assertThat(x.recoveries()).isEqualTo(t.recoveries()).isEqualTo(g.interruptions().size());
        assertThat(x.replayedSteps()).isEqualTo(t.replayedSteps());
        assertThat(x.lostWorkSeconds()).isEqualTo(t.lostWorkSeconds());
        assertThat(x.usefulSeconds()).isEqualTo(t.usefulSeconds());
        assertThat(x.elapsedSeconds()).isEqualTo(t.elapsedSeconds());
        assertThat(x.checkpoints()).isEqualTo(t.checkpoints());
        assertThat(x.checkpointSeconds()).isEqualTo(t.checkpointSeconds());
        assertThat(x.goodput()).isEqualTo(t.goodput());
        assertThat(t.committedSteps()).isEqualTo(STEPS);
        long attempts = log.events().stream().filter(e -> e instanceof Event.StepStarted).count();
        assertThat(attempts).isEqualTo(g.attempts());

        List<Event.Recovered> recovered = log.events().stream().filter(e -> e instanceof Event.Recovered).map(e -> (Event.Recovered) e)
                .toList();
        assertThat(recovered).hasSize(g.interruptions().size());
        for (int i = 0; i < recovered.size(); i++) {
            Event.Recovered e = recovered.get(i);
            Goodput.Interruption in = g.interruptions().get(i);
            assertThat(e.failedAtSeconds()).as("failure %d", i).isEqualTo(in.failedAtSeconds());
            assertThat(e.detectedAtSeconds()).as("detection %d", i).isEqualTo(in.rollback().detectedAtSeconds());
            assertThat(e.recoveredAtSeconds()).as("recovery %d", i).isEqualTo(in.rollback().recoveredAtSeconds());
            assertThat(e.resumedFromStep()).isEqualTo(in.rollback().resumeAt());
            assertThat(e.lostWorkSeconds()).isEqualTo(in.rollback().lostWorkSeconds());
        }
        return g;
    }
}
