package dev.pipelab.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pipelab.plan.PeakMemoryLines;
import dev.pipelab.plan.Plan;
import dev.pipelab.plan.Planner;
import dev.pipelab.plan.PlanReport;
import dev.pipelab.scenario.Scenario;
import dev.pipelab.schedule.Timeline;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code pipelab plan SCENARIO [--json]}: memory, minimum devices, per-stage table, step time, bubble, throughput. */
@Command(name = "plan", mixinStandardHelpOptions = true,
        description = "Memory breakdown, minimum devices, per-stage timing, step time, bubble and throughput of a scenario.")
final class PlanCommand implements Callable<Integer> {

    @Mixin
    ScenarioOptions scenario;

    @Option(names = "--json", description = "Print the report as JSON (report.json field names).")
    boolean json;

    @Option(names = "--force", description = "Plan even a scenario too large for this machine (the size guard).")
    boolean force;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Scenario loaded = scenario.load();
        SizeGuard.plan("plan", loaded, force);
        Plan plan = Planner.plan(loaded);
        Timeline timeline = plan.evaluate();
        PlanReport report = PlanReport.of(plan, timeline);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            // the report's fields, and every rank's peak memory line by line (docs/memory.md)
            ObjectNode tree = json().valueToTree(report);
            List<PeakMemoryLines> lines = new ArrayList<>();
            for (int rank = 0; rank < plan.pipeline(); rank++) lines.add(PeakMemoryLines.of(plan, rank));
            tree.set("peakMemoryLines", json().valueToTree(lines));
            out.println(json().writeValueAsString(tree));
        } else {
            PlanText.print(out, plan, timeline, report, loaded.cluster());
        }
        return 0;
    }

    static ObjectMapper json() {
        return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    }
}
