package dev.pipelab.schedule;

import java.util.ArrayList;
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
 * preceded by a header comment {@code # name=1f1b p=4 v=1 m=8 split=false}. A rank with no actions is
 * written {@code -}. When reading, blank lines and other {@code #} comments are ignored; without a header,
 * p is the number of rows, v = ceil((max stage + 1) / p), m = max micro-batch + 1, split = whether any W
 * appears, and the name is {@code custom}.
 */
public final class ScheduleText {

    private static final Pattern ACTION = Pattern.compile("(\\d{1,9})([FBWR])(\\d{1,9})");
    private static final String EXPECTED = "expected <stage><F|B|W|R><microBatch>";
    private static final String EMPTY_ROW = "-";
    private static final Set<String> HEADER_KEYS = Set.of("name", "p", "v", "m", "split");

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
        return "# name=" + s.name() + " p=" + s.ranks() + " v=" + s.virtualStages() + " m=" + s.microBatches()
                + " split=" + s.splitBackward();
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
            return new Schedule(header.name, header.p, header.v, header.m, header.split, rows);
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
        return new Schedule("custom", p, v, Math.max(1, maxMicroBatch + 1), split, rows);
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

    private record Header(String name, int p, int v, int m, boolean split) {}

    private static Header parseHeader(String line, String source, int lineNo) {
        String name = null;
        Integer p = null, v = null, m = null;
        Boolean split = null;
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
                throw new ScheduleParseException(source, lineNo, col, "bad header field '" + field + "': expected one of name=, p=, v=, m=, split=");
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
        return new Header(name, p, v, m, split);
    }

    private static int positive(String key, String value, String source, int lineNo, int col) {
        if (value.matches("\\d{1,9}") && Integer.parseInt(value) >= 1) return Integer.parseInt(value);
        throw new ScheduleParseException(source, lineNo, col, "header " + key + " must be an integer >= 1, got '" + value + "'");
    }
}
