package dev.pipelab.scenario;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;

/**
 * The rules that tie several keys of one file together (stages vs. layers, schedule vs. virtual stages, list
 * lengths vs. stages); each rule reads only values the schema would accept, so a value the schema already
 * rejected never causes a second, derived error.
 */
final class CrossCheck {

    /** Keys a model without a preset must give. */
    static final List<String> CUSTOM_MODEL_KEYS = List.of("layers", "hidden", "heads", "ffn", "vocab", "seqLength");

    /** Schedules that run one model stage per device. */
    private static final Set<String> ONE_STAGE_SCHEDULES = Set.of("gpipe", "1f1b", "zb-h1", "zb-h2", "zb-1p", "zb-2p");
    /** Schedules with two stages per rank placed as a V (Schedules.V_SHAPED). */
    private static final Set<String> V_SCHEDULES = Set.of("zb-v", "dualpipev");

    private static final List<String> COST_LISTS = List.of(
            "forwardSeconds", "backwardInputSeconds", "backwardWeightSeconds", "recomputeSeconds", "p2pSeconds");

    private CrossCheck() {}

    /** training.numerics: real needs the real section, p·v within its layers, a fitting data kind and a ring all-reduce. */
    private static void realNumerics(JsonNode tree, ScenarioSource source, OptionalInt stages, String stagesText,
                                     List<ScenarioError> errors) {
        JsonNode real = tree.path("real");
        boolean on = "real".equals(tree.path("training").path("numerics").asText());
        if (!on) return;
        if (!real.isObject()) {
            errors.add(source.errorAt("training.numerics", "is real, so the scenario needs a real section (the model to train)"));
            return;
        }
        JsonNode m = real.path("model");
        OptionalInt layers = Values.count(m.path("layers"));
        if (stages.isPresent() && layers.isPresent() && stages.getAsInt() > layers.getAsInt()) {
            errors.add(source.errorAt("real.model.layers", "must be at least the " + stages.getAsInt() + " model stages ("
                    + (stagesText.isEmpty() ? "p·v" : stagesText) + "), got " + layers.getAsInt()));
        }
        String kind = m.path("kind").asText();
        OptionalInt width = Values.count(m.path("width"));
        OptionalInt heads = m.has("heads") ? Values.count(m.path("heads")) : OptionalInt.of(2);
        if (kind.equals("transformer") && width.isPresent() && heads.isPresent() && width.getAsInt() % heads.getAsInt() != 0) {
            errors.add(source.errorAt("real.model.width", "must be a multiple of real.model.heads = " + heads.getAsInt()
                    + ", got " + width.getAsInt()));
        }
        if (kind.equals("transformer") && m.has("loss") && !m.path("loss").asText().equals("cross-entropy")) {
            errors.add(source.errorAt("real.model.loss", "must be cross-entropy for a transformer, got " + m.path("loss").asText()));
        }
        String data = real.path("data").path("kind").asText("");
        if (!data.isEmpty() && !data.equals(kind.equals("mlp") ? "teacher" : "sequences")) {
            errors.add(source.errorAt("real.data.kind", "must be " + (kind.equals("mlp") ? "teacher for an mlp" : "sequences for a transformer")
                    + ", got " + data));
        }
        if (tree.path("costs").has("allReduceSeconds")) {
            errors.add(source.errorAt("costs.allReduceSeconds", "cannot be given in real-numerics mode: the gradients really travel "
                    + "the ring (2(d-1) messages)"));
        }
        if (tree.path("parallelism").path("zero").asInt(0) == 3) {
            errors.add(source.errorAt("parallelism.zero", "cannot be 3 in real-numerics mode: the real ring all-reduces the "
                    + "gradients (2(d-1) messages), it does not gather sharded parameters"));
        }
    }

    /** training.memory: article counts the article's lines only, so it takes no framework overhead. */
    private static void articleMemory(JsonNode tree, ScenarioSource source, List<ScenarioError> errors) {
        if ("article".equals(tree.path("training").path("memory").asText()) && tree.path("hardware").has("frameworkOverheadGB")) {
            errors.add(source.errorAt("hardware.frameworkOverheadGB", "cannot be given with training.memory: article (the article's "
                    + "assumptions count no framework overhead); remove one of the two"));
        }
    }

    static List<ScenarioError> check(JsonNode tree, ScenarioSource source) {
        List<ScenarioError> errors = new ArrayList<>();
        JsonNode model = tree.path("model");
        JsonNode par = tree.path("parallelism");
        JsonNode training = tree.path("training");
        OptionalInt layers = Values.count(model.path("layers"));
        OptionalInt p = Values.count(par.path("pipeline"));
        OptionalInt v = par.has("virtualStages") ? Values.count(par.path("virtualStages")) : OptionalInt.of(1);
        OptionalInt t = par.has("tensor") ? Values.count(par.path("tensor")) : OptionalInt.of(1);
        OptionalInt stages = p.isPresent() && v.isPresent() ? OptionalInt.of(p.getAsInt() * v.getAsInt()) : OptionalInt.empty();
        String stagesText = p.isPresent() && v.isPresent() ? "pipeline·virtualStages = " + p.getAsInt() + "·" + v.getAsInt() : "";

        if (model.isObject() && !model.has("preset")) {
            for (String key : CUSTOM_MODEL_KEYS) {
                if (!model.has(key)) {
                    errors.add(source.error("model." + key, "model", false, "is required for a custom model (no model.preset)"));
                }
            }
        }

        if (stages.isPresent() && layers.isPresent() && stages.getAsInt() > layers.getAsInt()) {
            errors.add(source.errorAt("parallelism.pipeline", v.getAsInt() == 1
                    ? stages.getAsInt() + " stages exceed the model's " + layers.getAsInt() + " layers"
                    : stages.getAsInt() + " model stages (" + stagesText + ") exceed the model's " + layers.getAsInt() + " layers"));
        }

        realNumerics(tree, source, stages, stagesText, errors);
        articleMemory(tree, source, errors);

        OptionalInt heads = Values.count(model.path("heads"));
        OptionalInt kvHeads = Values.count(model.path("kvHeads"));
        if (heads.isPresent() && kvHeads.isPresent() && heads.getAsInt() % kvHeads.getAsInt() != 0) {
            errors.add(source.errorAt("model.heads", "must be a multiple of model.kvHeads = " + kvHeads.getAsInt()
                    + ", got " + heads.getAsInt()));
        }
        if (heads.isPresent() && t.isPresent() && heads.getAsInt() % t.getAsInt() != 0) {
            errors.add(source.errorAt("model.heads", "must be a multiple of parallelism.tensor = " + t.getAsInt()
                    + ", got " + heads.getAsInt()));
        }

        JsonNode perStage = par.path("layersPerStage");
        if (perStage.isArray() && perStage.size() > 0) {
            if (stages.isPresent() && perStage.size() != stages.getAsInt()) {
                errors.add(source.errorAt("parallelism.layersPerStage", "must have " + stages.getAsInt() + " "
                        + entries(stages.getAsInt()) + " (" + stagesText + "), got " + perStage.size()));
            }
            long sum = 0;
            boolean allCounts = true;
            for (JsonNode n : perStage) {
                OptionalInt c = Values.count(n);
                allCounts &= c.isPresent();
                sum += c.orElse(0);
            }
            if (allCounts && layers.isPresent() && sum != layers.getAsInt()) {
                errors.add(source.errorAt("parallelism.layersPerStage", "must sum to model.layers = "
                        + layers.getAsInt() + ", got " + sum));
            }
        }

        String schedule = training.path("schedule").isTextual() ? training.path("schedule").textValue() : "1f1b";
        if (v.isPresent()) {
            if (schedule.equals("interleaved") && v.getAsInt() < 2) {
                errors.add(source.errorAt("parallelism.virtualStages", "must be >= 2 for schedule 'interleaved', got " + v.getAsInt()));
            } else if (ONE_STAGE_SCHEDULES.contains(schedule) && v.getAsInt() != 1) {
                errors.add(source.errorAt("parallelism.virtualStages", "must be 1 for schedule '" + schedule + "', got " + v.getAsInt()));
            } else if (V_SCHEDULES.contains(schedule) && v.getAsInt() != 2) {
                errors.add(source.errorAt("parallelism.virtualStages", "must be 2 for schedule '" + schedule
                        + "' (two stages per rank, placed as a V), got " + v.getAsInt()));
            }
        }
        if (schedule.equals("custom")) {
            JsonNode file = training.path("scheduleFile");
            if (training.path("scheduleFile").isMissingNode()) {
                errors.add(source.error("training.scheduleFile", "training.schedule", false, "is required for schedule 'custom'"));
            } else if (file.isTextual() && !file.textValue().isEmpty()) {
                Path resolved = resolve(source.folder(), file.textValue());
                if (resolved == null) {
                    errors.add(source.errorAt("training.scheduleFile", "must be a file path, got \"" + file.textValue() + "\""));
                } else if (!Files.isRegularFile(resolved)) {
                    errors.add(source.errorAt("training.scheduleFile", "must name an existing file, got \"" + file.textValue()
                            + "\" (" + resolved + " does not exist)"));
                }
            }
        }

        clusterWorkers(tree, source, p, errors);

        JsonNode costs = tree.path("costs");
        for (String key : COST_LISTS) {
            JsonNode list = costs.path(key);
            if (list.isArray() && list.size() > 1 && stages.isPresent() && list.size() != stages.getAsInt()) {
                errors.add(source.errorAt("costs." + key, "must have 1 or " + stages.getAsInt() + " entries ("
                        + stagesText + "), got " + list.size()));
            }
        }
        return errors;
    }

    /**
     * cluster.placement: explicit needs cluster.workers, and the map has one list per replica of one worker index per
     * rank. Which indexes exist is known only at run time, when the workers are found.
     */
    private static void clusterWorkers(JsonNode tree, ScenarioSource source, OptionalInt p, List<ScenarioError> errors) {
        JsonNode cluster = tree.path("cluster");
        JsonNode workers = cluster.path("workers");
        if ("explicit".equals(cluster.path("placement").asText()) && workers.isMissingNode()) {
            errors.add(source.errorAt("cluster.placement", "is explicit, so the scenario needs cluster.workers (the worker "
                    + "index of each replica's ranks, e.g. [[0, 0, 1, 1]])"));
        }
        if (!workers.isArray()) return;
        JsonNode par = tree.path("parallelism");
        OptionalInt d = par.has("data") ? Values.count(par.path("data")) : OptionalInt.of(1);
        if (d.isPresent() && workers.size() > 0 && workers.size() != d.getAsInt()) {
            errors.add(source.errorAt("cluster.workers", "must have one list per replica (parallelism.data = " + d.getAsInt()
                    + "), got " + workers.size()));
        }
        for (int replica = 0; replica < workers.size(); replica++) {
            JsonNode ranks = workers.get(replica);
            if (ranks.isArray() && ranks.size() > 0 && p.isPresent() && ranks.size() != p.getAsInt()) {
                errors.add(source.errorAt(ScenarioSource.item("cluster.workers", replica), "must have one worker index per rank "
                        + "(parallelism.pipeline = " + p.getAsInt() + "), got " + ranks.size()));
            }
        }
    }

    /** The absolute, normalized path of {@code name} relative to {@code folder}, or null when not a path. */
    static Path resolve(Path folder, String name) {
        try {
            return folder.resolve(name).toAbsolutePath().normalize();
        } catch (InvalidPathException e) {
            return null;
        }
    }

    private static String entries(int n) {
        return n == 1 ? "entry" : "entries";
    }
}
