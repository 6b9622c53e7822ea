package dev.pipelab.goodput;

import dev.pipelab.fault.RandomFaults;
import dev.pipelab.fault.RecoveryBook;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * What {@code pipelab goodput} found, as its text, {@code goodput.json} and HTML page show it: the emulation at the
 * scenario's checkpoint interval, the sweep over other intervals, the tokens asked for, and what is derived from them
 * (downtime by cause, the counts the rates predict, the best interval, Young/Daly). Invariant: every number a view
 * prints is computed here or in the {@link Goodput.Result}, so the views cannot disagree.
 *
 * @param scenario     the scenario's name
 * @param result       the emulation at the scenario's {@code recovery.checkpointEverySteps}
 * @param sweep        one row per swept interval, in increasing order (empty without {@code --sweep})
 * @param tokensTarget the tokens asked for ({@code --tokens}), if any
 */
public record GoodputReport(String scenario, Goodput.Result result, List<SweepRow> sweep, OptionalLong tokensTarget) {

    public GoodputReport {
        sweep = List.copyOf(sweep);
    }

    /** One swept interval's emulation, without its interruptions' list (a sweep may hold hundreds of points). */
    public record SweepRow(int checkpointEverySteps, Goodput.Status status, RecoveryBook.Totals totals, int interruptions) {

        public static SweepRow of(Goodput.Result r) {
            return new SweepRow(r.input().recovery().checkpointEverySteps(), r.status(), r.totals(), r.interruptions().size());
        }

        public double goodput() {
            return totals.goodput();
        }

        public double checkpointFraction() {
            return totals.elapsedSeconds() > 0 ? totals.checkpointSeconds() / totals.elapsedSeconds() : 0;
        }
    }

    /**
     * Where the time of the recoveries went, summed over the interruptions: noticing the failure, waiting for a spare
     * node (or the repair), restarting, reading the checkpoint back.
     */
    public record Downtime(double detectSeconds, double waitForSpareSeconds, double restartSeconds, double checkpointReadSeconds) {

        public double totalSeconds() {
            return detectSeconds + waitForSpareSeconds + restartSeconds + checkpointReadSeconds;
        }
    }

    /** One interruption's recovery, cut the same way as {@link Downtime}. */
    public static Downtime downtime(Goodput.Interruption i, double restartSeconds) {
        RecoveryBook.Rollback r = i.rollback();
        return new Downtime(r.detectedAtSeconds() - i.failedAtSeconds(), r.restartAtSeconds() - r.detectedAtSeconds(), restartSeconds,
                r.recoveredAtSeconds() - r.restartAtSeconds() - restartSeconds);
    }

    /** Every recovery's time, by cause. */
    public Downtime downtime() {
        double detect = 0, wait = 0, restart = 0, read = 0;
        double restartSeconds = result.input().recovery().restartSeconds();
        for (Goodput.Interruption i : result.interruptions()) {
            Downtime d = downtime(i, restartSeconds);
            detect += d.detectSeconds();
            wait += d.waitForSpareSeconds();
            restart += d.restartSeconds();
            read += d.checkpointReadSeconds();
        }
        return new Downtime(detect, wait, restart, read);
    }

    /** The interruptions of {@code kind} the rates predict over the run's emulated time (their Poisson mean). */
    public double expected(RandomFaults.Kind kind) {
        return result.input().rates().perSecond(kind, result.input().draws().size()) * result.totals().elapsedSeconds();
    }

    /** The interruptions of every kind the rates predict over the run's emulated time. */
    public double expected() {
        return result.totals().elapsedSeconds() / result.mtbfSeconds();
    }

    /** The kinds in the rate model, in its order. */
    public List<RandomFaults.Kind> kinds() {
        return result.input().rates().rates().stream().map(RandomFaults.Rate::kind).toList();
    }

    /** Seconds one checkpoint takes to write: its bytes over the storage bandwidth. */
    public double checkpointWriteSeconds() {
        return result.input().checkpointBytes() / result.input().recovery().storageBytesPerSecond();
    }

    /** Checkpoint writing's share of the run's emulated time. */
    public double checkpointFraction() {
        double elapsed = result.totals().elapsedSeconds();
        return elapsed > 0 ? result.totals().checkpointSeconds() / elapsed : 0;
    }

    /** The first-order optimum interval for this job's checkpoint and failure rate. */
    public YoungDaly youngDaly() {
        return new YoungDaly(checkpointWriteSeconds(), result.mtbfSeconds(), result.input().stepSeconds());
    }

    /** The swept interval with the highest goodput among those that did not fail (the shorter on a tie). */
    public Optional<SweepRow> best() {
        return sweep.stream().filter(r -> r.status() != Goodput.Status.FAILED)
                .max(Comparator.comparingDouble(SweepRow::goodput).thenComparing(r -> -r.checkpointEverySteps()));
    }

    /** Whether the run committed the tokens asked for (false without {@code --tokens}). */
    public boolean tokensReached() {
        return tokensTarget.isPresent() && result.tokensTrained() >= tokensTarget.getAsLong();
    }

    /**
     * The run's committed progress over its emulated time, as the corners of a line: it rises while steps commit
     * (checkpoint writes are flat stretches too short to draw), drops at each failure to the checkpoint's steps and
     * stays there until the recovery ends. Each point is exact; between points the line is straight.
     */
    public List<double[]> progress() {
        List<double[]> points = new ArrayList<>();
        points.add(new double[] {0, 0});
        for (Goodput.Interruption i : result.interruptions()) {
            RecoveryBook.Rollback r = i.rollback();
            points.add(new double[] {i.failedAtSeconds(), r.resumeAt() + r.replayedSteps()});
            points.add(new double[] {i.failedAtSeconds(), r.resumeAt()});
            points.add(new double[] {r.recoveredAtSeconds(), r.resumeAt()});
        }
        points.add(new double[] {result.totals().elapsedSeconds(), result.totals().committedSteps()});
        return points;
    }
}
