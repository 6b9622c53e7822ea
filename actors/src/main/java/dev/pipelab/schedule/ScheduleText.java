package dev.pipelab.schedule;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code parse(format(s), src).equals(s)} for every schedule s whose name has no whitespace: the text form of
 * a schedule.
 *
 * <p>The form is one line per rank, its actions in order separated by single spaces ({@code 0F0 0F1 0B0}),
 * preceded by a header comment {@code # name=1f1b p=4 v=1 m=8 split=false}, which ends with
 * {@code placement=v} (or {@code placement=0,1,1,0}, stage k's rank at position k) when the stages are not on
 * Megatron's loop placement. A rank with no actions is written {@code -}. When reading, blank lines and other
 * {@code #} comments are ignored; without a header, p is the number of rows, v = ceil((max stage + 1) / p),
 * m = max micro-batch + 1, split = whether any W appears, the name is {@code custom}, and the placement is the one
 * the rows show when every stage runs on exactly one rank and every rank holds v stages (loop otherwise, so that
 * the validator can point at the misplaced cells).
 */
public final class ScheduleText {

    private static final Pattern ACTION = Pattern.compile("(\\d{1,9})([FBWR])(\\d{1,9})");
    private static final String EXPECTED = "expected <stage><F|B|W|R><microBatch>";
    private static final String EMPTY_ROW = "-";
    private static final Set<String> HEADER_KEYS = Set.of("name", "p", "v", "m", "split", "placement");

    private ScheduleText() {}

    /** The header line, then one line per rank; ends with a newline. */
    public static String format(Schedule schedule) {
        StringBuilder out = new StringBuilder(header(schedule)).append('\n');
        for (List<Action> row : schedule.actionsByRank()) {
            if (row.isEmpty()) {
                out.append(EMPTY_ROW);
            } else {
                for (int i = 0; i < row.size(); i++) {
                    if (i > 0) out.append(' ');
                    out.append(row.get(i));
                }
            }
            out.append('\n');
        }
        return out.toString();
    }

    /** {@code # name=1f1b p=4 v=1 m=8 split=false}. */
    public static String header(Schedule s) {
        String placement = switch (s.placement().name()) {
            case "loop" -> "";
            case "v" -> " placement=v";
            default -> " placement=" + s.placement().ranksText();
        };
        return "# name=" + s.name() + " p=" + s.ranks() + " v=" + s.virtualStages() + " m=" + s.microBatches()
                + " split=" + s.splitBackward() + placement;
    }

    /**
     * The aligned grid {@code pipelab schedule} prints: one row per rank, {@code rank 0 | 0F0 0F1 ...}, every
     * cell as wide as the widest action so that columns line up.
     */
    public static String grid(Schedule schedule) {
        return grid(schedule, Collections.emptySet());
    }

    /**
     * The grid with the cells at {@code marked} (each {@code List.of(rank, index)}) shown as {@code [0B3]};
     * when anything is marked every other cell is padded by a space on each side, so columns still line up.
     */
    static String grid(Schedule schedule, Set<List<Integer>> marked) {
        int cell = 1;
        for (List<Action> row : schedule.actionsByRank()) {
            for (Action a : row) cell = Math.max(cell, a.toString().length());
        }
        int label = ("rank " + (schedule.ranks() - 1)).length();
        boolean marks = !marked.isEmpty();
        StringBuilder out = new StringBuilder();
        for (int r = 0; r < schedule.ranks(); r++) {
            StringBuilder line = new StringBuilder(pad("rank " + r, label)).append(" |");
            List<Action> row = schedule.actions(r);
            for (int i = 0; i < row.size(); i++) {
                String text = pad(row.get(i).toString(), cell);
                line.append(' ');
                if (!marks) line.append(text);
                else if (marked.contains(List.of(r, i))) line.append('[').append(text).append(']');
                else line.append(' ').append(text).append(' ');
            }
            out.append(line.toString().stripTrailing()).append('\n');
        }
        return out.toString();
    }

    private static String pad(String s, int width) {
        return s.length() >= width ? s : s + " ".repeat(width - s.length());
    }

    /**
     * Reads a schedule back.
     *
     * @param sourceName where the text came from, used in error messages ({@code schedules/a.txt})
     * @throws ScheduleParseException at the first problem, as {@code source:line:col: message}
     */
    public static Schedule parse(String text, String sourceName) {
        String[] lines = text.split("\r?\n", -1);
        Header header = null;
        int headerLine = 0;
        List<List<Action>> rows = new ArrayList<>();
        for (int n = 0; n < lines.length; n++) {
            String line = lines[n];
            String trimmed = line.strip();
            if (trimmed.isEmpty()) continue;
            if (trimmed.startsWith("#")) {
                String body = trimmed.substring(1).strip();
                if (body.startsWith("name=")) {
                    int col = line.indexOf('#') + 1;
                    if (header != null) throw new ScheduleParseException(sourceName, n + 1, col, "second header (first on line " + headerLine + ")");
                    if (!rows.isEmpty()) throw new ScheduleParseException(sourceName, n + 1, col, "header must come before the first rank row");
                    header = parseHeader(line, sourceName, n + 1);
                    headerLine = n + 1;
                }
                continue;
            }
            rows.add(parseRow(line, sourceName, n + 1));
        }
        if (rows.isEmpty()) throw new ScheduleParseException(sourceName, Math.max(1, lines.length), 1, "no rank rows: expected one line of actions per rank");
        if (header == null) return inferred(rows);
        if (header.p != rows.size()) {
            throw new ScheduleParseException(sourceName, headerLine, 1, "header says p=" + header.p + " but found " + rows.size() + " rank rows");
        }
        try {
            StagePlacement placement = header.placement == null ? StagePlacement.loop(header.p, header.v)
                    : header.placement.equals("v") ? StagePlacement.vShape(header.p)
                    : StagePlacement.of(header.p, ranks(header.placement));
            return new Schedule(header.name, header.p, header.v, header.m, header.split, rows, placement);
        } catch (IllegalArgumentException e) {
            throw new ScheduleParseException(sourceName, headerLine, 1, e.getMessage());
        }
    }

    private static Schedule inferred(List<List<Action>> rows) {
        int maxStage = -1;
        int maxMicroBatch = -1;
        boolean split = false;
        for (List<Action> row : rows) {
            for (Action a : row) {
                maxStage = Math.max(maxStage, a.stage());
                maxMicroBatch = Math.max(maxMicroBatch, a.microBatch());
                split |= a.kind() == Action.Kind.W;
            }
        }
        int p = rows.size();
        int v = Math.max(1, (maxStage + 1 + p - 1) / p);
        return new Schedule("custom", p, v, Math.max(1, maxMicroBatch + 1), split, rows, placementShown(rows, p, v));
    }

    /** The placement the rows show, or loop when they show none (a stage on two ranks, or on none). */
    static StagePlacement placementShown(List<List<Action>> rows, int p, int v) {
        int[] rank = new int[p * v];
        Arrays.fill(rank, -1);
        for (int r = 0; r < rows.size(); r++) {
            for (Action a : rows.get(r)) {
                int k = a.stage();
                if (k >= rank.length || (rank[k] != -1 && rank[k] != r)) return StagePlacement.loop(p, v);
                rank[k] = r;
            }
        }
        for (int r : rank) if (r == -1) return StagePlacement.loop(p, v);
        try {
            return StagePlacement.of(p, rank);
        } catch (IllegalArgumentException e) {
            return StagePlacement.loop(p, v);
        }
    }

    private static int[] ranks(String text) {
        String[] parts = text.split(",", -1);
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) out[i] = Integer.parseInt(parts[i]);
        return out;
    }

    private static List<Action> parseRow(String line, String source, int lineNo) {
        List<Action> row = new ArrayList<>();
        int i = 0;
        while (i < line.length()) {
            char c = line.charAt(i);
            if (c == ' ' || c == '\t') { i++; continue; }
            int start = i;
            while (i < line.length() && line.charAt(i) != ' ' && line.charAt(i) != '\t') i++;
            String token = line.substring(start, i);
            if (token.equals(EMPTY_ROW) && row.isEmpty() && line.strip().equals(EMPTY_ROW)) return row;
            Matcher m = ACTION.matcher(token);
            if (!m.matches()) {
                throw new ScheduleParseException(source, lineNo, start + 1, "bad action '" + token + "': " + EXPECTED);
            }
            row.add(new Action(Integer.parseInt(m.group(1)), Action.Kind.valueOf(m.group(2)), Integer.parseInt(m.group(3))));
        }
        return row;
    }

    private record Header(String name, int p, int v, int m, boolean split, String placement) {}

    private static Header parseHeader(String line, String source, int lineNo) {
        String name = null;
        Integer p = null, v = null, m = null;
        Boolean split = null;
        String placement = null;
        int i = line.indexOf('#') + 1;
        while (i < line.length()) {
            if (line.charAt(i) == ' ' || line.charAt(i) == '\t') { i++; continue; }
            int start = i;
            while (i < line.length() && line.charAt(i) != ' ' && line.charAt(i) != '\t') i++;
            String field = line.substring(start, i);
            int col = start + 1;
            int eq = field.indexOf('=');
            String key = eq < 0 ? field : field.substring(0, eq);
            if (eq < 0 || !HEADER_KEYS.contains(key)) {
                throw new ScheduleParseException(source, lineNo, col, "bad header field '" + field + "': expected one of name=, p=, v=, m=, split=, placement=");
            }
            String value = field.substring(eq + 1);
            switch (key) {
                case "name" -> {
                    if (value.isEmpty()) throw new ScheduleParseException(source, lineNo, col, "header name must not be empty");
                    name = value;
                }
                case "p" -> p = positive(key, value, source, lineNo, col);
                case "v" -> v = positive(key, value, source, lineNo, col);
                case "m" -> m = positive(key, value, source, lineNo, col);
                case "placement" -> {
                    if (!value.equals("loop") && !value.equals("v") && !value.matches("\\d{1,9}(,\\d{1,9})*")) {
                        throw new ScheduleParseException(source, lineNo, col, "header placement must be loop, v or the rank of every stage (0,1,1,0), got '" + value + "'");
                    }
                    placement = value.equals("loop") ? null : value;
                }
                default -> {
                    if (!value.equals("true") && !value.equals("false")) {
                        throw new ScheduleParseException(source, lineNo, col, "header split must be true or false, got '" + value + "'");
                    }
                    split = Boolean.valueOf(value);
                }
            }
        }
        if (name == null || p == null || v == null || m == null || split == null) {
            throw new ScheduleParseException(source, lineNo, 1, "incomplete header: expected name=, p=, v=, m= and split=");
        }
        if ("v".equals(placement) && v != 2) {
            throw new ScheduleParseException(source, lineNo, 1, "header placement=v holds two stages per rank, but v=" + v);
        }
        return new Header(name, p, v, m, split, placement);
    }

    private static int positive(String key, String value, String source, int lineNo, int col) {
        if (value.matches("\\d{1,9}") && Integer.parseInt(value) >= 1) return Integer.parseInt(value);
        throw new ScheduleParseException(source, lineNo, col, "header " + key + " must be an integer >= 1, got '" + value + "'");
    }
}
