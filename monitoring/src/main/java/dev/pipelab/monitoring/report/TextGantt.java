package dev.pipelab.monitoring.report;

import dev.pipelab.monitoring.Event;
import dev.pipelab.monitoring.Phase;
import dev.pipelab.monitoring.RunTelemetry;
import dev.pipelab.monitoring.StageRecord;
import dev.pipelab.monitoring.StepSummary;
import dev.pipelab.monitoring.Units;

import java.util.List;
import java.util.Locale;
import java.util.TreeMap;

/**
 * A text Gantt chart of one step of one replica: one row per rank, one character per column of equal time.
 * Invariant: a column shows what covered most of its time ({@code F}, {@code B}, {@code W}, {@code R},
 * {@code O} for the optimizer, {@code .} idle); idle wins only when strictly longer than every phase, and a tie
 * between phases goes to the earlier of F, B, W, R, OPT.
 *
 * <p>Up to {@value #MAX_ROWS} ranks are drawn; beyond that the first and last {@value #HALF} are drawn and a line
 * says which ranks are left out.
 */
public final class TextGantt {

    static final int MAX_ROWS = 16;
    static final int HALF = MAX_ROWS / 2;

    private TextGantt() {}

    /**
     * The chart of the latest completed step of {@code telemetry} (else of the latest abandoned one, up to its last
     * action) for {@code replica}, {@code widthColumns} characters wide between the bars. Rows run from rank 0 to the
     * highest rank with an action in that step; a step recorded without spans gets a line that says so.
     */
    public static String render(RunTelemetry telemetry, int replica, int widthColumns) {
        if (widthColumns < 1) throw new IllegalArgumentException("widthColumns must be >= 1, got " + widthColumns);
        List<StageRecord> stages;
        int step;
        double stepSeconds = 0;
        List<Event.StepAbandoned> abandoned = telemetry.abandoned();
        StepSummary last = telemetry.lastSummary().orElse(null);
        if (last != null) {
            stages = last.ended().stages();
            step = last.step();
            stepSeconds = last.stats().stepSeconds();
        } else if (!abandoned.isEmpty()) {
            stages = abandoned.get(abandoned.size() - 1).stages();
            step = abandoned.get(abandoned.size() - 1).step();
        } else {
            return "no steps of replica " + replica + " yet\n";
        }
        TreeMap<Integer, List<StageRecord.Action>> byRank = new TreeMap<>();
        for (StageRecord s : stages) {
            if (s.replica() != replica || s.actions().isEmpty()) continue;
            byRank.put(s.rank(), s.actions());
            if (last == null) for (StageRecord.Action a : s.actions()) stepSeconds = Math.max(stepSeconds, a.endSeconds());
        }
        if (stages.stream().allMatch(s -> s.actions().isEmpty())) {
            return "no spans recorded for the Gantt of step " + step + " (telemetry below spans; pipelab run --telemetry spans"
                    + " draws it)\n";
        }
        int ranks = byRank.isEmpty() ? 0 : byRank.lastKey() + 1;
        int digits = Integer.toString(Math.max(ranks - 1, 0)).length();
        String rowFormat = "rank %" + digits + "d |";
        int prefix = String.format(Locale.ROOT, rowFormat, 0).length();

        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "step %d, replica %d, %s per column%n", step, replica,
                Units.seconds(stepSeconds / widthColumns)));
        for (int rank = 0; rank < ranks; rank++) {
            if (ranks > MAX_ROWS && rank == HALF) {
                out.append(String.format(Locale.ROOT, "%s(ranks %d-%d not shown)%n", " ".repeat(prefix), HALF, ranks - HALF - 1));
                rank = ranks - HALF;
            }
            out.append(String.format(Locale.ROOT, rowFormat, rank))
                    .append(row(byRank.getOrDefault(rank, List.of()), stepSeconds, widthColumns))
                    .append("|\n");
        }
        String end = Units.seconds(stepSeconds);
        int gap = Math.max(1, widthColumns - 1 - end.length());
        out.append(" ".repeat(prefix)).append('0').append(" ".repeat(gap)).append(end).append('\n');
        out.append("F forward  B backward  W weight gradient  R recompute  O optimizer  . idle\n");
        return out.toString();
    }

    private static String row(List<StageRecord.Action> spans, double stepSeconds, int width) {
        StringBuilder row = new StringBuilder(width);
        Phase[] phases = Phase.values();
        for (int c = 0; c < width; c++) {
            double from = stepSeconds * c / width;
            double to = stepSeconds * (c + 1) / width;
            double[] cover = new double[phases.length];
            for (StageRecord.Action s : spans) {
                double overlap = Math.min(to, s.endSeconds()) - Math.max(from, s.startSeconds());
                if (overlap > 0) cover[s.phase().ordinal()] += overlap;
            }
            int best = -1;
            double busy = 0;
            for (int k = 0; k < phases.length; k++) {
                busy += cover[k];
                if (cover[k] > 0 && (best < 0 || cover[k] > cover[best])) best = k;
            }
            double idle = (to - from) - busy;
            row.append(best < 0 || idle > cover[best] ? '.' : symbol(phases[best]));
        }
        return row.toString();
    }

    private static char symbol(Phase phase) {
        return phase == Phase.OPT ? 'O' : phase.name().charAt(0);
    }
}
