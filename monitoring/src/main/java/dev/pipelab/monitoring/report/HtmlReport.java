package dev.pipelab.monitoring.report;

import dev.pipelab.monitoring.Deployment;
import dev.pipelab.monitoring.LinkStats;
import dev.pipelab.monitoring.MemoryInfo;
import dev.pipelab.monitoring.Phase;
import dev.pipelab.monitoring.RunInfo;
import dev.pipelab.monitoring.StageRecord;
import dev.pipelab.monitoring.StepStats;
import dev.pipelab.monitoring.Units;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.DoubleFunction;
import java.util.stream.IntStream;

/**
 * Writes {@code report.html}: one self-contained page (inline CSS and SVG, no script, no network reference) with the
 * scenario and plan, the headline numbers and the full text of {@code report.json}, the timeline of the last
 * completed step of replica 0, the per-stage table, memory per rank against the device's capacity, and step-time and
 * throughput charts. Invariant: the output is well-formed XML (every element closed, all text escaped) with exactly
 * one timeline row ({@code g.row[data-rank]}) per pipeline rank, and contains no {@code http:}, {@code https:} or
 * {@code //} reference, so it opens offline and a parser can check it.
 */
public final class HtmlReport {

    private static final String[] COLORS = {"#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#e15759"};
    private static final String[] NAMES = {"forward", "backward", "weight gradient", "recompute", "optimizer"};

    private HtmlReport() {}

    /**
     * Writes the page for {@code report} to {@code file}; {@code lastStep} holds the records of the report's last
     * completed step, whose actions draw the timeline (empty: no timeline bars).
     */
    public static void write(RunReport report, List<StageRecord> lastStep, Path file) throws IOException {
        try (Writer out = new BufferedWriter(Files.newBufferedWriter(file, StandardCharsets.UTF_8))) {
            write(report, lastStep, out);
        }
    }

    /** The page as a string. */
    public static String render(RunReport report, List<StageRecord> lastStep) {
        StringWriter out = new StringWriter();
        try {
            write(report, lastStep, out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    private static void write(RunReport r, List<StageRecord> lastStep, Writer out) throws IOException {
        RunInfo info = r.info();
        out.write("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n");
        out.write("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n");
        out.write("<title>pipelab report: " + esc(r.name()) + "</title>\n<style>\n" + CSS + "</style>\n</head>\n<body>\n");
        out.write("<header><span class=\"logo\">pipelab</span> <span class=\"scenario\" id=\"scenario\">" + esc(r.name())
                + "</span> <span class=\"plan\" id=\"plan\">" + esc(plan(info)) + "</span></header>\n<main>\n");

        // headline numbers
        out.write("<section id=\"numbers\" class=\"kpis\">\n");
        kpi(out, "steps", Integer.toString(r.completedSteps()));
        kpi(out, "step time (mean)", seconds(r.stepTimeSeconds()));
        kpi(out, "bubble", percent(r.bubbleFraction()));
        kpi(out, "samples/s", number(r.samplesPerSecond()));
        kpi(out, "tokens/s", number(r.tokensPerSecond()));
        kpi(out, "MFU (HFU)", percent(r.mfu()) + " (" + percent(r.hfu()) + ")");
        if (r.outcome().status() != RunReport.Status.COMPLETED) {
            kpi(out, "run " + r.outcome().status().label(), r.outcome().failure().orElseThrow().lines().findFirst().orElse(""));
        }
        out.write("</section>\n");

        // timeline of the last step
        out.write("<section class=\"panel\"><h2>Timeline <small>" + esc(timelineCaption(r)) + "</small></h2>\n");
        legend(out);
        timeline(out, r, lastStep);
        out.write("</section>\n");

        // stages
        out.write("<section class=\"panel\"><h2>Stages <small>seconds per step, mean over steps and replicas</small></h2>\n");
        out.write("<table id=\"stages\"><thead><tr><th>rank</th><th>layers</th>");
        for (Phase ph : Phase.values()) out.write("<th>" + ph.name() + "</th>");
        out.write("<th>busy</th><th>peak memory</th><th>peak in-flight</th>");
        // a cluster run: the worker JVM (host:port) of the rank in each replica; deployment only
        Optional<Deployment> deployment = info.deployment();
        if (deployment.isPresent()) out.write("<th>node <small>(replica 0, 1, ...)</small></th>");
        out.write("</tr></thead><tbody>\n");
        for (RunReport.Stage s : r.stages()) {
            out.write("<tr data-stage=\"" + s.index() + "\"><td>" + s.index() + "</td><td>" + s.layers() + "</td>");
            for (Phase ph : Phase.values()) out.write("<td>" + seconds(s.busySecondsByPhase().get(ph)) + "</td>");
            out.write("<td>" + percent(s.busyFraction()) + "</td><td>" + gigabytes(s.peakMemoryBytes()) + "</td><td>"
                    + s.peakInFlightMicrobatches() + "</td>");
            if (deployment.isPresent()) {
                List<String> nodes = new ArrayList<>();
                for (int replica = 0; replica < info.data(); replica++) nodes.add(deployment.get().label(replica, s.index()));
                out.write("<td class=\"node\">" + esc(String.join(", ", nodes)) + "</td>");
            }
            out.write("</tr>\n");
        }
        out.write("</tbody></table></section>\n");

        // memory and charts side by side
        out.write("<div class=\"grid\">\n<section class=\"panel\"><h2>Memory per rank <small>peak of any replica vs "
                + esc(gigabytes(info.deviceMemoryBytes())) + " per device</small></h2>\n");
        memory(out, r);
        out.write("</section>\n<section class=\"panel\"><h2>Step time</h2>\n");
        int[] stepNumbers = r.steps().stream().mapToInt(StepStats::step).toArray();
        chart(out, "steptime", stepNumbers, r.steps().stream().mapToDouble(StepStats::stepSeconds).toArray(),
                HtmlReport::seconds, "#4e79a7");
        out.write("</section>\n<section class=\"panel\"><h2>Throughput <small>samples/s</small></h2>\n");
        chart(out, "throughput", stepNumbers, r.steps().stream().mapToDouble(StepStats::samplesPerSecond).toArray(),
                HtmlReport::number, "#59a14f");
        if (!r.loss().isEmpty()) {
            out.write("</section>\n<section class=\"panel\"><h2>Loss <small>training loss per step, mean over replicas "
                    + "and micro-batches</small></h2>\n");
            chart(out, "loss", IntStream.range(0, r.loss().size()).toArray(),
                    r.loss().stream().mapToDouble(Double::doubleValue).toArray(), HtmlReport::loss, "#e15759");
        }
        out.write("</section>\n</div>\n");

        // links, all-reduce, memory plan, faults
        out.write("<div class=\"grid wide-first\">\n<section class=\"panel\"><h2>Links</h2>\n");
        links(out, r.links());
        out.write("</section>\n<section class=\"panel\"><h2>Memory plan <small>one device</small></h2>\n");
        memoryPlan(out, r);
        out.write("</section>\n<section class=\"panel\"><h2>Faults and recovery</h2>\n");
        faults(out, r);
        out.write("</section>\n</div>\n");

        out.write("<section class=\"panel\"><details><summary>report.json</summary><pre id=\"report-json\">");
        out.write(esc(ReportJson.toJson(r)));
        out.write("</pre></details></section>\n");
        out.write("</main>\n<footer>started " + esc(r.wallClock().startedAt()) + " · " + esc(seconds(r.wallClock().wallSeconds()))
                + " on the wall · " + esc(r.clock()) + " clock</footer>\n</body>\n</html>\n");
    }

    private static String plan(RunInfo i) {
        return String.format(Locale.ROOT, "%s · p=%d d=%d t=%d v=%d · m=%d b=%d seq=%d · %d devices · %s clock",
                i.schedule(), i.pipeline(), i.data(), i.tensor(), i.virtualStages(), i.microBatches(),
                i.microBatchSize(), i.seqLength(), i.devices(), i.clock());
    }

    private static void kpi(Writer out, String label, String value) throws IOException {
        out.write("<div class=\"kpi\"><div class=\"label\">" + esc(label) + "</div><div class=\"value\">" + esc(value)
                + "</div></div>\n");
    }

    private static void legend(Writer out) throws IOException {
        out.write("<div class=\"legend\">");
        for (int k = 0; k < COLORS.length; k++) {
            out.write("<span><i style=\"background:" + COLORS[k] + "\"></i>" + NAMES[k] + "</span>");
        }
        out.write("<span><i style=\"background:#eceff3\"></i>idle (bubble)</span></div>\n");
    }

    private static String timelineCaption(RunReport r) {
        if (r.steps().isEmpty()) return "no completed step";
        return "step " + r.steps().get(r.steps().size() - 1).step() + ", replica 0, " + seconds(r.lastStepTimeSeconds());
    }

    private static void timeline(Writer out, RunReport r, List<StageRecord> lastStep) throws IOException {
        int p = r.info().pipeline();
        double stepSeconds = r.steps().isEmpty() ? 0 : r.steps().get(r.steps().size() - 1).stepSeconds();
        List<List<StageRecord.Action>> rows = new ArrayList<>();
        for (int k = 0; k < p; k++) rows.add(new ArrayList<>());
        for (StageRecord s : lastStep) if (s.replica() == 0 && s.rank() < p) rows.get(s.rank()).addAll(s.actions());
        int width = 1160;
        int label = 60;
        int rowH = Math.max(4, Math.min(22, 480 / p));
        int height = p * rowH + 22;
        double plot = width - label - 10;
        out.write("<svg id=\"timeline\" viewBox=\"0 0 " + width + " " + height + "\" width=\"100%\" role=\"img\">\n");
        for (int k = 0; k < p; k++) {
            out.write("<g class=\"row\" data-rank=\"" + k + "\" transform=\"translate(0," + (k * rowH) + ")\">");
            // a cluster run names the row's worker JVM in a tooltip: the label column is too narrow for host:port
            int rank = k;
            Optional<String> node = r.info().deployment().map(d -> d.label(0, rank));
            if (node.isPresent()) out.write("<title>replica 0 rank " + k + " @ " + esc(node.get()) + "</title>");
            out.write("<rect x=\"" + label + "\" y=\"1\" width=\"" + fmt(plot) + "\" height=\"" + (rowH - 2) + "\" fill=\"#eceff3\"/>");
            if (rowH >= 9 || k % (int) Math.ceil(9.0 / rowH) == 0) {
                out.write("<text x=\"" + (label - 6) + "\" y=\"" + fmt(rowH / 2.0 + 3) + "\" text-anchor=\"end\">rank " + k + "</text>");
            }
            for (StageRecord.Action a : rows.get(k)) {
                double x = label + (stepSeconds > 0 ? a.startSeconds() / stepSeconds * plot : 0);
                double w = Math.max(0.5, stepSeconds > 0 ? a.durationSeconds() / stepSeconds * plot : 0);
                String name = a.phase() == Phase.OPT ? "optimizer" : a.phase().name() + " mb" + a.microBatch();
                out.write("<rect x=\"" + fmt(x) + "\" y=\"1\" width=\"" + fmt(w) + "\" height=\"" + (rowH - 2)
                        + "\" fill=\"" + COLORS[a.phase().ordinal()] + "\" data-phase=\"" + a.phase().name() + "\"><title>"
                        + esc(name + " · " + seconds(a.startSeconds()) + " to " + seconds(a.endSeconds())) + "</title></rect>");
                if (w > 24 && rowH >= 12 && a.phase() != Phase.OPT) {
                    out.write("<text x=\"" + fmt(x + w / 2) + "\" y=\"" + fmt(rowH / 2.0 + 3)
                            + "\" text-anchor=\"middle\" class=\"on\">" + a.phase().name() + a.microBatch() + "</text>");
                }
            }
            out.write("</g>\n");
        }
        out.write("<text x=\"" + label + "\" y=\"" + (p * rowH + 14) + "\">0</text>");
        out.write("<text x=\"" + (width - 10) + "\" y=\"" + (p * rowH + 14) + "\" text-anchor=\"end\">" + esc(seconds(stepSeconds))
                + "</text>\n</svg>\n");
    }

    private static void memory(Writer out, RunReport r) throws IOException {
        long capacity = r.info().deviceMemoryBytes();
        long max = capacity;
        for (RunReport.Stage s : r.stages()) max = Math.max(max, s.peakMemoryBytes());
        double scale = max * 1.04;
        int rowH = Math.max(6, Math.min(18, 360 / Math.max(1, r.stages().size())));
        int width = 360;
        int label = 52;
        int numW = 70;
        double plot = width - label - numW;
        int height = r.stages().size() * rowH + 4;
        out.write("<svg id=\"memory\" viewBox=\"0 0 " + width + " " + height + "\" width=\"100%\">\n");
        for (int i = 0; i < r.stages().size(); i++) {
            RunReport.Stage s = r.stages().get(i);
            boolean over = s.peakMemoryBytes() > capacity;
            double y = i * rowH + 2;
            out.write("<g class=\"bar\" data-rank=\"" + s.index() + "\" data-value=\"" + s.peakMemoryBytes() + "\">");
            out.write("<text x=\"" + (label - 6) + "\" y=\"" + fmt(y + rowH / 2.0 + 3) + "\" text-anchor=\"end\">rank " + s.index() + "</text>");
            out.write("<rect x=\"" + label + "\" y=\"" + fmt(y + 1) + "\" width=\"" + fmt(plot) + "\" height=\"" + (rowH - 3) + "\" fill=\"#eceff3\"/>");
            out.write("<rect x=\"" + label + "\" y=\"" + fmt(y + 1) + "\" width=\"" + fmt(s.peakMemoryBytes() / scale * plot)
                    + "\" height=\"" + (rowH - 3) + "\" fill=\"" + (over ? "#c0392b" : "#76b7b2") + "\"/>");
            out.write("<text x=\"" + (width - 2) + "\" y=\"" + fmt(y + rowH / 2.0 + 3) + "\" text-anchor=\"end\">"
                    + esc(gigabytes(s.peakMemoryBytes())) + "</text></g>\n");
        }
        double cx = label + capacity / scale * plot;
        out.write("<line x1=\"" + fmt(cx) + "\" x2=\"" + fmt(cx) + "\" y1=\"0\" y2=\"" + height
                + "\" stroke=\"#c0392b\" stroke-width=\"2\"><title>capacity " + esc(gigabytes(capacity)) + "</title></line>\n");
        out.write("</svg>\n");
    }

    /** A line chart of {@code ys} by step ({@code xs}, ascending), labelled with {@code label}. */
    private static void chart(Writer out, String id, int[] xs, double[] ys, DoubleFunction<String> label,
                              String color) throws IOException {
        int width = 360;
        int height = 150;
        int left = 58;
        int right = 8;
        int top = 8;
        int bottom = 20;
        out.write("<svg id=\"" + id + "\" viewBox=\"0 0 " + width + " " + height + "\" width=\"100%\">\n");
        if (xs.length == 0) {
            out.write("<text x=\"" + width / 2 + "\" y=\"" + height / 2 + "\" text-anchor=\"middle\">no completed step</text></svg>\n");
            return;
        }
        double x0 = xs[0];
        double x1 = Math.max(x0 + 1, xs[xs.length - 1]);
        double y0 = Double.POSITIVE_INFINITY;
        double y1 = Double.NEGATIVE_INFINITY;
        for (double v : ys) {
            y0 = Math.min(y0, v);
            y1 = Math.max(y1, v);
        }
        double pad = Math.max((y1 - y0) * 0.1, Math.abs(y1) * 0.02 + 1e-12);
        y0 = Math.max(0, y0 - pad);
        y1 += pad;
        for (int i = 0; i <= 3; i++) {
            double v = y0 + (y1 - y0) * i / 3;
            double y = top + (1 - (v - y0) / (y1 - y0)) * (height - top - bottom);
            out.write("<line x1=\"" + left + "\" x2=\"" + (width - right) + "\" y1=\"" + fmt(y) + "\" y2=\"" + fmt(y)
                    + "\" stroke=\"#e3e6eb\"/><text x=\"" + (left - 4) + "\" y=\"" + fmt(y + 3) + "\" text-anchor=\"end\">"
                    + esc(label.apply(v)) + "</text>\n");
        }
        StringBuilder d = new StringBuilder();
        StringBuilder dots = new StringBuilder();
        for (int k = 0; k < xs.length; k++) {
            double v = ys[k];
            double x = left + (xs[k] - x0) / (x1 - x0) * (width - left - right);
            double y = top + (1 - (v - y0) / (y1 - y0)) * (height - top - bottom);
            d.append(d.length() == 0 ? "M" : "L").append(fmt(x)).append(',').append(fmt(y));
            if (xs.length <= 60) {
                dots.append("<circle cx=\"").append(fmt(x)).append("\" cy=\"").append(fmt(y)).append("\" r=\"2\"><title>step ")
                        .append(xs[k]).append(": ").append(esc(label.apply(v))).append("</title></circle>");
            }
        }
        out.write("<path d=\"" + d + "\" fill=\"none\" stroke=\"" + color + "\" stroke-width=\"1.8\"/>\n");
        out.write("<g fill=\"" + color + "\">" + dots + "</g>\n");
        out.write("<text x=\"" + left + "\" y=\"" + (height - 5) + "\">step " + (int) x0 + "</text><text x=\"" + (width - right)
                + "\" y=\"" + (height - 5) + "\" text-anchor=\"end\">step " + (int) x1 + "</text>\n</svg>\n");
    }

    private static String loss(double v) {
        return String.format(Locale.ROOT, "%.4g", v);
    }

    private static void links(Writer out, List<LinkStats> links) throws IOException {
        if (links.isEmpty()) {
            out.write("<p class=\"muted\">no transfers</p>\n");
            return;
        }
        // summed over replicas, so the table has one row per link of the pipeline
        TreeMap<String, double[]> byLink = new TreeMap<>();
        for (LinkStats l : links) {
            double[] a = byLink.computeIfAbsent(String.format(Locale.ROOT, "%05d->%05d", l.fromRank(), l.toRank()), k -> new double[5]);
            a[0] += l.bytes();
            a[1] += l.transfers();
            a[2] += l.busySeconds();
            a[3] += l.stallSeconds();
            a[4] = Math.max(a[4], l.maxQueueDepth());
        }
        out.write("<table id=\"links\"><thead><tr><th>link</th><th>bytes</th><th>transfers</th><th>busy</th><th>credit stall</th>"
                + "<th>max queue</th></tr></thead><tbody>\n");
        byLink.forEach((k, a) -> {
            try {
                String[] ft = k.split("->");
                out.write("<tr><td>" + Integer.parseInt(ft[0]) + " → " + Integer.parseInt(ft[1]) + "</td><td>"
                        + gigabytes((long) a[0]) + "</td><td>" + (long) a[1] + "</td><td>" + seconds(a[2]) + "</td><td>"
                        + seconds(a[3]) + "</td><td>" + (int) a[4] + "</td></tr>\n");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        out.write("</tbody></table>\n<p class=\"muted\">summed over replicas</p>\n");
    }

    private static void memoryPlan(Writer out, RunReport r) throws IOException {
        if (r.memory().isEmpty()) {
            out.write("<p class=\"muted\">no planned breakdown given</p>\n");
        } else {
            MemoryInfo m = r.memory().get();
            out.write("<table id=\"memory-plan\"><tbody>");
            out.write("<tr><td>parameters</td><td>" + gigabytes(m.parametersBytes()) + "</td></tr>");
            out.write("<tr><td>gradients</td><td>" + gigabytes(m.gradientsBytes()) + "</td></tr>");
            out.write("<tr><td>optimizer</td><td>" + gigabytes(m.optimizerBytes()) + "</td></tr>");
            out.write("<tr><td>activations</td><td>" + gigabytes(m.activationsBytes()) + "</td></tr>");
            out.write("<tr><th>total</th><th>" + gigabytes(m.totalBytes()) + "</th></tr></tbody></table>\n");
        }
        if (!r.allReduce().isEmpty()) {
            out.write("<table id=\"allreduce\"><thead><tr><th>all-reduce stage</th><th>bytes</th><th>seconds</th></tr></thead><tbody>");
            for (RunReport.AllReduce a : r.allReduce()) {
                out.write("<tr><td>" + a.stage() + "</td><td>" + gigabytes(a.bytes()) + "</td><td>" + seconds(a.seconds()) + "</td></tr>");
            }
            out.write("</tbody></table>\n");
        }
    }

    private static void faults(Writer out, RunReport r) throws IOException {
        out.write("<ul id=\"faults\">");
        List<String> lines = FaultLines.of(r);
        for (String line : lines) out.write("<li>" + esc(line.strip()) + "</li>");
        // one line per (step, rank, need) whatever the replicas: a plan that does not fit overflows on every replica alike
        for (String line : OutOfMemoryLines.of(r.outOfMemory(), r.info().data())) out.write("<li class=\"oom\">" + esc(line) + "</li>");
        if (lines.isEmpty() && r.outOfMemory().isEmpty()) out.write("<li class=\"muted\">none</li>");
        out.write("</ul>\n");
    }

    // ---------------------------------------------------------------- formatting

    /** Escapes text for element content and attribute values. */
    static String esc(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        // a JSON or free text "//" must not read as a protocol-relative reference
        return b.toString().replace("//", "/&#8203;/");
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.2f", v);
    }

    static String seconds(double s) {
        return Units.seconds(s);
    }

    private static String percent(double f) {
        return String.format(Locale.ROOT, "%.1f%%", f * 100);
    }

    private static String number(double x) {
        return String.format(Locale.ROOT, x >= 100 ? "%,.0f" : "%,.2f", x);
    }

    private static String gigabytes(long bytes) {
        return String.format(Locale.ROOT, "%,.2f GB", bytes / 1e9);
    }

    private static final String CSS = """
            body { margin: 0; font: 13px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #1f2430; background: #f5f6f8; }
            header { padding: 12px 20px; background: #1f2430; color: #fff; }
            .logo { font-weight: 700; color: #9ecbff; margin-right: 10px; }
            .scenario { font-size: 17px; font-weight: 600; margin-right: 12px; }
            .plan { color: #c7cdd8; font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; }
            main { padding: 12px 20px; max-width: 1240px; }
            .kpis { display: grid; grid-template-columns: repeat(6, 1fr); gap: 10px; margin-bottom: 10px; }
            .kpi, .panel { background: #fff; border: 1px solid #e3e6eb; border-radius: 6px; padding: 8px 10px; }
            .panel { margin-bottom: 10px; }
            .kpi .label { color: #6b7280; font-size: 11px; text-transform: uppercase; }
            .kpi .value { font-size: 18px; font-weight: 600; }
            .grid { display: grid; grid-template-columns: repeat(3, 1fr); gap: 10px; }
            .grid .panel { margin-bottom: 0; }
            .grid.wide-first { grid-template-columns: 2fr 1fr 1fr; }
            .grid + .grid, .grid + section { margin-top: 10px; }
            h2 { font-size: 13px; margin: 0 0 6px; }
            h2 small, .muted { color: #6b7280; font-weight: 400; }
            .legend { display: flex; gap: 12px; color: #6b7280; font-size: 11px; margin-bottom: 4px; }
            .legend i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; border-radius: 2px; vertical-align: -1px; }
            svg text { font-size: 10px; fill: #6b7280; }
            svg text.on { fill: #fff; }
            table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
            th, td { padding: 3px 8px; text-align: right; border-bottom: 1px solid #eef0f3; white-space: nowrap; }
            .panel { overflow-x: auto; }
            th { color: #6b7280; font-weight: 600; }
            .oom { color: #c0392b; }
            pre { font-size: 11px; max-height: 480px; overflow: auto; }
            footer { color: #6b7280; padding: 0 20px 16px; font-size: 11px; }
            """;
}
