package dev.pipelab.cli;

import dev.pipelab.monitoring.MemoryInfo;
import dev.pipelab.monitoring.RunInfo;
import dev.pipelab.plan.Plan;
import dev.pipelab.plan.PlanFlops;
import dev.pipelab.plan.PlanReport;

import java.util.List;
import java.util.Optional;

/** What the monitoring consumers need to know about a run, taken from its plan and the plan's analytic report. */
final class RunInfos {

    private RunInfos() {}

    static RunInfo of(Plan plan, PlanReport analytic, String clock, double speed) {
        List<Integer> layers = analytic.stages().stream().map(PlanReport.Stage::layers).toList();
        List<Long> staticBytes = analytic.stages().stream().map(PlanReport.Stage::staticBytes).toList();
        PlanReport.Memory m = analytic.memory();
        // derived as a sum, not from hfu / mfu, so that RunInfo's hardware >= model holds exactly
        PlanFlops flops = PlanFlops.of(plan);
        return new RunInfo(plan.name(), plan.schedule().name(), plan.pipeline(), plan.data(), plan.tensor(),
                plan.virtualStages(), plan.microBatchSize(), plan.microBatches(), plan.model().seqLength(), plan.devices(),
                flops.modelPerStep(), flops.hardwarePerStep(), plan.device().peakFlopsPerSecond(), plan.device().memoryBytes(),
                layers, staticBytes, clock, speed,
                Optional.of(MemoryInfo.of(m.parametersBytes(), m.gradientsBytes(), m.optimizerBytes(), m.activationsBytes())),
                Optional.empty());
    }
}
