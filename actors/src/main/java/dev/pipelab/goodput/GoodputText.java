package dev.pipelab.goodput;

import dev.pipelab.fault.RandomFaults;
import dev.pipelab.fault.RecoverySpec;

import java.util.Locale;
import java.util.Optional;

/**
 * The text summary {@code pipelab goodput} prints: the job, goodput as useful over elapsed time, the interruptions by
 * kind beside the counts the rates predict (with their Poisson 95% ranges, so that a published count can be checked
 * against them), where the time went, the sweep's table and the best interval beside Young/Daly's. Invariant: the
 * useful, lost, checkpoint and down times it prints add up to the elapsed time (the last line says by how much they
 * do not, which is rounding only).
 */
public final class GoodputText {

    private GoodputText() {}

    public static String render(GoodputReport report) {
        Goodput.Result r = report.result();
        Goodput.Input in = r.input();
        RecoverySpec recovery = in.recovery();
        RandomFaults rates = in.rates();
        var t = r.totals();
        var size = in.draws().size();
        StringBuilder b = new StringBuilder();
        line(b, "pipelab goodput: %s, %s devices (d=%d p=%d t=%d, %d a node: %s nodes)", report.scenario(), count(size.devices()),
                in.replicas(), in.ranks(), in.tensor(), in.devicesPerNode(), count(size.nodes()));
        line(b, "  step %s, %s tokens a step; checkpoint %s, written in %s, every %d steps", seconds(in.stepSeconds()),
                big(in.tokensPerStep()), bytes(in.checkpointBytes()), span(report.checkpointWriteSeconds()), recovery.checkpointEverySteps());
        line(b, "  faults: %s x%s, seed %d, %d spare node%s; emulated until %s", rates.preset().orElse("rates as written"),
                plain(rates.scale()), rates.seed(), rates.spares(), rates.spares() == 1 ? "" : "s", horizon(in));
        b.append('\n');
        switch (r.status()) {
            case COMPLETED -> line(b, "status          completed %s training steps", count(t.committedSteps()));
            case HORIZON -> line(b, "status          reached the horizon after %s", span(t.elapsedSeconds()));
            case FAILED -> line(b, "status          FAILED: %s", r.reason());
        }
        line(b, "goodput         %s  (effective training time ratio: %s useful of %s elapsed)", percent(t.goodput()),
                span(t.usefulSeconds()), span(t.elapsedSeconds()));
        line(b, "committed       %s steps, %s tokens (%s attempts)", count(t.committedSteps()), big(r.tokensTrained()), count(r.attempts()));
        Poisson.Range all = Poisson.range95(report.expected());
        line(b, "interruptions   %s  (the rates predict %s, Poisson 95%% range %s..%s); MTBF %s", count(r.interruptions().size()),
                plain(report.expected()), count(all.low()), count(all.high()), span(r.mtbfSeconds()));
        for (RandomFaults.Kind kind : report.kinds()) {
            Poisson.Range range = Poisson.range95(report.expected(kind));
            line(b, "  %-13s %7s  (predicted %s, 95%% %s..%s)", kind.key(), count(r.byKind().getOrDefault(kind, 0)),
                    plain(report.expected(kind)), count(range.low()), count(range.high()));
        }
        line(b, "lost work       %s  (%s replayed steps and the failed attempts)", span(t.lostWorkSeconds()), count(t.replayedSteps()));
        GoodputReport.Downtime down = report.downtime();
        line(b, "time down       %s: detection %s, waiting for spares %s, restart %s, checkpoint reads %s", span(down.totalSeconds()),
                span(down.detectSeconds()), span(down.waitForSpareSeconds()), span(down.restartSeconds()), span(down.checkpointReadSeconds()));
        line(b, "checkpoints     %s written, %s (%s of elapsed)", count(t.checkpoints()), span(t.checkpointSeconds()),
                percent(report.checkpointFraction()));
        report.tokensTarget().ifPresent(target -> {
            if (report.tokensReached()) {
                line(b, "tokens          %s trained in %s", big(target), span(t.elapsedSeconds()));
            } else {
                line(b, "tokens          %s of %s trained when the run stopped after %s", big(r.tokensTrained()), big(target),
                        span(t.elapsedSeconds()));
            }
        });
        double unaccounted = t.elapsedSeconds() - t.usefulSeconds() - t.lostWorkSeconds() - t.checkpointSeconds() - down.totalSeconds();
        // rounding only, unless a failed run ended inside an attempt (that attempt's time is in no sum)
        line(b, "accounting      useful + lost work + checkpoints + time down = elapsed, to %.1e s", Math.abs(unaccounted));

        YoungDaly yd = report.youngDaly();
        b.append('\n');
        if (!report.sweep().isEmpty()) {
            line(b, "checkpoint interval sweep (recovery.checkpointEverySteps):");
            line(b, "  %8s %9s %12s %12s %8s %13s", "every", "goodput", "lost work", "checkpoints", "ckpt %", "interruptions");
            for (GoodputReport.SweepRow row : report.sweep()) {
                line(b, "  %8d %9s %12s %12s %8s %13s", row.checkpointEverySteps(),
                        row.status() == Goodput.Status.FAILED ? "failed" : percent(row.goodput()), span(row.totals().lostWorkSeconds()),
                        span(row.totals().checkpointSeconds()), percent(row.checkpointFraction()), count(row.interruptions()));
            }
        }
        line(b, "Young/Daly      tau = sqrt(2 x %s x MTBF %s) = %s = %s steps", seconds(yd.checkpointSeconds()), span(yd.mtbfSeconds()),
                span(yd.tauSeconds()), plain(yd.steps()));
        Optional<GoodputReport.SweepRow> best = report.best();
        if (best.isPresent()) {
            line(b, "best of sweep   every %d steps, goodput %s; Young/Daly %s steps; gap %s", best.get().checkpointEverySteps(),
                    percent(best.get().goodput()), plain(yd.steps()), gap(yd.relativeGap(best.get().checkpointEverySteps())));
        } else if (!report.sweep().isEmpty()) {
            line(b, "best of sweep   none: every swept interval failed");
        } else {
            line(b, "this run        every %d steps; gap to Young/Daly %s (sweep it: --sweep recovery.checkpointEverySteps=A..B)",
                    recovery.checkpointEverySteps(), gap(yd.relativeGap(recovery.checkpointEverySteps())));
        }
        return b.toString();
    }

    private static String horizon(Goodput.Input in) {
        String steps = in.maxSteps() == Long.MAX_VALUE ? "" : count(in.maxSteps()) + " steps";
        String time = Double.isInfinite(in.horizonSeconds()) ? "" : span(in.horizonSeconds());
        if (steps.isEmpty()) return time;
        if (time.isEmpty()) return steps;
        return steps + " or " + time;
    }

    private static String gap(double relative) {
        return Double.isFinite(relative) ? String.format(Locale.ROOT, "%+.1f%%", relative * 100) : "n/a";
    }

    private static void line(StringBuilder b, String format, Object... args) {
        b.append(String.format(Locale.ROOT, format, args)).append('\n');
    }

    /** A duration at the scale a reader thinks of it: seconds, minutes, hours or days. */
    static String span(double s) {
        if (Double.isInfinite(s)) return "never";
        double a = Math.abs(s);
        if (a < 60) return String.format(Locale.ROOT, "%.1f s", s);
        if (a < 3600) return String.format(Locale.ROOT, "%.1f min", s / 60);
        if (a < 86400) return String.format(Locale.ROOT, "%.2f h", s / 3600);
        return String.format(Locale.ROOT, "%.2f d", s / 86400);
    }

    static String seconds(double s) {
        return dev.pipelab.monitoring.Units.seconds(s);
    }

    static String count(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }

    /** A number that need not be whole: three significant digits at most, separators above a thousand. */
    static String plain(double x) {
        if (Double.isInfinite(x)) return "inf";
        if (Math.abs(x) >= 1000) return String.format(Locale.ROOT, "%,.0f", x);
        return String.format(Locale.ROOT, "%.3g", x).replaceAll("(\\.\\d*?)0+$", "$1").replaceAll("\\.$", "");
    }

    /** A large count in engineering notation ({@code 15.00e12}), small ones with separators. */
    static String big(double x) {
        if (Math.abs(x) < 1e6) return String.format(Locale.ROOT, "%,.0f", x);
        int exponent = (int) Math.floor(Math.log10(Math.abs(x)) / 3) * 3;
        return String.format(Locale.ROOT, "%.2fe%d", x / Math.pow(10, exponent), exponent);
    }

    static String percent(double fraction) {
        return String.format(Locale.ROOT, "%.2f%%", fraction * 100);
    }

    static String bytes(double bytes) {
        if (bytes >= 1e12) return String.format(Locale.ROOT, "%,.2f TB", bytes / 1e12);
        if (bytes >= 1e9) return String.format(Locale.ROOT, "%,.1f GB", bytes / 1e9);
        return String.format(Locale.ROOT, "%,.1f MB", bytes / 1e6);
    }
}
