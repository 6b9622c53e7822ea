package dev.pipelab.cli;

import dev.pipelab.plan.Search;
import dev.pipelab.scenario.Scenario;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code pipelab search SCENARIO}: the fastest plans that fit, and why the others lost. */
@Command(name = "search", mixinStandardHelpOptions = true,
        description = "Enumerate plans (t, p, d, v, b, m, schedule, recompute) for the scenario's devices and global batch; "
                + "print the top plans that fit memory by throughput, each schedule's best plan and why it is not the winner, "
                + "and why the rest lost. zb-1p and zb-2p are built only where zb-h1 and zb-h2 did best (docs/schedules.md).")
final class SearchCommand implements Callable<Integer> {

    @Mixin
    ScenarioOptions scenario;

    @Option(names = "--top", defaultValue = "10", description = "How many plans to list (default ${DEFAULT-VALUE}).")
    int top;

    @Option(names = "--all", description = "List every candidate with the reason it lost.")
    boolean all;

    @Option(names = "--force", description = "Search even when the size guard estimates too many candidates for this machine.")
    boolean force;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (top < 1) throw new UserException("--top must be >= 1, got " + top);
        Scenario base = scenario.load();
        SizeGuard.search(base, force);
        long t0 = System.nanoTime();
        Progress progress = new Progress(spec.commandLine().getErr(), "search: candidates");
        Search.Result result = Search.run(base, progress::update);
        progress.finish();
        double seconds = (System.nanoTime() - t0) / 1e9;
        PrintWriter out = spec.commandLine().getOut();
        out.printf(Locale.ROOT, "pipelab search: %s on %d devices, global batch %d sequences%n", base.name(),
                result.devices(), result.globalBatch());
        out.printf(Locale.ROOT, "%d candidate plans + %d automatic zero-bubble plans (zb-1p and zb-2p, each recompute, at "
                + "%d finalist shapes: the fastest %d of zb-h1 and of zb-h2) evaluated in %.2f s%n%n", result.evaluated(),
                result.automatic(), result.finalists(), Search.FINALISTS, seconds);
        long fitting = result.ranked().stream().filter(Search.Outcome::fits).count();
        if (fitting == 0) {
            out.println("No plan fits the device memory. Smallest footprints:");
        }
        out.printf(Locale.ROOT, "%4s  %-48s %10s %8s %8s %10s %12s %7s%n", "#", "plan", "step", "bubble", "comm",
                "peak mem", "tokens/s", "MFU");
        int shown = 0;
        for (Search.Outcome o : result.ranked()) {
            if (shown >= top && !all) break;
            shown++;
            out.printf(Locale.ROOT, "%4d  %-48s %10s %8s %8s %10s %12s %7s  %s%n", shown, o.candidate().label(),
                    Double.isNaN(o.stepTimeSeconds()) ? "-" : Format.seconds(o.stepTimeSeconds()),
                    Double.isNaN(o.bubbleFraction()) ? "-" : Format.percent(o.bubbleFraction()),
                    Double.isNaN(o.commFraction()) ? "-" : Format.percent(o.commFraction()),
                    Format.gb(o.peakMemoryBytes()), o.tokensPerSecond() == 0 ? "-" : Format.count(o.tokensPerSecond()),
                    o.mfu() == 0 ? "-" : Format.percent(o.mfu()), o.why());
        }
        out.printf(Locale.ROOT, "%nBest of each schedule%n");
        out.printf(Locale.ROOT, "  %-11s %6s %6s  %-48s %10s %8s %10s  %s%n", "schedule", "plans", "fit", "best plan", "step",
                "bubble", "peak mem", "why not the winner");
        for (Search.ScheduleSummary s : result.bySchedule()) {
            Search.Outcome o = s.best();
            out.printf(Locale.ROOT, "  %-11s %6d %6d  %-48s %10s %8s %10s  %s%n", s.schedule(), s.candidates(), s.fitting(),
                    o == null ? "-" : o.candidate().label(),
                    o == null || Double.isNaN(o.stepTimeSeconds()) ? "-" : Format.seconds(o.stepTimeSeconds()),
                    o == null || Double.isNaN(o.bubbleFraction()) ? "-" : Format.percent(o.bubbleFraction()),
                    o == null ? "-" : Format.gb(o.peakMemoryBytes()), s.why());
        }
        Map<Search.Reason, Integer> counts = new EnumMap<>(Search.Reason.class);
        Map<Search.Reason, Search.Outcome> best = new EnumMap<>(Search.Reason.class);
        for (Search.Outcome o : result.ranked()) {
            counts.merge(o.reason(), 1, Integer::sum);
            best.putIfAbsent(o.reason(), o);
        }
        out.printf(Locale.ROOT, "%nWhy the other %d lost%n", result.ranked().size() - (fitting > 0 ? 1 : 0));
        for (Map.Entry<Search.Reason, Integer> e : counts.entrySet()) {
            if (e.getKey() == Search.Reason.WINNER) continue;
            Search.Outcome o = best.get(e.getKey());
            out.printf(Locale.ROOT, "  %-10s %6d   best of them: %s (%s)%n", e.getKey().name().toLowerCase(Locale.ROOT),
                    e.getValue(), o.candidate().label(), o.why());
        }
        if (!all) out.println("(--all lists every candidate with its reason)");
        return 0;
    }
}
