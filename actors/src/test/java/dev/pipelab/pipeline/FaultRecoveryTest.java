package dev.pipelab.pipeline;

import dev.pipelab.fault.Fault;
import dev.pipelab.fault.FaultKind;
import dev.pipelab.fault.FaultTarget;
import dev.pipelab.fault.RecoverySpec;
import dev.pipelab.link.CreditWindow;
import dev.pipelab.monitoring.Event;
import dev.pipelab.monitoring.EventLog;
import dev.pipelab.schedule.Evaluator;
import dev.pipelab.schedule.Network;
import dev.pipelab.schedule.Schedule;
import dev.pipelab.schedule.Schedules;
import dev.pipelab.schedule.StageCost;
import dev.pipelab.schedule.Timeline;
import dev.pipelab.stage.TestCosts;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Stage faults and recovery in virtual time: crash, slowdown, memory pressure; checkpoints, replay, the ledger. */
class FaultRecoveryTest {

    @RegisterExtension
    static final TestSystems.OneNode node = new TestSystems.OneNode();

    private static final RecoverySpec EVERY_STEP = RecoverySpec.NONE.withCheckpointEvery(1);

    private static RunSpec oneF1B(int d) {
        Schedule s = Schedules.oneFOneB(4, 8);
        List<StageCost> costs = TestCosts.of(s, d, false, TestCosts.SLOW);
        return new RunSpec(s, costs, Network.uniform(TestCosts.SLOW), CreditWindow.UNBOUNDED, d, Long.MAX_VALUE);
    }

    private static RunResult run(RunSpec spec, int steps, EventLog log, RecoverySpec recovery, Fault... faults) {
        return Emulator.run(node.system(), spec, RunOptions.virtual(steps, log).withFaults(List.of(faults), recovery));
    }

    private static Fault crash(int step, double at, int replica, int rank) {
        return Fault.of(FaultKind.STAGE_CRASH, new FaultTarget.Stage(replica, rank), step, at, Double.POSITIVE_INFINITY, 0, 0, "test");
    }

    @Test
    void aCrashWithCheckpointsReplaysTheStepAndTheRunCompletes() {
        RunSpec spec = oneF1B(2);
        double step = Evaluator.evaluate(spec.schedule(), spec.costs(), spec.network(), spec.linkBuffer()).stepTimeSeconds();
        EventLog log = new EventLog();
        RunResult r = run(spec, 3, log, EVERY_STEP, crash(1, step / 2, 1, 2)).orThrow();
        assertThat(r.status()).isEqualTo(RunResult.Status.COMPLETED);
        assertThat(r.steps()).hasSize(3); // completed attempts: training steps 0, 1 (second attempt), 2
        assertThat(r.recovery().recoveries()).isEqualTo(1);
        List<Event.Recovered> rec = log.events().stream().filter(e -> e instanceof Event.Recovered).map(e -> (Event.Recovered) e).toList();
        assertThat(rec).hasSize(1);
        Event.Recovered x = rec.get(0);
        assertThat(x.step()).isEqualTo(1);
        assertThat(x.fault()).isEqualTo(0);
        assertThat(x.resumedFromStep()).isEqualTo(1);
        assertThat(x.replayedSteps()).isZero();
        Event.Checkpointed first = log.events().stream().filter(e -> e instanceof Event.Checkpointed).map(e -> (Event.Checkpointed) e)
                .findFirst().orElseThrow();
        assertThat(first.runSeconds()).isEqualTo(step + first.seconds());
        assertThat(x.failedAtSeconds()).isEqualTo(first.runSeconds() + step / 2);
        assertThat(x.detectedAtSeconds()).isEqualTo(x.failedAtSeconds());
        assertThat(x.lostWorkSeconds()).isEqualTo(x.failedAtSeconds() - first.runSeconds());
        RecoverySpec rs = EVERY_STEP;
        assertThat(x.recoveredAtSeconds()).isEqualTo(x.detectedAtSeconds() + rs.restartSeconds() + first.seconds());
        List<Event.StepCommitted> commits = log.events().stream().filter(e -> e instanceof Event.StepCommitted)
                .map(e -> (Event.StepCommitted) e).toList();
        assertThat(commits).extracting(Event.StepCommitted::step).containsExactly(0, 2, 3);
        assertThat(commits).extracting(Event.StepCommitted::trainingStep).containsExactly(0, 1, 2);
        for (Event.StepCommitted c : commits) {
            for (Event.Consumed k : c.replicas()) assertThat(k.optimizerSteps()).containsOnly(1);
        }
        // every completed attempt's step time is the evaluator's: the crash changed nothing but the lost attempt
        assertThat(r.steps()).allSatisfy(s -> assertThat(s.stepSeconds()).isEqualTo(step));
    }

    @Test
    void twoRunsOfTheSameFaultyScenarioGiveTheSameEvents() {
        RunSpec spec = oneF1B(2);
        EventLog a = new EventLog();
        EventLog b = new EventLog();
        Fault slow = Fault.of(FaultKind.STAGE_SLOWDOWN, new FaultTarget.Stage(0, 1), 0, 0.01, 0.5, 3.0, 0, "slow");
        RunResult ra = run(spec, 3, a, EVERY_STEP, crash(1, 0.02, 0, 3), slow).orThrow();
        RunResult rb = run(spec, 3, b, EVERY_STEP, crash(1, 0.02, 0, 3), slow).orThrow();
        assertThat(ra).isEqualTo(rb);
        assertThat(a.events()).isEqualTo(b.events());
    }

    @Test
    void aCrashWithoutCheckpointsEndsTheRunWithTheReason() {
        RunResult r = run(oneF1B(1), 2, new EventLog(), RecoverySpec.NONE, crash(0, 0.01, 0, 1));
        assertThat(r.status()).isEqualTo(RunResult.Status.FAILED);
        assertThat(r.failure().orElseThrow()).contains("stage.crash").contains("no checkpoint");
    }

    @Test
    void aSlowdownOverTheWholeStepEqualsTheEvaluatorWithThatStageSlower() {
        RunSpec spec = oneF1B(1);
        Fault slow = Fault.of(FaultKind.STAGE_SLOWDOWN, new FaultTarget.Stage(0, 2), 0, 0, Double.POSITIVE_INFINITY, 2.0, 0, "slow");
        RunResult r = run(spec, 2, new EventLog(), RecoverySpec.NONE, slow).orThrow();
        List<StageCost> costs = new ArrayList<>(spec.costs());
        StageCost c = costs.get(2);
        costs.set(2, new StageCost(c.forwardSeconds() * 2, c.backwardInputSeconds() * 2, c.backwardWeightSeconds() * 2,
                c.recomputeSeconds() * 2, c.sendForwardBytes(), c.sendBackwardBytes(), c.stashBytes(), c.recomputeBytes(),
                c.staticBytes(), c.allReduce(), c.optimizerSeconds() * 2));
        Timeline t = Evaluator.evaluate(spec.schedule(), costs, spec.network(), spec.linkBuffer());
        assertThat(r.steps()).allSatisfy(s -> assertThat(s.stepSeconds()).isEqualTo(t.stepTimeSeconds()));
    }

    @Test
    void memoryPressureThatLastsFailsTheStepUntilTheRunGivesUp() {
        Schedule s = Schedules.gpipe(2, 4);
        List<StageCost> costs = TestCosts.of(s, 1, false, TestCosts.SLOW);
        long need = 0;
        for (StageCost c : costs) need = Math.max(need, c.staticBytes() + 4 * c.stashBytes());
        RunSpec spec = new RunSpec(s, costs, Network.uniform(TestCosts.SLOW), CreditWindow.UNBOUNDED, 1, need);
        Fault pressure = Fault.of(FaultKind.STAGE_MEMORY_PRESSURE, new FaultTarget.Stage(0, 0), 0, 0, Double.POSITIVE_INFINITY, 0.9, 0, "mem");
        RunResult r = run(spec, 2, new EventLog(), EVERY_STEP, pressure);
        assertThat(r.status()).isEqualTo(RunResult.Status.FAILED);
        assertThat(r.failure().orElseThrow()).contains("failed 4 times").contains("out of memory");
    }

    static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> schedules() {
        return java.util.stream.Stream.of(
                org.junit.jupiter.params.provider.Arguments.of("gpipe", Schedules.gpipe(2, 4)),
                org.junit.jupiter.params.provider.Arguments.of("1f1b", Schedules.oneFOneB(2, 4)),
                org.junit.jupiter.params.provider.Arguments.of("interleaved", Schedules.interleaved(2, 2, 4)),
                org.junit.jupiter.params.provider.Arguments.of("zb-h1", Schedules.zbH1(2, 4)));
    }

    /**
     * Real numerics: a crash in the middle of a run with checkpoints every step, then one with a checkpoint every 2
     * steps (so a completed step is replayed), end with weights and losses bit-identical to the fault-free run's.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.MethodSource("schedules")
    void realNumericsAfterACrashEndWithTheFaultFreeWeights(String name, Schedule s) {
        dev.pipelab.model.Recompute policy = dev.pipelab.model.Recompute.NONE;
        RunSpec spec = new RunSpec(s, TestCosts.of(s, 2, false, TestCosts.SLOW), Network.uniform(TestCosts.SLOW),
                CreditWindow.UNBOUNDED, 2, Long.MAX_VALUE)
                .withReal(RealNumericsRunTest.setup(RealNumericsRunTest.Kind.MLP, policy, true));
        RunResult clean = Emulator.run(node.system(), spec, RunOptions.virtual(3, new EventLog())).orThrow();
        for (int every : new int[] {1, 2}) {
            EventLog log = new EventLog();
            RunResult faulty = run(spec, 3, log, RecoverySpec.NONE.withCheckpointEvery(every), crash(1, 0.3, 1, 1)).orThrow();
            assertThat(faulty.recovery().recoveries()).as("every " + every).isEqualTo(1);
            assertThat(faulty.recovery().replayedSteps()).as("every " + every).isEqualTo(every == 1 ? 0 : 1);
            assertThat(faulty.losses()).hasSameSizeAs(clean.losses());
            for (int i = 0; i < clean.losses().size(); i++) {
                assertThat(Double.doubleToRawLongBits(faulty.losses().get(i))).as("loss " + i + ", every " + every)
                        .isEqualTo(Double.doubleToRawLongBits(clean.losses().get(i)));
            }
            assertThat(faulty.weights()).hasSameSizeAs(clean.weights());
            for (int i = 0; i < clean.weights().size(); i++) {
                assertThat(dev.pipelab.numerics.Tensors.bitEqual(faulty.weights().get(i).value(), clean.weights().get(i).value()))
                        .as(clean.weights().get(i).name() + ", every " + every).isTrue();
            }
        }
    }

    static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> matrix() {
        List<org.junit.jupiter.params.provider.Arguments> out = new ArrayList<>();
        for (FaultKind kind : FaultKind.values()) {
            if (kind.target() == FaultKind.Target.NODE) continue; // cluster runs only (NodeFaultsIT)
            for (String name : List.of("gpipe", "1f1b", "interleaved", "zb-h1")) out.add(org.junit.jupiter.params.provider.Arguments.of(kind, name));
        }
        return out.stream();
    }

    private static Schedule schedule(String name) {
        return switch (name) {
            case "gpipe" -> Schedules.gpipe(2, 4);
            case "1f1b" -> Schedules.oneFOneB(2, 4);
            case "interleaved" -> Schedules.interleaved(2, 2, 4);
            default -> Schedules.zbH1(2, 4);
        };
    }

    /**
     * Every fault kind that an embedded run takes, on every schedule family, d = 2 with a credit window: the run
     * completes, every completed step's commit passed the ledger (the trainer fails the run otherwise), each training
     * step is committed once in the lineage, and two runs give the same events.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "{0} on {1}")
    @org.junit.jupiter.params.provider.MethodSource("matrix")
    void everyFaultKindOnEverySchedule(FaultKind kind, String name) {
        Schedule s = schedule(name);
        List<StageCost> costs = TestCosts.of(s, 2, false, TestCosts.SLOW);
        RunSpec roomy = new RunSpec(s, costs, Network.uniform(TestCosts.SLOW), 4, 2, Long.MAX_VALUE);
        long peak = 0;
        for (RunResult.StepResult x : run(roomy, 1, new EventLog(), RecoverySpec.NONE).orThrow().steps()) {
            for (var rep : x.reports()) peak = Math.max(peak, rep.peakMemoryBytes());
        }
        // just enough memory: a memory_pressure of 95% makes the allocator fail, nothing else does
        RunSpec spec = new RunSpec(s, costs, Network.uniform(TestCosts.SLOW), 4, 2, peak);
        double value = kind.parameter().map(p -> switch (p.name()) {
            case "factor" -> kind == FaultKind.STAGE_SLOWDOWN ? 3.0 : 0.25;
            case "fraction" -> 0.95;
            case "seconds" -> 0.05;
            default -> 0.3; // probabilities
        }).orElse(0.0);
        dev.pipelab.fault.FaultTarget target = kind.target() == FaultKind.Target.STAGE ? new FaultTarget.Stage(1, 1)
                : kind == FaultKind.LINK_PARTITION ? new FaultTarget.Link(0, 0, 1) : new FaultTarget.Ring(1, 0);
        // a partition longer than the give-up timeout breaks the step; the others last a few steps
        double duration = kind == FaultKind.LINK_PARTITION ? 100 : 10.0;
        RecoverySpec recovery = new RecoverySpec(1, 2e11, 10, 30, 0.2, 20, 3, false);
        Fault f = new Fault(kind, target, 1, 0.1, kind.instant() ? Double.POSITIVE_INFINITY : duration, -1, 0, value, 5, "matrix");
        EventLog a = new EventLog();
        EventLog b = new EventLog();
        RunResult r = run(spec, 4, a, recovery, f);
        assertThat(r.status()).as(r.failure().orElse("")).isEqualTo(RunResult.Status.COMPLETED);
        assertThat(run(spec, 4, b, recovery, f).orThrow()).isEqualTo(r);
        assertThat(a.events()).isEqualTo(b.events());
        List<Integer> training = a.events().stream().filter(e -> e instanceof Event.StepCommitted).map(e -> ((Event.StepCommitted) e).trainingStep()).toList();
        int recovered = (int) a.events().stream().filter(e -> e instanceof Event.Recovered).count();
        assertThat(recovered).isEqualTo(r.recovery().recoveries());
        if (kind == FaultKind.STAGE_CRASH || kind == FaultKind.LINK_PARTITION || kind == FaultKind.STAGE_MEMORY_PRESSURE) {
            assertThat(recovered).as("the failure was recovered from").isGreaterThanOrEqualTo(1);
        } else {
            assertThat(recovered).isZero();
            assertThat(training).containsExactly(0, 1, 2, 3);
        }
        // the lineage: the last commit of each training step, in order, is 0..3
        java.util.TreeMap<Integer, Integer> last = new java.util.TreeMap<>();
        for (int i = 0; i < training.size(); i++) last.put(training.get(i), i);
        assertThat(last.keySet()).containsExactly(0, 1, 2, 3);
        if (kind == FaultKind.LINK_DUPLICATE) assertThat(r.recovery().duplicatesDropped()).isPositive();
        if (kind.target() == FaultKind.Target.STAGE || kind == FaultKind.LINK_LATENCY || kind == FaultKind.LINK_BANDWIDTH
                || kind == FaultKind.LINK_LOSS || kind == FaultKind.LINK_DUPLICATE) {
            assertThat(a.events().stream().filter(e -> e instanceof Event.FaultInjected)).hasSize(1);
        }
    }

    /** A fault added to the run's inbox (the dashboard's POST) acts from the next attempt's start, whatever its atStep. */
    @Test
    void aLiveFaultActsFromTheNextAttempt() {
        RunSpec spec = oneF1B(1);
        dev.pipelab.fault.FaultInbox inbox = new dev.pipelab.fault.FaultInbox();
        inbox.add(Fault.of(FaultKind.STAGE_SLOWDOWN, new FaultTarget.Stage(0, 0), 7, 0, Double.POSITIVE_INFINITY, 2.0, 0, "live"));
        EventLog log = new EventLog();
        RunResult r = Emulator.run(node.system(), spec, RunOptions.virtual(2, log).withLiveFaults(inbox)).orThrow();
        double clean = Evaluator.evaluate(spec.schedule(), spec.costs(), spec.network(), spec.linkBuffer()).stepTimeSeconds();
        assertThat(r.steps()).allSatisfy(s -> assertThat(s.stepSeconds()).isGreaterThan(clean));
        assertThat(log.events().stream().filter(e -> e instanceof Event.FaultInjected).map(e -> ((Event.FaultInjected) e).runSeconds()))
                .containsExactly(0.0);
    }
}
