package dev.pipelab.scenario;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pipelab.fault.Fault;
import dev.pipelab.fault.FaultProblem;
import dev.pipelab.fault.FaultSyntax;
import dev.pipelab.fault.RandomFaults;
import dev.pipelab.fault.RandomFaultsSyntax;
import dev.pipelab.fault.RecoverySpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Binds a tree that passed the schema and the cross-field rules to a {@link Scenario}, filling every
 * documented default, so the result holds no null; the errors left to find here are a whole number too
 * large for its field, the rules of a fault entry the schema cannot say (a kind's own parameter and range, a duration
 * or a heal: {@link FaultSyntax}), the rules of {@code faults.random} ({@link RandomFaultsSyntax}), and
 * {@code recovery.elastic: true}, which is not supported yet.
 */
final class Binder {

    /** Turns a fault entry's tree into the plain map {@link FaultSyntax#fromMap} reads. */
    private static final ObjectMapper MAPS = new ObjectMapper();

    private final ScenarioSource source;
    private final List<ScenarioError> errors = new ArrayList<>();

    private Binder(ScenarioSource source) {
        this.source = source;
    }

    /** The bound scenario, or the errors (never both). */
    record Result(Optional<Scenario> scenario, List<ScenarioError> errors) {}

    static Result bind(JsonNode tree, ScenarioSource source, String defaultName) {
        Binder b = new Binder(source);
        Scenario s = b.scenario(tree, defaultName);
        return b.errors.isEmpty() ? new Result(Optional.of(s), List.of()) : new Result(Optional.empty(), List.copyOf(b.errors));
    }

    private Scenario scenario(JsonNode t, String defaultName) {
        String name = t.path("name").isTextual() ? t.path("name").textValue() : defaultName;
        JsonNode m = t.path("model");
        Scenario.Model model = new Scenario.Model(
                text(m, "preset"), optInt(m, "model", "seqLength"), optDouble(m, "parameters"),
                optInt(m, "model", "layers"), optInt(m, "model", "hidden"), optInt(m, "model", "heads"),
                optInt(m, "model", "kvHeads"), optInt(m, "model", "ffn"), optInt(m, "model", "vocab"),
                text(m, "mlp"), m.has("tiedEmbeddings") ? Optional.of(m.path("tiedEmbeddings").booleanValue()) : Optional.empty());
        JsonNode h = t.path("hardware");
        Scenario.Hardware hardware = new Scenario.Hardware(
                h.path("device").asText(), integer(h, "hardware", "devicesPerNode", 8),
                text(h, "intraNode").orElse("nvlink3"), text(h, "interNode").orElse("ib-hdr"),
                h.has("efficiency") ? h.path("efficiency").doubleValue() : 0.5, text(h, "attention").orElse("materialised"),
                h.has("tensorParallelOverlap") ? h.path("tensorParallelOverlap").doubleValue() : 0.0,
                h.path("dataParallelOverlap").asBoolean(false), optDouble(h, "frameworkOverheadGB"),
                h.path("p2pScatterGather").asBoolean(false));
        JsonNode p = t.path("parallelism");
        Optional<List<Integer>> perStage = Optional.empty();
        if (p.path("layersPerStage").isArray()) {
            List<Integer> counts = new ArrayList<>();
            JsonNode list = p.path("layersPerStage");
            for (int i = 0; i < list.size(); i++) {
                counts.add(whole(list.get(i), ScenarioSource.item("parallelism.layersPerStage", i)));
            }
            perStage = Optional.of(List.copyOf(counts));
        }
        Scenario.Parallelism parallelism = new Scenario.Parallelism(
                integer(p, "parallelism", "pipeline", 1), integer(p, "parallelism", "data", 1),
                integer(p, "parallelism", "tensor", 1), integer(p, "parallelism", "virtualStages", 1),
                p.path("sequenceParallel").asBoolean(false), text(p, "partition").orElse("uniform"), perStage,
                integer(p, "parallelism", "zero", 0));
        JsonNode b = t.path("batch");
        Scenario.Batch batch = new Scenario.Batch(integer(b, "batch", "microBatchSize", 1), integer(b, "batch", "microBatches", 1));
        JsonNode tr = t.path("training");
        Optional<String> scheduleFile = text(tr, "scheduleFile").map(f -> {
            Path resolved = CrossCheck.resolve(source.folder(), f);
            return resolved == null ? f : resolved.toString();
        });
        Scenario.Training training = new Scenario.Training(
                text(tr, "schedule").orElse("1f1b"), text(tr, "recompute").orElse("none"),
                text(tr, "optimizer").orElse("adam-mixed"), integer(tr, "training", "steps", 1),
                optInt(tr, "training", "linkBuffer"), scheduleFile, text(tr, "onOutOfMemory").orElse("warn"),
                text(tr, "numerics").orElse("emulated"), text(tr, "memory").orElse("complete"));
        Optional<Scenario.Costs> costs = Optional.empty();
        if (t.path("costs").isObject()) {
            JsonNode c = t.path("costs");
            costs = Optional.of(new Scenario.Costs(seconds(c, "forwardSeconds"), seconds(c, "backwardInputSeconds"),
                    seconds(c, "backwardWeightSeconds"), seconds(c, "recomputeSeconds"), seconds(c, "p2pSeconds"),
                    optDouble(c, "allReduceSeconds"), optDouble(c, "optimizerSeconds")));
        }
        long seed = 0;
        if (t.has("seed")) {
            JsonNode s = t.path("seed");
            if (s.isIntegralNumber() && s.canConvertToLong() || !s.isIntegralNumber() && Math.abs(s.doubleValue()) < 0x1p63) {
                seed = s.longValue();
            } else {
                errors.add(source.errorAt("seed", "must be between " + Long.MIN_VALUE + " and " + Long.MAX_VALUE + ", got " + Values.number(s)));
            }
        }
        Optional<Scenario.Real> real = Optional.empty();
        if (t.path("real").isObject()) real = Optional.of(real(t.path("real"), seed));
        Scenario.Telemetry telemetry = new Scenario.Telemetry(text(t.path("telemetry"), "level").orElse("auto"));
        List<List<Integer>> workers = new ArrayList<>();
        JsonNode map = t.path("cluster").path("workers");
        for (int replica = 0; replica < map.size(); replica++) {
            List<Integer> ranks = new ArrayList<>();
            JsonNode row = map.get(replica);
            for (int rank = 0; rank < row.size(); rank++) {
                ranks.add(whole(row.get(rank), ScenarioSource.item(ScenarioSource.item("cluster.workers", replica), rank)));
            }
            workers.add(ranks);
        }
        Scenario.Cluster cluster = new Scenario.Cluster(text(t.path("cluster"), "placement").orElse("pack"), workers);
        JsonNode f = t.path("faults");
        // faults: is a list of entries, or a mapping of the rate model (random) and the entries (list)
        boolean mapping = f.isObject();
        return new Scenario(name, model, hardware, parallelism, batch, training, costs, seed, real, telemetry, cluster,
                faults(mapping ? f.path("list") : f, mapping ? "faults.list" : "faults"), recovery(t.path("recovery")),
                randomFaults(f.path("random"), seed));
    }

    /**
     * The {@code faults:} entries, read by {@link FaultSyntax#fromMap} (the reader {@code --fault} and the faults API share),
     * each problem located at its key; the schema has already checked the keys and their types.
     */
    private List<Fault> faults(JsonNode list, String at) {
        List<Fault> faults = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            String where = ScenarioSource.item(at, i);
            Map<String, Object> entry = MAPS.convertValue(list.get(i), new TypeReference<LinkedHashMap<String, Object>>() {});
            FaultSyntax.Parsed parsed = FaultSyntax.fromMap(entry, where);
            parsed.fault().ifPresent(faults::add);
            for (FaultProblem p : parsed.problems()) errors.add(source.errorAt(p.path(), p.message()));
        }
        return List.copyOf(faults);
    }

    /** The {@code faults.random:} rate model, read by {@link RandomFaultsSyntax}, each problem located at its key. */
    private Optional<RandomFaults> randomFaults(JsonNode section, long seed) {
        if (!section.isObject()) return Optional.empty();
        Map<String, Object> map = MAPS.convertValue(section, new TypeReference<LinkedHashMap<String, Object>>() {});
        RandomFaultsSyntax.Parsed parsed = RandomFaultsSyntax.fromMap(map, "faults.random", seed);
        for (FaultProblem p : parsed.problems()) errors.add(source.errorAt(p.path(), p.message()));
        return parsed.faults();
    }

    /** The {@code recovery:} settings, each absent one at its default ({@link RecoverySpec#NONE}). */
    private RecoverySpec recovery(JsonNode r) {
        RecoverySpec d = RecoverySpec.NONE;
        if (r.path("elastic").asBoolean(false)) {
            errors.add(source.errorAt("recovery.elastic", "true is not supported yet: a failed stage is restarted in place "
                    + "(leave it out or write false)"));
        }
        return new RecoverySpec(integer(r, "recovery", "checkpointEverySteps", d.checkpointEverySteps()),
                r.path("storageGBps").isNumber() ? r.path("storageGBps").doubleValue() * 1e9 : d.storageBytesPerSecond(),
                number(r, "detectSeconds", d.detectSeconds()), number(r, "restartSeconds", d.restartSeconds()),
                number(r, "retransmitSeconds", d.retransmitSeconds()), number(r, "timeoutSeconds", d.timeoutSeconds()),
                integer(r, "recovery", "maxRestarts", d.maxRestarts()), false);
    }

    private Scenario.Real real(JsonNode r, long seed) {
        JsonNode m = r.path("model");
        JsonNode d = r.path("data");
        JsonNode o = r.path("optimizer");
        String kind = m.path("kind").asText();
        long dataSeed = d.path("seed").isIntegralNumber() && d.path("seed").canConvertToLong() ? d.path("seed").longValue() : seed;
        if (d.has("seed") && !(d.path("seed").isIntegralNumber() && d.path("seed").canConvertToLong())) {
            errors.add(source.errorAt("real.data.seed", "must be between " + Long.MIN_VALUE + " and " + Long.MAX_VALUE + ", got "
                    + Values.number(d.path("seed"))));
        }
        return new Scenario.Real(kind, integer(m, "real.model", "width", 1), integer(m, "real.model", "layers", 1),
                integer(m, "real.model", "inputs", 16), integer(m, "real.model", "outputs", 8),
                integer(m, "real.model", "vocab", 16), integer(m, "real.model", "sequenceLength", 8),
                integer(m, "real.model", "heads", 2), text(m, "activation").orElse("gelu"), m.path("layerNorm").asBoolean(true),
                text(m, "loss").orElse("cross-entropy"),
                text(d, "kind").orElse(kind.equals("mlp") ? "teacher" : "sequences"), dataSeed,
                text(o, "kind").orElse("adam"), number(o, "learningRate", 0.001), number(o, "momentum", 0.9),
                number(o, "beta1", 0.9), number(o, "beta2", 0.999), number(o, "epsilon", 1e-8),
                text(r, "allReduce").orElse("canonical"), text(r, "weightsOut"));
    }

    private static double number(JsonNode parent, String key, double fallback) {
        JsonNode v = parent.path(key);
        return v.isNumber() ? v.doubleValue() : fallback;
    }

    private static Optional<String> text(JsonNode parent, String key) {
        JsonNode v = parent.path(key);
        return v.isTextual() ? Optional.of(v.textValue()) : Optional.empty();
    }

    private static Optional<Double> optDouble(JsonNode parent, String key) {
        JsonNode v = parent.path(key);
        return v.isNumber() ? Optional.of(v.doubleValue()) : Optional.empty();
    }

    private Optional<Integer> optInt(JsonNode parent, String at, String key) {
        JsonNode v = parent.path(key);
        return v.isNumber() ? Optional.of(whole(v, at + "." + key)) : Optional.empty();
    }

    private int integer(JsonNode parent, String at, String key, int fallback) {
        JsonNode v = parent.path(key);
        return v.isNumber() ? whole(v, at + "." + key) : fallback;
    }

    private int whole(JsonNode v, String path) {
        OptionalInt i = Values.integer(v);
        if (i.isEmpty()) {
            errors.add(source.errorAt(path, "must be <= " + Integer.MAX_VALUE + ", got " + Values.number(v)));
            return 0;
        }
        return i.getAsInt();
    }

    /** A number or a list of numbers, as a list (a number is a one-entry list). */
    private static Optional<List<Double>> seconds(JsonNode parent, String key) {
        JsonNode v = parent.path(key);
        if (v.isNumber()) {
            return Optional.of(List.of(v.doubleValue()));
        }
        if (v.isArray()) {
            List<Double> out = new ArrayList<>();
            v.forEach(n -> out.add(n.doubleValue()));
            return Optional.of(List.copyOf(out));
        }
        return Optional.empty();
    }
}
