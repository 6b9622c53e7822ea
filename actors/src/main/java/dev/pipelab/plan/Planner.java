package dev.pipelab.plan;

import dev.pipelab.model.Attention;
import dev.pipelab.model.CostModel;
import dev.pipelab.model.DevicePresets;
import dev.pipelab.model.DeviceSpec;
import dev.pipelab.model.FrameworkOverhead;
import dev.pipelab.model.LinkPresets;
import dev.pipelab.model.LinkSpec;
import dev.pipelab.model.Mlp;
import dev.pipelab.model.ModelPresets;
import dev.pipelab.model.ModelSpec;
import dev.pipelab.model.Optimizer;
import dev.pipelab.model.Partition;
import dev.pipelab.model.Recompute;
import dev.pipelab.model.Zero;
import dev.pipelab.scenario.Scenario;
import dev.pipelab.schedule.Evaluator;
import dev.pipelab.schedule.Network;
import dev.pipelab.schedule.PassTimes;
import dev.pipelab.schedule.PyTorchCsv;
import dev.pipelab.schedule.Schedule;
import dev.pipelab.schedule.ScheduleParseException;
import dev.pipelab.schedule.ScheduleText;
import dev.pipelab.schedule.ScheduleValidator;
import dev.pipelab.schedule.Schedules;
import dev.pipelab.schedule.StageCost;
import dev.pipelab.schedule.StagePlacement;
import dev.pipelab.schedule.ZeroBubbleAuto;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * Resolves a {@link Scenario} into a {@link Plan}: the one place where scenario names meet catalogs and the
 * cost model meets the schedule. Invariant: either every problem of the scenario is reported at once in a
 * {@link PlanningException}, or the returned plan is complete and its schedule valid.
 */
public final class Planner {

    /** Balanced partitions by (layers, stages, output/layer cost ratio): O(L²) each, asked for again and again by search. */
    private static final Map<List<Object>, Partition> BALANCED = new ConcurrentHashMap<>();

    private Planner() {}

    /** Resolves and validates the scenario. */
    public static Plan plan(Scenario scenario) {
        return plan(scenario, true);
    }

    /**
     * Resolves the scenario; {@code validateSchedule = false} trusts a generated schedule (the generators are
     * property-tested), which {@link Search} uses to save a dependency simulation per candidate.
     */
    static Plan plan(Scenario scenario, boolean validateSchedule) {
        return plan(scenario, validateSchedule, null);
    }

    /** As above; a non-null {@code cache} supplies generated schedules (search shares them across candidates). */
    static Plan plan(Scenario scenario, boolean validateSchedule, ScheduleCache cache) {
        List<String> problems = new ArrayList<>();
        Scenario.Hardware hw = scenario.hardware();
        Scenario.Parallelism par = scenario.parallelism();

        ModelSpec model = resolveModel(scenario, problems);
        DeviceSpec device = DevicePresets.find(hw.device()).orElse(null);
        if (device == null) problems.add("hardware.device: unknown device '" + hw.device() + "' (known: " + String.join(", ", DevicePresets.names()) + ")");
        LinkSpec intra = link("hardware.intraNode", hw.intraNode(), problems);
        LinkSpec inter = link("hardware.interNode", hw.interNode(), problems);
        Recompute recompute = Recompute.parse(scenario.training().recompute()).orElse(null);
        if (recompute == null) problems.add("training.recompute: must be one of none, selective, full, got '" + scenario.training().recompute() + "'");
        if (Attention.parse(hw.attention()).isEmpty()) problems.add("hardware.attention: must be one of materialised, flash, got '" + hw.attention() + "'");
        if (!(hw.tensorParallelOverlap() >= 0 && hw.tensorParallelOverlap() <= 1)) {
            problems.add("hardware.tensorParallelOverlap: must be in [0, 1], got " + hw.tensorParallelOverlap());
        }
        Optimizer optimizer = Optimizer.parse(scenario.training().optimizer()).orElse(null);
        if (optimizer == null) problems.add("training.optimizer: must be one of adam-mixed, adam-fp32, sgd-mixed, got '" + scenario.training().optimizer() + "'");

        int p = par.pipeline();
        int v = par.virtualStages();
        int t = par.tensor();
        int stages = p * v;
        if (model != null) {
            if (stages > model.layers()) {
                problems.add("parallelism.pipeline: " + (v > 1 ? p + " ranks x " + v + " virtual stages = " : "")
                        + stages + " stages exceed the model's " + model.layers() + " layers");
            }
            if (model.heads() % t != 0) {
                problems.add("parallelism.tensor: " + t + " must divide the model's " + model.heads() + " attention heads");
            }
        }
        if (!problems.isEmpty()) throw new PlanningException(problems);

        Partition partition = partition(scenario, model, stages, problems);
        Placement placement = new Placement(p, par.data(), t, hw.devicesPerNode(), intra, inter);
        CostModel cm = new CostModel(model, scenario.batch().microBatchSize(), t, par.sequenceParallel());
        Network network = scenario.costs().flatMap(Scenario.Costs::p2pSeconds).isPresent()
                ? profiledNetwork(scenario.costs().get().p2pSeconds().get(), cm.p2pLinkBytes(hw.p2pScatterGather()), p)
                : placement.network();
        String name = scenario.training().schedule();
        // zb-1p and zb-2p are built from the plan's own pass times, so their costs (split backward) come first
        MemoryPolicy memoryPolicy = memoryPolicy(scenario, placement);
        List<StageMemory> memory = null;
        List<StageCost> costs = null;
        Schedule schedule = null;
        if (Schedules.needsTimes(name)) {
            if (partition != null) {
                memory = StageCosts.memory(cm, model.tiedEmbeddings(), placement, recompute, optimizer, partition,
                        StagePlacement.loop(p, v), memoryPolicy);
                costs = StageCosts.of(cm, model.tiedEmbeddings(), device, placement, hw, recompute, optimizer, partition,
                        scenario.costs(), true, StagePlacement.loop(p, v), memoryPolicy.zero(), memory);
                schedule = automaticSchedule(name, p, v, scenario.batch().microBatches(), costs, network,
                        scenario.training().linkBuffer().orElse(Evaluator.UNBOUNDED), recompute, problems);
            }
        } else {
            schedule = cache != null && !name.equals("custom")
                    ? cacheLookup(cache, scenario, recompute, problems)
                    : schedule(scenario, problems, validateSchedule);
        }
        if (!problems.isEmpty()) throw new PlanningException(problems);
        if (schedule.ranks() != p || schedule.stages() != stages || schedule.microBatches() != scenario.batch().microBatches()) {
            throw new PlanningException(List.of("training.scheduleFile: the schedule has " + schedule.ranks() + " ranks, "
                    + schedule.stages() + " stages and " + schedule.microBatches() + " micro-batches; the scenario asks for "
                    + p + ", " + stages + " and " + scenario.batch().microBatches()), ScheduleText.grid(schedule));
        }
        // search's cache holds its schedules with recomputation inserted; an automatic schedule never comes from it
        if (recompute != Recompute.NONE && (cache == null || Schedules.needsTimes(name))) schedule = schedule.withRecompute();
        if (costs == null) {
            memory = StageCosts.memory(cm, model.tiedEmbeddings(), placement, recompute, optimizer, partition,
                    schedule.placement(), memoryPolicy);
            costs = StageCosts.of(cm, model.tiedEmbeddings(), device, placement, hw, recompute, optimizer, partition,
                    scenario.costs(), schedule.splitBackward(), schedule.placement(), memoryPolicy.zero(), memory);
        }
        return new Plan(scenario.name(), model, device, placement, network, v, scenario.batch().microBatchSize(),
                scenario.batch().microBatches(), par.sequenceParallel(), recompute, optimizer, hw.efficiency(),
                partition, schedule, costs, scenario.training().linkBuffer().orElse(Evaluator.UNBOUNDED),
                scenario.training().steps(), scenario.costs().isPresent(), memoryPolicy, memory);
    }

    /**
     * training.memory, parallelism.zero and hardware.frameworkOverheadGB (the schema and the cross-checks have already
     * limited them to 0..3, complete|article and no overhead with article); the overhead's default is
     * {@link FrameworkOverhead#defaultBytes}.
     */
    private static MemoryPolicy memoryPolicy(Scenario scenario, Placement placement) {
        Zero zero = Zero.of(scenario.parallelism().zero()).orElseThrow(
                () -> new PlanningException(List.of("parallelism.zero: must be 0, 1, 2 or 3, got " + scenario.parallelism().zero())));
        if (scenario.training().memory().equals("article")) return new MemoryPolicy(zero, false, 0);
        long overhead = scenario.hardware().frameworkOverheadGB()
                .map(gb -> Math.round(gb * 1e9))
                .orElse(FrameworkOverhead.defaultBytes(placement.pipeline(), placement.data(), placement.tensor()));
        return new MemoryPolicy(zero, true, overhead);
    }

    /**
     * Links whose per-message time is the profiled {@code p2pSeconds}: one entry for all, or one per rank
     * boundary (entry r is the link between rank r and rank r+1, both directions). {@code bytes} is what one link
     * carries per message (the 1/t chunk with hardware.p2pScatterGather), so that the message as sent takes the
     * measured time.
     */
    private static Network profiledNetwork(List<Double> p2pSeconds, long bytes, int p) {
        LinkSpec[] forward = new LinkSpec[p];
        for (int r = 0; r < p; r++) {
            double seconds = p2pSeconds.get(p2pSeconds.size() == 1 ? 0 : Math.min(r, p2pSeconds.size() - 1));
            forward[r] = seconds == 0 ? LinkSpec.FREE : new LinkSpec("profiled", bytes / seconds, 0.0);
        }
        // neighbours r, r+1 use boundary r; the interleaved wrap-around link (p-1 <-> 0) uses boundary p-1
        return (from, to) -> forward[Math.abs(from - to) == 1 ? Math.min(from, to) : Math.max(from, to)];
    }

    private static Schedule cacheLookup(ScheduleCache cache, Scenario scenario, Recompute recompute, List<String> problems) {
        try {
            return cache.get(scenario.training().schedule(), scenario.parallelism().pipeline(),
                    scenario.parallelism().virtualStages(), scenario.batch().microBatches(), recompute != Recompute.NONE)
                    .schedule();
        } catch (IllegalArgumentException e) {
            problems.add("training.schedule: " + e.getMessage());
            return null;
        }
    }

    /**
     * zb-1p or zb-2p for this plan: the automatic scheduler builds its candidates for the plan's pass times
     * ({@link #passTimes}) and keeps the one whose step is shortest with the plan's own per-stage costs, links and
     * link buffer (recomputation inserted as it will run), so the result is never slower in this plan than ZB-H1
     * (zb-1p) or ZB-H2 (zb-2p) at the same memory limit.
     */
    private static Schedule automaticSchedule(String name, int p, int v, int m, List<StageCost> costs, Network network,
                                              int linkBuffer, Recompute recompute, List<String> problems) {
        if (v != 1) {
            problems.add("training.schedule: " + name + " needs virtualStages 1, got " + v);
            return null;
        }
        try {
            return ZeroBubbleAuto.schedule(name, p, m, passTimes(costs, network, p), ZeroBubbleAuto.memoryLimit(name, p),
                    s -> Evaluator.evaluate(recompute != Recompute.NONE ? s.withRecompute() : s, costs, network, linkBuffer));
        } catch (IllegalArgumentException e) {
            problems.add("training.schedule: " + e.getMessage());
            return null;
        }
    }

    /**
     * The pass times zb-1p and zb-2p are built for: the slowest stage's F, B (with the recomputation that runs
     * right before it on the same rank) and W, and the slowest message between neighbouring ranks (its bytes over
     * the link's bandwidth plus the link's latency, both directions). The maximum, not the mean: the heuristic
     * (Qi et al. 2023, §3.1) assumes uniform stages and sizes the gaps it fills with W by these times; with the
     * slowest stage's times the steady state it plans keeps pace with the bottleneck stage, which sets the step's
     * pace, instead of planning gaps the bottleneck cannot honour. (The authors' runtime takes the median over
     * stages, zerobubble/runtime.py; with pipelab's stages, equal but for the embedding and the output layer at
     * the ends, the maximum is the output layer's stage.)
     */
    static PassTimes passTimes(List<StageCost> costs, Network network, int p) {
        double f = 0, b = 0, w = 0, comm = 0;
        for (StageCost sc : costs) {
            f = Math.max(f, sc.forwardSeconds());
            b = Math.max(b, sc.backwardInputSeconds() + sc.recomputeSeconds());
            w = Math.max(w, sc.backwardWeightSeconds());
        }
        for (int k = 0; k + 1 < costs.size(); k++) {
            int from = k % p, to = (k + 1) % p;
            if (from == to) continue;
            LinkSpec forward = network.link(from, to);
            LinkSpec backward = network.link(to, from);
            comm = Math.max(comm, forward.occupancySeconds(costs.get(k).sendForwardBytes()) + forward.latencySeconds());
            comm = Math.max(comm, backward.occupancySeconds(costs.get(k + 1).sendBackwardBytes()) + backward.latencySeconds());
        }
        return new PassTimes(f, b, w, comm);
    }

    private static LinkSpec link(String path, String name, List<String> problems) {
        Optional<LinkSpec> link = LinkPresets.find(name);
        if (link.isEmpty()) problems.add(path + ": unknown link '" + name + "' (known: " + String.join(", ", LinkPresets.names()) + ")");
        return link.orElse(null);
    }

    private static ModelSpec resolveModel(Scenario scenario, List<String> problems) {
        Scenario.Model m = scenario.model();
        ModelSpec base = null;
        if (m.preset().isPresent()) {
            base = ModelPresets.find(m.preset().get()).orElse(null);
            if (base == null) {
                problems.add("model.preset: unknown preset '" + m.preset().get() + "' (known: " + String.join(", ", ModelPresets.names()) + ")");
                return null;
            }
        }
        String name = base != null ? base.name() : scenario.name();
        Integer layers = m.layers().orElse(base != null ? base.layers() : null);
        Integer hidden = m.hidden().orElse(base != null ? base.hidden() : null);
        Integer heads = m.heads().orElse(base != null ? base.heads() : null);
        Integer ffn = m.ffn().orElse(base != null ? base.ffnHidden() : null);
        Integer vocab = m.vocab().orElse(base != null ? base.vocab() : null);
        Integer seq = m.seqLength().orElse(base != null ? base.seqLength() : null);
        List<String> missing = new ArrayList<>();
        if (layers == null) missing.add("layers");
        if (hidden == null) missing.add("hidden");
        if (heads == null) missing.add("heads");
        if (ffn == null) missing.add("ffn");
        if (vocab == null) missing.add("vocab");
        if (seq == null) missing.add("seqLength");
        if (!missing.isEmpty()) {
            problems.add("model: a model without a preset must give " + String.join(", ", missing));
            return null;
        }
        int kvHeads = m.kvHeads().orElse(base != null && m.heads().isEmpty() ? base.kvHeads() : heads);
        Mlp mlp = m.mlp().map(s -> Mlp.valueOf(s.toUpperCase(Locale.ROOT))).orElse(base != null ? base.mlp() : Mlp.GELU);
        boolean tied = m.tiedEmbeddings().orElse(base != null && base.tiedEmbeddings());
        OptionalDouble override = m.parameters().isPresent() ? OptionalDouble.of(m.parameters().get())
                : (base != null ? base.parametersOverride() : OptionalDouble.empty());
        try {
            return new ModelSpec(name, layers, hidden, heads, kvHeads, ffn, vocab, seq, mlp, tied, override);
        } catch (IllegalArgumentException e) {
            problems.add("model: " + e.getMessage());
            return null;
        }
    }

    private static Partition partition(Scenario scenario, ModelSpec model, int stages, List<String> problems) {
        Scenario.Parallelism par = scenario.parallelism();
        try {
            if (par.layersPerStage().isPresent()) return Partition.explicit(par.layersPerStage().get(), model.layers());
            if (par.partition().equals("balanced")) {
                // the first stage also holds the embedding (a lookup: its parameters, no GEMM), the last the
                // output layer, whose GEMM costs about V/(12h)... of a layer: weigh by forward FLOPs
                CostModel cm = new CostModel(model, scenario.batch().microBatchSize(), scenario.parallelism().tensor(), par.sequenceParallel());
                // both costs scale with b/t alike, so the split depends on their ratio only: computed once per shape
                double ratio = cm.outputLayerForwardFlops() / cm.layerForwardFlops();
                return BALANCED.computeIfAbsent(List.of(model.layers(), stages, ratio),
                        k -> Partition.balanced(model.layers(), stages, 1.0, 0.0, ratio));
            }
            return Partition.uniform(model.layers(), stages);
        } catch (IllegalArgumentException e) {
            problems.add("parallelism.layersPerStage: " + e.getMessage());
            return null;
        }
    }

    private static Schedule schedule(Scenario scenario, List<String> problems, boolean validate) {
        Scenario.Training tr = scenario.training();
        int p = scenario.parallelism().pipeline();
        int v = scenario.parallelism().virtualStages();
        int m = scenario.batch().microBatches();
        Schedule schedule;
        if (tr.schedule().equals("custom")) {
            Path file = Path.of(tr.scheduleFile().orElseThrow());
            try {
                // a .csv is PyTorch's schedule file (torch.distributed.pipelining), anything else pipelab's text form
                String text = Files.readString(file);
                schedule = file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".csv")
                        ? PyTorchCsv.parse(text, file.toString()) : ScheduleText.parse(text, file.toString());
            } catch (IOException e) {
                problems.add("training.scheduleFile: cannot read " + file + ": " + e.getMessage());
                return null;
            } catch (ScheduleParseException e) {
                problems.add("training.scheduleFile: " + e.getMessage());
                return null;
            }
        } else {
            try {
                schedule = Schedules.byName(tr.schedule(), p, v, m);
            } catch (IllegalArgumentException e) {
                problems.add("training.schedule: " + e.getMessage());
                return null;
            }
        }
        if (!validate && !tr.schedule().equals("custom")) return schedule;
        ScheduleValidator.Result result = ScheduleValidator.validate(schedule);
        if (!result.isValid()) {
            throw new PlanningException(List.of("training.schedule: the " + schedule.name() + " schedule is not valid"), result.render());
        }
        return schedule;
    }

}
