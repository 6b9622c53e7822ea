package dev.pipelab.monitoring.report;

import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.pipelab.monitoring.Event;
import dev.pipelab.monitoring.FaultSummary;
import dev.pipelab.monitoring.Ledger;
import dev.pipelab.monitoring.LinkStats;
import dev.pipelab.monitoring.MemoryInfo;
import dev.pipelab.monitoring.Phase;
import dev.pipelab.monitoring.RunInfo;
import dev.pipelab.monitoring.StepStats;
import dev.pipelab.monitoring.StepSummary;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalDouble;

/**
 * Writes a {@link RunReport} as {@code report.json}. Invariant: the same report gives the same bytes on every
 * machine: keys in a fixed order written out here, two-space indent, {@code \n} line ends, doubles in Java's
 * shortest round-tripping form, and {@code wallClock} as the last key so the rest can be compared alone. The run's
 * outcome ({@code status}, and {@code failure} when it did not complete) comes just before it, then a cluster run's
 * {@code placement} (absent for an embedded run).
 */
public final class ReportJson {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final ObjectWriter WRITER = MAPPER.writer(new DefaultPrettyPrinter()
            .withSeparators(Separators.createDefaultInstance()
                    .withObjectFieldValueSpacing(Separators.Spacing.AFTER))
            .withObjectIndenter(new DefaultIndenter("  ", "\n"))
            .withArrayIndenter(new DefaultIndenter("  ", "\n")));

    private ReportJson() {}

    /** The report as JSON text ending in a newline. */
    public static String toJson(RunReport report) {
        try {
            return WRITER.writeValueAsString(tree(report)) + "\n";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes {@code report.json} (UTF-8) to {@code file}. */
    public static void write(RunReport report, Path file) throws IOException {
        Files.writeString(file, toJson(report), StandardCharsets.UTF_8);
    }

    /** The report as a JSON tree, keys in report order. */
    public static ObjectNode tree(RunReport r) {
        ObjectNode root = MAPPER.createObjectNode();
        root.put("name", r.name());
        root.put("schedule", r.schedule());
        root.put("clock", r.clock());
        root.put("speed", r.speed());
        RunInfo info = r.info();
        ObjectNode plan = root.putObject("plan");
        plan.put("pipeline", info.pipeline());
        plan.put("data", info.data());
        plan.put("tensor", info.tensor());
        plan.put("virtualStages", info.virtualStages());
        plan.put("microBatchSize", info.microBatchSize());
        plan.put("microBatches", info.microBatches());
        plan.put("seqLength", info.seqLength());
        plan.put("devices", info.devices());
        root.put("completedSteps", r.completedSteps());
        root.put("runSeconds", r.runSeconds());
        root.put("stepTimeSeconds", r.stepTimeSeconds());
        root.put("lastStepTimeSeconds", r.lastStepTimeSeconds());
        root.put("bubbleFraction", r.bubbleFraction());
        root.put("samplesPerSecond", r.samplesPerSecond());
        root.put("tokensPerSecond", r.tokensPerSecond());
        root.put("mfu", r.mfu());
        root.put("hfu", r.hfu());
        if (r.memory().isPresent()) {
            MemoryInfo m = r.memory().get();
            ObjectNode memory = root.putObject("memory");
            memory.put("parametersBytes", m.parametersBytes());
            memory.put("gradientsBytes", m.gradientsBytes());
            memory.put("optimizerBytes", m.optimizerBytes());
            memory.put("activationsBytes", m.activationsBytes());
            memory.put("totalBytes", m.totalBytes());
        } else {
            root.putNull("memory");
        }
        ArrayNode stages = root.putArray("stages");
        for (RunReport.Stage s : r.stages()) {
            ObjectNode o = stages.addObject();
            o.put("index", s.index());
            o.put("layers", s.layers());
            o.put("busyFraction", s.busyFraction());
            o.put("peakMemoryBytes", s.peakMemoryBytes());
            o.put("peakInFlightMicrobatches", s.peakInFlightMicrobatches());
            ObjectNode phases = o.putObject("busySecondsByPhase");
            for (Phase phase : Phase.values()) phases.put(phase.name(), s.busySecondsByPhase().get(phase));
            ArrayNode replicas = o.putArray("replicas");
            for (RunReport.Replica rep : s.replicas()) {
                ObjectNode ro = replicas.addObject();
                ro.put("replica", rep.replica());
                ro.put("busyFraction", rep.busyFraction());
                ro.put("peakMemoryBytes", rep.peakMemoryBytes());
                ro.put("peakInFlightMicrobatches", rep.peakInFlightMicrobatches());
            }
        }
        ArrayNode links = root.putArray("links");
        for (LinkStats l : r.links()) {
            ObjectNode o = links.addObject();
            o.put("replica", l.replica());
            o.put("from", l.fromRank());
            o.put("to", l.toRank());
            o.put("bytes", l.bytes());
            o.put("transfers", l.transfers());
            o.put("busySeconds", l.busySeconds());
            o.put("stallSeconds", l.stallSeconds());
            o.put("maxQueueDepth", l.maxQueueDepth());
        }
        ArrayNode allReduce = root.putArray("allReduce");
        for (RunReport.AllReduce a : r.allReduce()) {
            ObjectNode o = allReduce.addObject();
            o.put("stage", a.stage());
            o.put("bytes", a.bytes());
            o.put("seconds", a.seconds());
        }
        ArrayNode steps = root.putArray("steps");
        for (StepStats s : r.steps()) {
            ObjectNode o = steps.addObject();
            o.put("step", s.step());
            o.put("stepTimeSeconds", s.stepSeconds());
            o.put("runSeconds", s.runSeconds());
            o.put("samplesPerSecond", s.samplesPerSecond());
            o.put("bubbleFraction", s.bubbleFraction());
            o.put("committedOffset", s.committedOffset());
        }
        faults(root.putArray("faults"), r.faults());
        recovery(root.putObject("recovery"), r.recovery());
        ArrayNode oom = root.putArray("outOfMemory");
        for (StepSummary.OutOfMemory e : r.outOfMemory()) {
            ObjectNode o = oom.addObject();
            o.put("step", e.step());
            o.put("replica", e.replica());
            o.put("rank", e.rank());
            o.put("atSeconds", e.atSeconds());
            o.put("bytes", e.bytes());
            o.put("capacityBytes", e.capacityBytes());
        }
        if (!r.loss().isEmpty()) {
            ArrayNode loss = root.putArray("loss");
            r.loss().forEach(loss::add);
        }
        root.put("status", r.outcome().status().label());
        r.outcome().failure().ifPresent(f -> root.put("failure", f));
        if (!r.placement().isEmpty()) {
            ArrayNode placement = root.putArray("placement");
            for (RunReport.Placed p : r.placement()) {
                placement.addObject().put("replica", p.replica()).put("rank", p.rank()).put("node", p.node());
            }
        }
        ObjectNode wall = root.putObject("wallClock");
        wall.put("startedAt", r.wallClock().startedAt());
        wall.put("wallSeconds", r.wallClock().wallSeconds());
        return root;
    }

    /** Every fault: what, where, when it began and healed, and when a recovery it caused detected and ended it. */
    private static void faults(ArrayNode out, List<FaultSummary.Fault> faults) {
        for (FaultSummary.Fault f : faults) {
            ObjectNode o = out.addObject();
            o.put("index", f.index());
            o.put("kind", f.kind());
            o.put("target", f.target());
            o.put("description", f.description());
            o.put("injectedAtSeconds", f.injectedAtSeconds());
            seconds(o, "healedAtSeconds", f.healedAtSeconds());
            seconds(o, "detectedAtSeconds", f.detectedAtSeconds());
            seconds(o, "recoveredAtSeconds", f.recoveredAtSeconds());
            o.put("lostWorkSeconds", f.lostWorkSeconds());
            o.put("recoveries", f.recoveries().size());
        }
    }

    private static void seconds(ObjectNode o, String key, OptionalDouble value) {
        if (value.isPresent()) o.put(key, value.getAsDouble());
        else o.putNull(key);
    }

    /** Recoveries, checkpoints, the cost of both, goodput and the ledger (null when the run recorded no commits). */
    private static void recovery(ObjectNode o, RunReport.Recovery r) {
        ArrayNode recoveries = o.putArray("recoveries");
        for (Event.Recovered e : r.recoveries()) {
            ObjectNode x = recoveries.addObject();
            x.put("attempt", e.step());
            if (e.fault() >= 0) x.put("fault", e.fault());
            else x.putNull("fault");
            x.put("reason", e.reason());
            x.put("failedAtSeconds", e.failedAtSeconds());
            x.put("detectedAtSeconds", e.detectedAtSeconds());
            x.put("recoveredAtSeconds", e.recoveredAtSeconds());
            x.put("detectionSeconds", e.detectedAtSeconds() - e.failedAtSeconds());
            x.put("downtimeSeconds", e.recoveredAtSeconds() - e.failedAtSeconds());
            x.put("resumedFromStep", e.resumedFromStep());
            x.put("replayedSteps", e.replayedSteps());
            x.put("lostWorkSeconds", e.lostWorkSeconds());
            if (Double.isFinite(e.wallDetectSeconds())) x.put("wallDetectSeconds", e.wallDetectSeconds());
            if (Double.isFinite(e.wallRestartSeconds())) x.put("wallRestartSeconds", e.wallRestartSeconds());
        }
        o.put("checkpoints", r.checkpoints());
        o.put("checkpointSeconds", r.checkpointSeconds());
        o.put("checkpointBytes", r.checkpointBytes());
        o.put("replayedSteps", r.replayedSteps());
        o.put("lostWorkSeconds", r.lostWorkSeconds());
        o.put("usefulSeconds", r.usefulSeconds());
        o.put("elapsedSeconds", r.elapsedSeconds());
        o.put("goodput", r.goodput());
        o.put("transmissionsDropped", r.transmissionsDropped());
        o.put("duplicatesDropped", r.duplicatesDropped());
        if (r.ledger().isEmpty()) {
            o.putNull("ledger");
            return;
        }
        Ledger l = r.ledger().get();
        ObjectNode ledger = o.putObject("ledger");
        ledger.put("balanced", l.balanced());
        ledger.put("trainingSteps", l.steps());
        ArrayNode problems = ledger.putArray("problems");
        l.problems().forEach(problems::add);
        ArrayNode steps = ledger.putArray("steps");
        for (Event.StepCommitted c : l.lineage()) {
            ObjectNode s = steps.addObject();
            s.put("step", c.trainingStep());
            s.put("attempt", c.step());
            ArrayNode attempts = s.putArray("attempts");
            l.attempts().getOrDefault(c.trainingStep(), List.of()).forEach(attempts::add);
            ArrayNode replicas = s.putArray("replicas");
            for (Event.Consumed x : c.replicas()) {
                replicas.addObject().put("replica", x.replica()).put("offsets", Ledger.ranges(x.offsets()));
            }
        }
    }
}
