package dev.pipelab.monitoring.dashboard;

import dev.pipelab.monitoring.metrics.Metrics;
import dev.pipelab.monitoring.synthetic.LiveFeed;
import dev.pipelab.monitoring.synthetic.SyntheticRun;

/** Serves the dashboard over an endless synthetic run, for looking at it by hand ({@code DemoMain [port] [p] [d]}). Invariant: it runs until killed. */
public final class DemoMain {
    public static void main(String[] args) throws Exception {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 8080;
        int p = args.length > 1 ? Integer.parseInt(args[1]) : 8;
        int d = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        SyntheticRun run = new SyntheticRun(p, d, 8, 0.05, 0.4, 1);
        DashboardState state = new DashboardState(run.info());
        Metrics metrics = new Metrics(run.info(), "demo");
        DashboardServer server = DashboardServer.start(state, metrics, DashboardServer.Options.loopback(port));
        System.out.println(server.uri());
        state.fault(1.0, "link.latency", "replica 0 link 2->3");
        try (LiveFeed feed = new LiveFeed(run, 300, Integer.MAX_VALUE, state, metrics)) {
            Thread.sleep(Long.MAX_VALUE);
        }
    }
}
