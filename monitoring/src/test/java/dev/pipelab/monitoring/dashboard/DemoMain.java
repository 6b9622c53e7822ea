package dev.pipelab.monitoring.dashboard;

import dev.pipelab.monitoring.Event;
import dev.pipelab.monitoring.RunTelemetry;
import dev.pipelab.monitoring.metrics.Metrics;
import dev.pipelab.monitoring.synthetic.LiveFeed;
import dev.pipelab.monitoring.synthetic.SyntheticRun;

import java.util.Map;
import java.util.Optional;

/** Serves the dashboard over an endless synthetic run, for looking at it by hand ({@code DemoMain [port] [p] [d]}). Invariant: it runs until killed. */
public final class DemoMain {
    public static void main(String[] args) throws Exception {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 8080;
        int p = args.length > 1 ? Integer.parseInt(args[1]) : 8;
        int d = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        SyntheticRun run = new SyntheticRun(p, d, 8, 0.05, 0.4, 1);
        DashboardState state = new DashboardState(run.info());
        Metrics metrics = new Metrics(run.info(), "demo");
        // live injection goes to a telemetry of its own: the fault shows at once (the synthetic run does not change)
        RunTelemetry faults = new RunTelemetry(run.info());
        faults.addListener(state);
        faults.addListener(metrics);
        int[] next = {0};
        FaultInjector injector = entry -> {
            if (!(entry.get("kind") instanceof String kind) || !(entry.get("target") instanceof String target)) {
                return Optional.of("kind and target must be given as strings");
            }
            double now = state.snapshot(0).get("runSeconds").asDouble();
            synchronized (next) {
                faults.emit(new Event.FaultInjected(0, now, next[0]++, kind, target, kind + " " + target + " (demo)"));
            }
            return Optional.empty();
        };
        DashboardServer server = DashboardServer.start(state, metrics, DashboardServer.Options.loopback(port), injector);
        System.out.println(server.uri());
        injector.inject(Map.of("kind", "link.latency", "target", "0/2->3"));
        try (LiveFeed feed = new LiveFeed(run, 300, Integer.MAX_VALUE, state, metrics)) {
            Thread.sleep(Long.MAX_VALUE);
        }
    }
}
