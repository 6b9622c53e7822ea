package dev.pipelab.goodput;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pipelab.fault.RandomFaults;
import dev.pipelab.fault.RecoveryBook;
import dev.pipelab.fault.RecoverySpec;

import java.io.UncheckedIOException;
import java.util.Optional;

/**
 * {@code goodput.json} (docs/goodput.md lists the fields): the inputs, the totals, the interruptions by kind beside the
 * counts the rates predict, every interruption with its moments and costs, the sweep's rows, the best interval and
 * Young/Daly. camelCase, seconds and bytes in base units; a number that is not finite (the MTBF without any rate) is
 * {@code null}, since JSON has no infinity.
 */
public final class GoodputJson {

    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private GoodputJson() {}

    public static String render(GoodputReport report) {
        return render(tree(report));
    }

    static String render(ObjectNode tree) {
        try {
            return MAPPER.writeValueAsString(tree) + "\n";
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    static ObjectNode tree(GoodputReport report) {
        Goodput.Result r = report.result();
        Goodput.Input in = r.input();
        RecoveryBook.Totals t = r.totals();
        ObjectNode root = MAPPER.createObjectNode();
        root.put("scenario", report.scenario());
        root.put("status", r.status().name().toLowerCase());
        root.put("reason", r.reason());

        ObjectNode input = root.putObject("input");
        num(input, "stepSeconds", in.stepSeconds());
        input.put("checkpointBytes", in.checkpointBytes());
        num(input, "checkpointWriteSeconds", report.checkpointWriteSeconds());
        input.put("tokensPerStep", in.tokensPerStep());
        input.put("replicas", in.replicas());
        input.put("ranks", in.ranks());
        input.put("tensor", in.tensor());
        input.put("devicesPerNode", in.devicesPerNode());
        input.put("devices", in.draws().size().devices());
        input.put("nodes", in.draws().size().nodes());
        if (in.maxSteps() == Long.MAX_VALUE) input.putNull("maxSteps");
        else input.put("maxSteps", in.maxSteps());
        num(input, "horizonSeconds", in.horizonSeconds());
        report.tokensTarget().ifPresentOrElse(x -> input.put("tokens", x), () -> input.putNull("tokens"));
        RecoverySpec rec = in.recovery();
        ObjectNode recovery = input.putObject("recovery");
        recovery.put("checkpointEverySteps", rec.checkpointEverySteps());
        num(recovery, "storageBytesPerSecond", rec.storageBytesPerSecond());
        num(recovery, "detectSeconds", rec.detectSeconds());
        num(recovery, "restartSeconds", rec.restartSeconds());
        recovery.put("maxRestarts", rec.maxRestarts());
        RandomFaults rates = in.rates();
        ObjectNode random = input.putObject("faultsRandom");
        random.put("seed", rates.seed());
        num(random, "scale", rates.scale());
        rates.mtbfHours().ifPresentOrElse(h -> num(random, "mtbfHours", h), () -> random.putNull("mtbfHours"));
        random.put("spares", rates.spares());
        rates.preset().ifPresentOrElse(p -> random.put("preset", p), () -> random.putNull("preset"));
        ArrayNode kinds = random.putArray("rates");
        for (RandomFaults.Rate rate : rates.rates()) {
            ObjectNode k = kinds.addObject();
            k.put("kind", rate.kind().key());
            k.put("level", rate.kind().level().name().toLowerCase());
            num(k, "perHour", rate.perHour());
            num(k, "weight", rate.weight());
            num(k, "detectSeconds", rate.detect(rec));
            num(k, "repairSeconds", rate.repairSeconds());
            num(k, "perSecond", rates.perSecond(rate.kind(), in.draws().size()));
        }

        ObjectNode totals = root.putObject("totals");
        num(totals, "goodput", t.goodput());
        num(totals, "elapsedSeconds", t.elapsedSeconds());
        num(totals, "usefulSeconds", t.usefulSeconds());
        totals.put("committedSteps", t.committedSteps());
        totals.put("tokensTrained", r.tokensTrained());
        totals.put("attempts", r.attempts());
        totals.put("interruptions", r.interruptions().size());
        num(totals, "expectedInterruptions", report.expected());
        range(totals, "expectedRange95", report.expected());
        num(totals, "mtbfSeconds", r.mtbfSeconds());
        totals.put("replayedSteps", t.replayedSteps());
        num(totals, "lostWorkSeconds", t.lostWorkSeconds());
        totals.put("checkpoints", t.checkpoints());
        num(totals, "checkpointSeconds", t.checkpointSeconds());
        num(totals, "checkpointFraction", report.checkpointFraction());
        GoodputReport.Downtime down = report.downtime();
        ObjectNode d = totals.putObject("downSeconds");
        num(d, "detect", down.detectSeconds());
        num(d, "waitForSpare", down.waitForSpareSeconds());
        num(d, "restart", down.restartSeconds());
        num(d, "checkpointRead", down.checkpointReadSeconds());
        num(d, "total", down.totalSeconds());
        if (report.tokensTarget().isPresent()) {
            ObjectNode tokens = root.putObject("tokens");
            tokens.put("target", report.tokensTarget().getAsLong());
            tokens.put("reached", report.tokensReached());
            if (report.tokensReached()) num(tokens, "secondsToTrain", t.elapsedSeconds());
            else tokens.putNull("secondsToTrain");
        }

        ArrayNode byKind = root.putArray("byKind");
        for (RandomFaults.Kind kind : report.kinds()) {
            ObjectNode k = byKind.addObject();
            k.put("kind", kind.key());
            k.put("count", r.byKind().getOrDefault(kind, 0));
            num(k, "expected", report.expected(kind));
            range(k, "expectedRange95", report.expected(kind));
        }

        ArrayNode list = root.putArray("interruptions");
        double restartSeconds = rec.restartSeconds();
        for (Goodput.Interruption i : r.interruptions()) {
            ObjectNode x = list.addObject();
            x.put("index", i.draw().index());
            x.put("kind", i.draw().kind().key());
            x.put("unit", i.draw().unit());
            x.put("replica", i.draw().replica());
            x.put("rank", i.draw().rank());
            num(x, "drawnAtSeconds", i.draw().atSeconds());
            num(x, "failedAtSeconds", i.failedAtSeconds());
            x.put("trainingStep", i.trainingStep());
            x.put("resumeAt", i.rollback().resumeAt());
            x.put("replayedSteps", i.rollback().replayedSteps());
            num(x, "lostWorkSeconds", i.rollback().lostWorkSeconds());
            num(x, "detectedAtSeconds", i.rollback().detectedAtSeconds());
            num(x, "restartAtSeconds", i.rollback().restartAtSeconds());
            num(x, "recoveredAtSeconds", i.rollback().recoveredAtSeconds());
            GoodputReport.Downtime own = GoodputReport.downtime(i, restartSeconds);
            num(x, "waitedForSpareSeconds", own.waitForSpareSeconds());
            num(x, "checkpointReadSeconds", own.checkpointReadSeconds());
        }

        ArrayNode sweep = root.putArray("sweep");
        for (GoodputReport.SweepRow row : report.sweep()) {
            ObjectNode s = sweep.addObject();
            s.put("checkpointEverySteps", row.checkpointEverySteps());
            s.put("status", row.status().name().toLowerCase());
            num(s, "goodput", row.goodput());
            num(s, "elapsedSeconds", row.totals().elapsedSeconds());
            s.put("committedSteps", row.totals().committedSteps());
            s.put("interruptions", row.interruptions());
            num(s, "lostWorkSeconds", row.totals().lostWorkSeconds());
            s.put("checkpoints", row.totals().checkpoints());
            num(s, "checkpointSeconds", row.totals().checkpointSeconds());
            num(s, "checkpointFraction", row.checkpointFraction());
        }
        Optional<GoodputReport.SweepRow> best = report.best();
        if (best.isPresent()) {
            ObjectNode b = root.putObject("best");
            b.put("checkpointEverySteps", best.get().checkpointEverySteps());
            num(b, "goodput", best.get().goodput());
        } else {
            root.putNull("best");
        }

        YoungDaly yd = report.youngDaly();
        ObjectNode y = root.putObject("youngDaly");
        num(y, "checkpointSeconds", yd.checkpointSeconds());
        num(y, "mtbfSeconds", yd.mtbfSeconds());
        num(y, "tauSeconds", yd.tauSeconds());
        num(y, "steps", yd.steps());
        int compared = best.map(GoodputReport.SweepRow::checkpointEverySteps).orElse(rec.checkpointEverySteps());
        y.put("comparedWith", best.isPresent() ? "best" : "scenario");
        y.put("comparedCheckpointEverySteps", compared);
        num(y, "relativeGap", yd.relativeGap(compared));
        return root;
    }

    private static void range(ObjectNode node, String name, double mean) {
        Poisson.Range range = Poisson.range95(mean);
        node.putArray(name).add(range.low()).add(range.high());
    }

    private static void num(ObjectNode node, String name, double value) {
        if (Double.isFinite(value)) node.put(name, value);
        else node.putNull(name);
    }
}
