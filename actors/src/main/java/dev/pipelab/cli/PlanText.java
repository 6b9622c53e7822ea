package dev.pipelab.cli;

import dev.pipelab.model.CostModel;
import dev.pipelab.model.DevicePresets;
import dev.pipelab.model.DeviceSpec;
import dev.pipelab.model.LinkSpec;
import dev.pipelab.model.ModelSpec;
import dev.pipelab.plan.MemoryPolicy;
import dev.pipelab.plan.PeakMemoryLines;
import dev.pipelab.plan.Plan;
import dev.pipelab.plan.PlanReport;
import dev.pipelab.scenario.Scenario;
import dev.pipelab.schedule.Timeline;

import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/** The readable form of {@code pipelab plan}. */
final class PlanText {

    private PlanText() {}

    /** Replicas whose explicit map the plan prints; the scenario file has all of them. */
    private static final int REPLICAS_SHOWN = 4;

    static void print(PrintWriter out, Plan plan, Timeline timeline, PlanReport r, Scenario.Cluster cluster) {
        ModelSpec m = plan.model();
        DeviceSpec dev = plan.device();
        CostModel cm = plan.costModel();
        out.printf(Locale.ROOT, "pipelab plan: %s%n%n", plan.name());
        out.printf(Locale.ROOT, "model     %s: %d layers, h=%d, %d heads (%d kv), ffn %d, vocab %d, s=%d, %s%n",
                m.name(), m.layers(), m.hidden(), m.heads(), m.kvHeads(), m.ffnHidden(), m.vocab(), m.seqLength(),
                m.mlp().name().toLowerCase(Locale.ROOT));
        out.printf(Locale.ROOT, "          %s parameters%s%n", Format.count(cm.parametersForMemory()),
                m.parametersOverride().isPresent()
                        ? " (scenario value; the shapes give " + Format.count(cm.totalParameters()) + ")" : "");
        out.printf(Locale.ROOT, "hardware  %s: %s peak, %s, efficiency %.2f; %d devices per node%n", dev.name(),
                Format.rate(dev.peakFlopsPerSecond()), Format.gb(dev.memoryBytes()), plan.efficiency(),
                plan.placement().devicesPerNode());
        out.printf(Locale.ROOT, "          intra-node %s (%s), inter-node %s (%s)%n",
                plan.placement().intraNode().name(), Format.bandwidth(plan.placement().intraNode().bandwidthBytesPerSecond()),
                plan.placement().interNode().name(), Format.bandwidth(plan.placement().interNode().bandwidthBytesPerSecond()));
        out.printf(Locale.ROOT, "plan      p=%d d=%d t=%d v=%d -> %d devices on %d node(s); %s, m=%d micro-batches of b=%d (%d sequences per step)%n",
                r.pipeline(), r.data(), r.tensor(), r.virtualStages(), r.devices(), plan.placement().nodes(),
                r.schedule(), r.microBatches(), r.microBatchSize(), r.globalBatch());
        out.printf(Locale.ROOT, "          recompute %s, optimizer %s%s%s%n", plan.recompute().scenarioName(),
                plan.optimizer().scenarioName(), plan.sequenceParallel() ? ", sequence parallel" : "",
                plan.profiled() ? ", profiled costs" : "");
        out.printf(Locale.ROOT, "JVMs      %s%n", jvmPlacement(cluster));

        PlanReport.Memory mem = r.memory();
        out.printf(Locale.ROOT, "%nMemory (whole model, one micro-batch of activations: the article's arithmetic)%n");
        row(out, "parameters", mem.parametersBytes(), String.format(Locale.ROOT, "%s x %d B", Format.count(cm.parametersForMemory()), plan.optimizer().weightBytesPerParameter()));
        row(out, "gradients", mem.gradientsBytes(), String.format(Locale.ROOT, "%s x %d B", Format.count(cm.parametersForMemory()), plan.optimizer().gradientBytesPerParameter()));
        row(out, "optimizer", mem.optimizerBytes(), String.format(Locale.ROOT, "%s x %d B", Format.count(cm.parametersForMemory()), plan.optimizer().stateBytesPerParameter()));
        row(out, "activations", mem.activationsBytes(), String.format(Locale.ROOT, "%d layers x %s per layer (recompute %s, b=%d)",
                m.layers(), Format.bytes(cm.layerActivationBytes(plan.recompute()) * (double) plan.tensor()),
                plan.recompute().scenarioName(), plan.microBatchSize()));
        row(out, "total", mem.totalBytes(), "");
        out.printf(Locale.ROOT, "  minimum devices  %d x %s (%s)", mem.minDevices(), Format.gb(dev.memoryBytes()), dev.name());
        Map<Long, String> others = new TreeMap<>();
        for (String name : DevicePresets.names()) {
            DeviceSpec d = DevicePresets.find(name).orElseThrow();
            if (d.memoryBytes() != dev.memoryBytes()) others.putIfAbsent(d.memoryBytes(), name);
        }
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<Long, String> e : others.entrySet()) {
            long n = (mem.totalBytes() + e.getKey() - 1) / e.getKey();
            sb.append(sb.length() == 0 ? "; " : ", ").append(n).append(" x ").append(Format.gb(e.getKey()));
        }
        out.println(sb);

        out.printf(Locale.ROOT, "%nPer pipeline rank (one step; F/B per micro-batch)%n");
        out.printf(Locale.ROOT, "  %4s %6s %10s %10s %11s %11s %7s %12s %9s%n", "rank", "layers", "F", "B+W",
                "all-reduce", "optimizer", "busy", "peak memory", "in-flight");
        for (PlanReport.Stage s : r.stages()) {
            out.printf(Locale.ROOT, "  %4d %6d %10s %10s %11s %11s %6.1f%% %12s %9d%s%n", s.index(), s.layers(),
                    Format.seconds(s.forwardSeconds()), Format.seconds(s.backwardSeconds()),
                    Format.seconds(s.allReduceSeconds()), Format.seconds(s.optimizerSeconds()), s.busyFraction() * 100,
                    Format.gb(s.peakMemoryBytes()), s.peakInFlightMicrobatches(),
                    s.peakMemoryBytes() > dev.memoryBytes() ? "  > device memory" : "");
        }

        printPeakLines(out, plan, r);

        out.printf(Locale.ROOT, "%nStep%n");
        out.printf(Locale.ROOT, "  step time        %s%n", Format.seconds(r.stepTimeSeconds()));
        out.printf(Locale.ROOT, "  bubble           %s of stage-time idle%s; Megatron's (p-1)/(v·m) = %s%n",
                Format.percent(r.bubbleFraction()), Format.fraction(r.bubbleFraction()), Format.percent(r.megatronBubbleFraction()));
        out.printf(Locale.ROOT, "  throughput       %s samples/s, %s tokens/s%n", Format.count(r.samplesPerSecond()),
                Format.count(r.tokensPerSecond()));
        out.printf(Locale.ROOT, "  MFU / HFU        %s / %s (%s per step)%n", Format.percent(r.mfu()), Format.percent(r.hfu()),
                Format.flops(r.modelFlopsPerStep()));
        out.printf(Locale.ROOT, "  fits in memory   %s%n", r.fits() ? "yes" : "NO: some rank's peak exceeds " + Format.gb(dev.memoryBytes()));

        printStageWork(out, plan, r);
    }

    /**
     * The peak memory per GPU of rank 0 (the embedding's), the fullest rank and the last (the logits'), line by line
     * (docs/memory.md); the lines add up to the per-rank table's peak exactly.
     */
    private static void printPeakLines(PrintWriter out, Plan plan, PlanReport r) {
        int fullest = 0;
        for (PlanReport.Stage s : r.stages()) if (s.peakMemoryBytes() > r.stages().get(fullest).peakMemoryBytes()) fullest = s.index();
        int last = plan.schedule().rankOf(plan.schedule().stages() - 1);
        List<PeakMemoryLines> ranks = new java.util.ArrayList<>();
        for (int rank : new java.util.TreeSet<>(List.of(0, fullest, last))) ranks.add(PeakMemoryLines.of(plan, rank));
        MemoryPolicy policy = plan.memory();
        String zero = switch (policy.zero()) {
            case NONE -> "no ZeRO";
            case OPTIMIZER -> "ZeRO 1 (distributed optimizer)";
            case GRADIENTS -> "ZeRO 2";
            case PARAMETERS -> "ZeRO 3 (full shard)";
        };
        out.printf(Locale.ROOT, "%nPeak memory per GPU, line by line (%s; memory %s: docs/memory.md)%n", zero,
                policy.complete() ? "complete" : "article, the article's lines only");
        StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "  %-19s", ""));
        for (PeakMemoryLines l : ranks) head.append(String.format(Locale.ROOT, " %13s", "rank " + l.rank() + (l.rank() == fullest ? "*" : "")));
        out.println(head);
        Map<String, String> details = new java.util.LinkedHashMap<>();
        for (PeakMemoryLines l : ranks) for (PeakMemoryLines.Line line : l.lines()) details.putIfAbsent(line.name(), line.detail());
        for (Map.Entry<String, String> e : details.entrySet()) {
            StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "  %-19s", e.getKey()));
            for (PeakMemoryLines l : ranks) {
                long bytes = l.lines().stream().filter(x -> x.name().equals(e.getKey())).mapToLong(PeakMemoryLines.Line::bytes).sum();
                row.append(String.format(Locale.ROOT, " %13s", gb3(bytes)));
            }
            out.println(row.append("   ").append(e.getValue()));
        }
        StringBuilder total = new StringBuilder(String.format(Locale.ROOT, "  %-19s", "peak"));
        for (PeakMemoryLines l : ranks) total.append(String.format(Locale.ROOT, " %13s", gb3(l.totalBytes())));
        out.println(total.append("   * the fullest rank"));
    }

    private static String gb3(long bytes) {
        return String.format(Locale.ROOT, "%,.3f GB", bytes / 1e9);
    }

    /**
     * The article's per-stage arithmetic: 6·N·tokens of work, the gradient traffic, the stash, the batch to fill.
     * The work is shown for a rank holding decoder layers only (the article ignores embeddings), the stash for rank 0.
     */
    private static void printStageWork(PrintWriter out, Plan plan, PlanReport r) {
        PlanReport.Stage first = r.stages().get(0);
        int plain = r.stages().size() > 2 && plan.virtualStages() == 1 ? 1 : 0;
        PlanReport.Stage stage = r.stages().get(plain);
        double n = stage.parameters();
        double tokens = (double) plan.microBatchSize() * plan.model().seqLength();
        double work = 6 * n * tokens;
        DeviceSpec dev = plan.device();
        LinkSpec link = plan.placement().data() > 1 ? plan.placement().dataParallelLink(0) : plan.placement().intraNode();
        double fp32Gradients = 4 * n;
        out.printf(Locale.ROOT, "%nPer stage, rank %d: %d layer(s)%s (the article's arithmetic)%n", plain, stage.layers(),
                plain == 0 ? "" : ", no embedding or output layer");
        out.printf(Locale.ROOT, "  parameters       %s (fp32 gradients %s)%n", Format.count(n), Format.gb(fp32Gradients));
        out.printf(Locale.ROOT, "  work             6 x N x tokens = %s per micro-batch -> %s at 100%% of %s%n",
                Format.flops(work), Format.seconds(work / dev.peakFlopsPerSecond()), Format.rate(dev.peakFlopsPerSecond()));
        if (!Double.isInfinite(link.bandwidthBytesPerSecond())) {
            out.printf(Locale.ROOT, "  gradient traffic %s over %s at %s = %s per pass (a reduce and a broadcast: 2 passes)%n",
                    Format.gb(fp32Gradients), link.name(), Format.bandwidth(link.bandwidthBytesPerSecond()),
                    Format.seconds(fp32Gradients / link.bandwidthBytesPerSecond()));
        }
        out.printf(Locale.ROOT, "  activation stash %d micro-batches in flight on rank 0 -> peak %s%n",
                first.peakInFlightMicrobatches(), Format.gb(first.peakMemoryBytes()));
        int p = plan.pipeline();
        out.printf(Locale.ROOT, "  to fill          m >= p = %d micro-batches of b=%d: a global batch of at least %d sequences (x d=%d)%n",
                p, plan.microBatchSize(), (long) p * plan.microBatchSize() * plan.data(), plan.data());
    }

    /**
     * Which worker JVM will host each stage under {@code pipelab run --cluster}: unlike the emulated nodes above, it is
     * deployment and changes no number of the plan. pack and spread depend on the workers found at run time.
     */
    static String jvmPlacement(Scenario.Cluster cluster) {
        String never = "; never changes these numbers";
        if (!cluster.placement().equals("explicit")) {
            return "placement " + cluster.placement() + " with pipelab run --cluster (decided at run time from the workers' slots"
                    + never + ")" + (cluster.workers().isEmpty() ? "" : "; cluster.workers is used only with --placement explicit");
        }
        StringBuilder map = new StringBuilder();
        List<List<Integer>> workers = cluster.workers();
        for (int replica = 0; replica < Math.min(workers.size(), REPLICAS_SHOWN); replica++) {
            map.append(replica == 0 ? "" : ", ").append("replica ").append(replica).append(" -> ")
                    .append(workers.get(replica).stream().map(String::valueOf).collect(Collectors.joining(" ")));
        }
        if (workers.size() > REPLICAS_SHOWN) map.append(", ... (").append(workers.size() - REPLICAS_SHOWN).append(" more)");
        return "placement explicit with pipelab run --cluster, worker index per rank (workers in address order): " + map
                + " (" + never.substring(2) + ")";
    }

    private static void row(PrintWriter out, String what, long bytes, String how) {
        out.printf(Locale.ROOT, "  %-16s %12s   %s%n", what, Format.gb(bytes), how);
    }
}
