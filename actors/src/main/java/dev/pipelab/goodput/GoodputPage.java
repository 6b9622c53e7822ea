package dev.pipelab.goodput;

import dev.pipelab.fault.RandomFaults;
import dev.pipelab.fault.RecoveryBook;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * {@code goodput.html}: one self-contained page (no script, no network; well-formed XML, so any XML parser reads it)
 * with the run's timeline (committed training steps over emulated time, each interruption a dot coloured by kind, the
 * recoveries shaded), the goodput-versus-checkpoint-interval curve of a sweep with the Young/Daly optimum marked, and
 * the text summary. Invariant: the page's size is bounded by its width in pixels, not by the run's length: the
 * progress line keeps at most four corners per pixel column, and dots and shading are merged per pixel.
 */
public final class GoodputPage {

    private static final int WIDTH = 960;
    private static final int HEIGHT = 300;
    private static final int LEFT = 70;
    private static final int RIGHT = 20;
    private static final int TOP = 20;
    private static final int BOTTOM = 40;
    private static final Map<RandomFaults.Kind, String> COLOURS = Map.of(RandomFaults.Kind.GPU, "#d62728", RandomFaults.Kind.HOST,
            "#ff7f0e", RandomFaults.Kind.NETWORK, "#1f77b4", RandomFaults.Kind.MAINTENANCE, "#9467bd", RandomFaults.Kind.SOFTWARE,
            "#2ca02c", RandomFaults.Kind.UNKNOWN, "#7f7f7f");

    private GoodputPage() {}

    /** The page for {@code report}, with {@code summary} (the text the command printed) below the pictures. */
    public static String render(GoodputReport report, String summary) {
        StringBuilder b = new StringBuilder(64 * 1024);
        b.append("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n");
        b.append("<title>pipelab goodput: ").append(escape(report.scenario())).append("</title>\n");
        b.append("<style>body{font-family:sans-serif;margin:24px;color:#222}h1{font-size:20px}h2{font-size:16px;margin-top:28px}"
                + "pre{background:#f6f6f6;padding:12px;font-size:12px;overflow-x:auto}svg{background:#fff;border:1px solid #ddd}"
                + ".axis{font-size:11px;fill:#444}.legend{font-size:12px}</style>\n</head>\n<body>\n");
        Goodput.Result r = report.result();
        b.append("<h1>pipelab goodput: ").append(escape(report.scenario())).append("</h1>\n");
        b.append(String.format(Locale.ROOT, "<p>goodput <b>%s</b> over %s, %,d interruptions, checkpoint every %,d steps</p>%n",
                GoodputText.percent(r.totals().goodput()), GoodputText.span(r.totals().elapsedSeconds()), r.interruptions().size(),
                r.input().recovery().checkpointEverySteps()));
        b.append("<h2>Timeline: committed training steps over emulated time</h2>\n");
        timeline(b, report);
        b.append("<h2>Goodput against the checkpoint interval</h2>\n");
        if (report.sweep().isEmpty()) {
            b.append("<p>No sweep: run with <code>--sweep recovery.checkpointEverySteps=A..B</code> to draw the curve.</p>\n");
        } else {
            curve(b, report);
        }
        b.append("<h2>Summary</h2>\n<pre>").append(escape(summary)).append("</pre>\n</body>\n</html>\n");
        return b.toString();
    }

    private static void timeline(StringBuilder b, GoodputReport report) {
        Goodput.Result r = report.result();
        double elapsed = Math.max(r.totals().elapsedSeconds(), 1e-9);
        List<double[]> corners = report.progress();
        double maxSteps = 1;
        for (double[] c : corners) maxSteps = Math.max(maxSteps, c[1]);
        Scale x = Scale.linear(0, elapsed, LEFT, WIDTH - RIGHT);
        Scale y = Scale.linear(0, maxSteps, HEIGHT - BOTTOM, TOP);
        open(b, "timeline", "committed training steps over the run's emulated time");

        // recoveries, merged where they touch at this resolution
        b.append("<g fill=\"#f2b8b8\" fill-opacity=\"0.6\">");
        double from = Double.NaN, to = Double.NaN;
        for (Goodput.Interruption i : r.interruptions()) {
            double a = x.at(i.failedAtSeconds()), z = Math.max(x.at(i.rollback().recoveredAtSeconds()), a + 0.5);
            if (!Double.isNaN(from) && a <= to + 0.5) {
                to = Math.max(to, z);
                continue;
            }
            if (!Double.isNaN(from)) rect(b, from, to);
            from = a;
            to = z;
        }
        if (!Double.isNaN(from)) rect(b, from, to);
        b.append("</g>\n");

        axes(b, x, y, ticks(0, elapsed / 86400.0, false), d -> d * 86400, "days", ticks(0, maxSteps, false), s -> s, "committed steps");

        // the progress line: first, lowest, highest and last corner of each pixel column, in their order
        StringBuilder line = new StringBuilder();
        int column = Integer.MIN_VALUE;
        List<double[]> inColumn = new ArrayList<>();
        for (double[] c : corners) {
            double[] p = {x.at(c[0]), y.at(c[1])};
            int col = (int) Math.floor(p[0]);
            if (col != column) {
                flush(line, inColumn);
                column = col;
            }
            inColumn.add(p);
        }
        flush(line, inColumn);
        b.append("<polyline fill=\"none\" stroke=\"#333\" stroke-width=\"1.2\" points=\"").append(line.toString().trim()).append("\"/>\n");

        // one dot per kind and pixel column, where the failure struck, with the count in its tooltip
        Map<String, int[]> dots = new LinkedHashMap<>();
        Map<String, double[]> where = new LinkedHashMap<>();
        for (Goodput.Interruption i : r.interruptions()) {
            RecoveryBook.Rollback back = i.rollback();
            double px = x.at(i.failedAtSeconds());
            String key = i.draw().kind().key() + "@" + (int) Math.floor(px);
            dots.computeIfAbsent(key, k -> new int[1])[0]++;
            where.putIfAbsent(key, new double[] {px, y.at(back.resumeAt() + back.replayedSteps()), i.failedAtSeconds()});
        }
        b.append("<g stroke=\"#fff\" stroke-width=\"0.5\">");
        for (Map.Entry<String, int[]> e : dots.entrySet()) {
            String kind = e.getKey().substring(0, e.getKey().indexOf('@'));
            double[] p = where.get(e.getKey());
            b.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"><title>%s%s at %s</title></circle>",
                    p[0], p[1], COLOURS.get(RandomFaults.Kind.of(kind).orElseThrow()), kind,
                    e.getValue()[0] > 1 ? " x" + e.getValue()[0] : "", GoodputText.span(p[2])));
        }
        b.append("</g>\n");
        legend(b, report);
        b.append("</svg>\n");
    }

    private static void flush(StringBuilder line, List<double[]> column) {
        if (column.isEmpty()) return;
        int lowAt = 0, highAt = 0;
        for (int k = 1; k < column.size(); k++) {
            if (column.get(k)[1] > column.get(lowAt)[1]) lowAt = k; // SVG's y grows downwards
            if (column.get(k)[1] < column.get(highAt)[1]) highAt = k;
        }
        for (int k : new TreeSet<>(List.of(0, lowAt, highAt, column.size() - 1))) {
            line.append(String.format(Locale.ROOT, "%.1f,%.1f ", column.get(k)[0], column.get(k)[1]));
        }
        column.clear();
    }

    private static void rect(StringBuilder b, double from, double to) {
        b.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\"/>", from, TOP, to - from,
                HEIGHT - BOTTOM - TOP));
    }

    private static void legend(StringBuilder b, GoodputReport report) {
        double lx = LEFT + 10;
        b.append("<g class=\"legend\">");
        for (RandomFaults.Kind kind : report.kinds()) {
            b.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%d\" r=\"4\" fill=\"%s\"/><text x=\"%.1f\" y=\"%d\">%s</text>",
                    lx, TOP + 8, COLOURS.get(kind), lx + 7, TOP + 12, kind.key()));
            lx += 14 + 7.5 * kind.key().length();
        }
        b.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%d\" width=\"10\" height=\"10\" fill=\"#f2b8b8\"/>"
                + "<text x=\"%.1f\" y=\"%d\">recovering</text></g>%n", lx, TOP + 3, lx + 14, TOP + 12));
    }

    private static void curve(StringBuilder b, GoodputReport report) {
        List<GoodputReport.SweepRow> rows = report.sweep().stream().filter(r -> r.status() != Goodput.Status.FAILED).toList();
        YoungDaly yd = report.youngDaly();
        open(b, "curve", "goodput against recovery.checkpointEverySteps, the Young/Daly optimum dashed");
        if (rows.isEmpty()) {
            b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">every swept interval failed</text></svg>%n", LEFT, HEIGHT / 2));
            return;
        }
        double lowX = rows.get(0).checkpointEverySteps(), highX = rows.get(rows.size() - 1).checkpointEverySteps();
        if (Double.isFinite(yd.steps())) {
            lowX = Math.min(lowX, Math.max(yd.steps(), 1e-3));
            highX = Math.max(highX, yd.steps());
        }
        boolean log = highX / lowX >= 10;
        if (highX == lowX) highX = lowX + 1;
        // a margin, so the end points are whole dots
        if (log) {
            lowX /= 1.08;
            highX *= 1.08;
        } else {
            double margin = (highX - lowX) * 0.04;
            lowX = Math.max(0, lowX - margin);
            highX += margin;
        }
        double lowY = 1, highY = 0;
        for (GoodputReport.SweepRow r : rows) {
            lowY = Math.min(lowY, r.goodput());
            highY = Math.max(highY, r.goodput());
        }
        double pad = Math.max((highY - lowY) * 0.1, 0.005);
        lowY = Math.max(0, lowY - pad);
        highY = Math.min(1, highY + pad);
        Scale x = log ? Scale.log(lowX, highX, LEFT, WIDTH - RIGHT) : Scale.linear(lowX, highX, LEFT, WIDTH - RIGHT);
        Scale y = Scale.linear(lowY, highY, HEIGHT - BOTTOM, TOP);
        axes(b, x, y, ticks(lowX, highX, log), v -> v, "checkpoint every N steps" + (log ? " (log scale)" : ""),
                ticks(lowY * 100, highY * 100, false), v -> v / 100, "goodput %");
        StringBuilder points = new StringBuilder();
        for (GoodputReport.SweepRow r : rows) points.append(String.format(Locale.ROOT, "%.1f,%.1f ", x.at(r.checkpointEverySteps()), y.at(r.goodput())));
        b.append("<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\" points=\"").append(points.toString().trim()).append("\"/>\n");
        Optional<GoodputReport.SweepRow> best = report.best();
        b.append("<g fill=\"#1f77b4\">");
        for (GoodputReport.SweepRow r : rows) {
            boolean isBest = best.isPresent() && best.get() == r;
            b.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%s\"%s><title>every %d steps: goodput %s</title></circle>",
                    x.at(r.checkpointEverySteps()), y.at(r.goodput()), isBest ? "5" : "2.5", isBest ? " fill=\"#d62728\"" : "",
                    r.checkpointEverySteps(), GoodputText.percent(r.goodput())));
        }
        b.append("</g>\n");
        if (Double.isFinite(yd.steps())) {
            double px = x.at(yd.steps());
            b.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#2ca02c\" stroke-dasharray=\"5,4\"/>"
                    + "<text class=\"legend\" x=\"%.1f\" y=\"%d\" fill=\"#2ca02c\">Young/Daly %s steps</text>%n", px, TOP, px,
                    HEIGHT - BOTTOM, px + 4, TOP + 12, GoodputText.plain(yd.steps())));
        }
        // below the best dot, clear of the Young/Daly label at the top
        best.ifPresent(r -> b.append(String.format(Locale.ROOT, "<text class=\"legend\" x=\"%.1f\" y=\"%.1f\" fill=\"#d62728\">best: every %d steps, %s</text>%n",
                Math.min(x.at(r.checkpointEverySteps()) + 8, WIDTH - RIGHT - 170), y.at(r.goodput()) + 18,
                r.checkpointEverySteps(), GoodputText.percent(r.goodput()))));
        b.append("</svg>\n");
    }

    private static void open(StringBuilder b, String id, String label) {
        b.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"%s\" width=\"%d\" height=\"%d\" "
                + "viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"%s\">%n", id, WIDTH, HEIGHT, WIDTH, HEIGHT, escape(label)));
    }

    /** Axes, with ticks at the values of {@code xTicks} (labels) mapped to data by {@code xData}, and the same for y. */
    private static void axes(StringBuilder b, Scale x, Scale y, List<Double> xTicks, java.util.function.DoubleUnaryOperator xData,
                             String xLabel, List<Double> yTicks, java.util.function.DoubleUnaryOperator yData, String yLabel) {
        int bottom = HEIGHT - BOTTOM;
        b.append("<g class=\"axis\" stroke=\"#999\">");
        b.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/><line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>",
                LEFT, bottom, WIDTH - RIGHT, bottom, LEFT, TOP, LEFT, bottom));
        b.append("</g>\n<g class=\"axis\">");
        for (double v : xTicks) {
            double px = x.at(xData.applyAsDouble(v));
            b.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#999\"/>"
                    + "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>", px, bottom, px, bottom + 4, px, bottom + 16, label(v)));
        }
        for (double v : yTicks) {
            double py = y.at(yData.applyAsDouble(v));
            b.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#eee\"/>"
                    + "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>", LEFT, py, WIDTH - RIGHT, py, LEFT - 6, py + 4, label(v)));
        }
        b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>", (LEFT + WIDTH - RIGHT) / 2,
                HEIGHT - 6, escape(xLabel)));
        b.append(String.format(Locale.ROOT, "<text x=\"14\" y=\"%d\" text-anchor=\"middle\" transform=\"rotate(-90 14 %d)\">%s</text>",
                (TOP + bottom) / 2, (TOP + bottom) / 2, escape(yLabel)));
        b.append("</g>\n");
    }

    /** About five round values from {@code low} to {@code high} (1, 2 and 5 times a power of ten apart, or per decade). */
    static List<Double> ticks(double low, double high, boolean log) {
        List<Double> out = new ArrayList<>();
        if (!(high > low)) return List.of(low);
        if (log) {
            for (double decade = Math.pow(10, Math.floor(Math.log10(low))); decade <= high; decade *= 10) {
                for (double m : new double[] {1, 2, 5}) {
                    double v = m * decade;
                    if (v >= low * (1 - 1e-9) && v <= high * (1 + 1e-9)) out.add(v);
                }
            }
            return out;
        }
        double raw = (high - low) / 5;
        double magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
        double step = raw / magnitude < 1.5 ? magnitude : raw / magnitude < 3.5 ? 2 * magnitude : raw / magnitude < 7.5 ? 5 * magnitude : 10 * magnitude;
        for (double v = Math.ceil(low / step) * step; v <= high + step * 1e-9; v += step) out.add(Math.abs(v) < step * 1e-9 ? 0 : v);
        return out;
    }

    private static String label(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) return String.format(Locale.ROOT, "%,d", (long) v);
        return GoodputText.plain(v);
    }

    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    /** Data to pixels along one axis, linear or logarithmic. */
    private record Scale(double low, double high, double from, double to, boolean log) {

        static Scale linear(double low, double high, double from, double to) {
            return new Scale(low, high == low ? low + 1 : high, from, to, false);
        }

        static Scale log(double low, double high, double from, double to) {
            return new Scale(Math.log(low), Math.log(high), from, to, true);
        }

        double at(double v) {
            double u = log ? Math.log(v) : v;
            return from + (u - low) / (high - low) * (to - from);
        }
    }
}
