package dev.pipelab.schedule;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The schedule files of PyTorch's {@code torch.distributed.pipelining}, both ways: {@link #format} writes the CSV that
 * {@code _PipelineScheduleRuntime._load_csv(filename, format="compute_only")} loads, {@link #parse} reads that format
 * and the {@code compute_comms} one back. Source: pytorch/pytorch, {@code torch/distributed/pipelining/schedules.py}
 * ({@code _ComputationType}, {@code _Action.from_str}, {@code _action_regex}, {@code PipelineScheduleMulti._load_csv},
 * {@code _dump_csv}, {@code _validate_schedule}).
 *
 * <p>The format: one CSV line per rank, one cell per action, {@code <stage><type><micro-batch>} with the global model
 * stage index (as pipelab's {@link Action#stage()}). PyTorch writes an idle time step ({@code None}) as an empty cell
 * and ends each line with {@code \r\n} (Python's {@code csv.writer}); pipelab writes no empty cells and ends lines with
 * {@code \n}, which PyTorch's reader accepts alike. The mapping:
 *
 * <table>
 *   <caption>pipelab action and PyTorch cell</caption>
 *   <tr><th>pipelab</th><th>PyTorch</th></tr>
 *   <tr><td>F</td><td>F ({@code FORWARD})</td></tr>
 *   <tr><td>B, split schedule</td><td>I ({@code BACKWARD_INPUT})</td></tr>
 *   <tr><td>W</td><td>W ({@code BACKWARD_WEIGHT})</td></tr>
 *   <tr><td>B, unsplit schedule</td><td>B ({@code FULL_BACKWARD})</td></tr>
 *   <tr><td>R</td><td>left out: PyTorch has no recompute action (recomputation lives inside the stage's module, as
 *       activation checkpointing)</td></tr>
 *   <tr><td>B then W, split schedule</td><td>B ({@code FULL_BACKWARD}) read back; I and W written</td></tr>
 *   <tr><td>F then B (+W)</td><td>{@code (0F7;7B3)OVERLAP_F_B} read back as its two actions in order</td></tr>
 * </table>
 *
 * <p>Reading: p = the lines, the stages = max stage + 1 (a multiple of p, every stage on exactly one rank, every rank
 * holding v = stages / p of them, stage 0 on rank 0), m = max micro-batch + 1 (every micro-batch below it named),
 * split = whether any I or W appears; the placement is the one the rows show (as PyTorch's {@code _validate_schedule}
 * infers {@code stage_index_to_group_rank} from the rows), the name {@code custom}. Empty cells are skipped. A full B
 * in a split schedule (PyTorch allows FULL_BACKWARD beside I/W; DualPipeV writes both) becomes B directly followed by
 * its W. Of the {@code compute_comms} actions, SEND_F, RECV_F, SEND_B and RECV_B are skipped (pipelab derives every
 * transfer from the placement, {@link Routing}), and so are UNSHARD, RESHARD (FSDP's parameter gathering, which
 * PyTorch's own lowering inserts and pipelab does not model) and REDUCE_GRAD (the data-parallel gradient reduction,
 * which pipelab starts itself when a stage's backward work is done). Anything else is an error. Whether the result can
 * run (m F and B per stage, dependencies) is {@link ScheduleValidator}'s question, not the parser's.
 *
 * <p>pipelab is stricter than PyTorch's {@code _action_regex}, which matches a prefix ({@code 0F0x} reads as 0F0) and
 * allows a compute action without micro-batch ({@code 0F}); both are errors here.
 */
public final class PyTorchCsv {

    /** {@code _action_regex}'s shape, whole cell: stage digits, upper-case type, optional micro-batch digits. */
    private static final Pattern CELL = Pattern.compile("(\\d+)([A-Z_]+)(\\d*)");
    private static final String OVERLAP = "OVERLAP_F_B";
    private static final Set<String> TRANSFERS = Set.of("SEND_F", "RECV_F", "SEND_B", "RECV_B");
    private static final Set<String> DERIVED = Set.of("UNSHARD", "RESHARD", "REDUCE_GRAD");
    private static final String EXPECTED = "expected <stage><F|I|B|W><micro-batch> (0F3, 1I0, 2W1, 0B2), a pair "
            + "(0F7;7B3)OVERLAP_F_B or a communication action (1SEND_F0, 2RECV_B3, 0UNSHARD, ...)";
    /** Nine digits fit an int; more is not an index any file of a real pipeline holds. */
    private static final int MAX_DIGITS = 9;

    private PyTorchCsv() {}

    /** One line per rank, its actions as comma-separated cells ({@code 0F0,0F1,0I0,0W0}); ends with a newline. */
    public static String format(Schedule schedule) {
        StringBuilder out = new StringBuilder();
        for (List<Action> row : schedule.actionsByRank()) {
            boolean first = true;
            for (Action a : row) {
                String type = switch (a.kind()) {
                    case F -> "F";
                    case B -> schedule.splitBackward() ? "I" : "B";
                    case W -> "W";
                    // PyTorch has no compute action for recomputation: its stages recompute inside the module
                    // (activation checkpointing), so the R actions are left out and the B's carry that time there
                    case R -> null;
                };
                if (type == null) continue;
                if (!first) out.append(',');
                out.append(a.stage()).append(type).append(a.microBatch());
                first = false;
            }
            out.append('\n');
        }
        return out.toString();
    }

    /** Where a compute action came from in the file. */
    private record At(int rank, int line, int column) {}

    /** A compute cell as written: {@code type} is F, I, B or W. */
    private record Cell(char type, int stage, int microBatch, At at) {}

    /**
     * Reads a PyTorch schedule CSV.
     *
     * @param sourceName where the text came from, used in error messages ({@code schedules/zbv.csv})
     * @throws ScheduleParseException at the first problem, as {@code source:line:col: message}
     */
    public static Schedule parse(String text, String sourceName) {
        String body = text.startsWith("\uFEFF") ? text.substring(1) : text;
        String[] lines = body.split("\r?\n", -1);
        int count = lines.length;
        // blank lines at the end are an editor's, not ranks (csv.reader yields none for the final line break)
        while (count > 0 && lines[count - 1].isBlank()) count--;
        if (count == 0) {
            throw new ScheduleParseException(sourceName, Math.max(1, lines.length), 1,
                    "no rank rows: expected one CSV line of actions per rank");
        }
        int p = count;
        List<List<Cell>> cells = new ArrayList<>(p);
        boolean split = false;
        for (int r = 0; r < p; r++) {
            List<Cell> row = new ArrayList<>();
            parseLine(lines[r], sourceName, r, row);
            if (row.isEmpty()) {
                throw new ScheduleParseException(sourceName, r + 1, 1, "rank " + r + " has no compute action (F, I, B or W):"
                        + " every line is a rank (PyTorch reads a blank line as one too), and every rank holds a model stage");
            }
            for (Cell c : row) split |= c.type() == 'I' || c.type() == 'W';
            cells.add(row);
        }
        Map<Integer, At> stageAt = new HashMap<>();
        At maxStageAt = null;
        int maxStage = -1;
        At maxMicroBatchAt = null;
        int maxMicroBatch = -1;
        Set<Integer> microBatches = new HashSet<>();
        int[] held = new int[p];
        for (int r = 0; r < p; r++) {
            for (Cell c : cells.get(r)) {
                At first = stageAt.putIfAbsent(c.stage(), c.at());
                if (first == null) {
                    held[r]++;
                } else if (first.rank() != r) {
                    throw error(sourceName, c.at(), "stage " + c.stage() + " is on rank " + r + " here and on rank "
                            + first.rank() + " (line " + first.line() + "): a model stage runs on one rank");
                }
                if (c.stage() > maxStage) { maxStage = c.stage(); maxStageAt = c.at(); }
                if (c.microBatch() > maxMicroBatch) { maxMicroBatch = c.microBatch(); maxMicroBatchAt = c.at(); }
                microBatches.add(c.microBatch());
            }
        }
        int stages = maxStage + 1;
        if (stageAt.size() != stages) {
            int missing = 0;
            while (stageAt.containsKey(missing)) missing++;
            throw error(sourceName, maxStageAt, "stage " + maxStage + " named, but no rank runs stage " + missing
                    + ": expected every stage 0.." + maxStage + " on some rank");
        }
        if (stages % p != 0) {
            throw error(sourceName, maxStageAt, stages + " stages (0.." + maxStage + ") do not divide among " + p
                    + " ranks (one line each): expected a multiple of " + p);
        }
        int v = stages / p;
        for (int r = 0; r < p; r++) {
            if (held[r] != v) {
                throw new ScheduleParseException(sourceName, r + 1, 1, "rank " + r + " holds " + held[r] + " stage"
                        + (held[r] == 1 ? "" : "s") + ", expected " + v + " (" + stages + " stages on " + p
                        + " ranks): every rank holds the same number of stages");
            }
        }
        At stage0 = stageAt.get(0);
        if (stage0.rank() != 0) {
            throw error(sourceName, stage0, "stage 0 is on rank " + stage0.rank() + ": expected rank 0 (the first line),"
                    + " where pipelab's data loader feeds the pipeline");
        }
        if (microBatches.size() != maxMicroBatch + 1) {
            int missing = 0;
            while (microBatches.contains(missing)) missing++;
            throw error(sourceName, maxMicroBatchAt, "micro-batch " + maxMicroBatch + " named, but no action runs micro-batch "
                    + missing + ": expected micro-batches 0.." + maxMicroBatch);
        }
        List<List<Action>> rows = new ArrayList<>(p);
        for (List<Cell> line : cells) {
            List<Action> row = new ArrayList<>(line.size());
            for (Cell c : line) {
                Action.Kind kind = switch (c.type()) {
                    case 'F' -> Action.Kind.F;
                    case 'W' -> Action.Kind.W;
                    default -> Action.Kind.B; // I, the input gradient, and B, the full backward
                };
                row.add(new Action(c.stage(), kind, c.microBatch()));
                // in a split schedule PyTorch's FULL_BACKWARD is both halves: the B directly followed by its W
                if (split && c.type() == 'B') row.add(Action.w(c.stage(), c.microBatch()));
            }
            rows.add(row);
        }
        StagePlacement placement = ScheduleText.placementShown(rows, p, v);
        return new Schedule("custom", p, v, maxMicroBatch + 1, split, rows, placement);
    }

    private static ScheduleParseException error(String source, At at, String message) {
        return new ScheduleParseException(source, at.line(), at.column(), message);
    }

    /** Reads one line's compute cells into {@code row}; empty cells and the skipped actions add nothing. */
    private static void parseLine(String line, String source, int rank, List<Cell> row) {
        int lineNo = rank + 1;
        int start = 0;
        while (start <= line.length()) {
            int end = line.indexOf(',', start);
            if (end < 0) end = line.length();
            String raw = line.substring(start, end);
            String cell = raw.strip();
            int column = start + 1 + (raw.length() - raw.stripLeading().length());
            if (!cell.isEmpty()) parseCell(cell, source, rank, lineNo, column, row);
            start = end + 1;
        }
    }

    private static void parseCell(String cell, String source, int rank, int lineNo, int column, List<Cell> row) {
        if (cell.startsWith("(")) {
            int close = cell.indexOf(')');
            if (close < 0 || !cell.substring(close + 1).equals(OVERLAP)) {
                throw new ScheduleParseException(source, lineNo, column, "bad cell '" + cell + "': a parenthesized pair is"
                        + " written (0F7;7B3)OVERLAP_F_B");
            }
            String[] parts = cell.substring(1, close).split(";", -1);
            int offset = column + 1;
            int added = 0;
            for (String part : parts) {
                String sub = part.strip();
                int subColumn = offset + (part.length() - part.stripLeading().length());
                if (!sub.isEmpty()) {
                    Matcher m = CELL.matcher(sub);
                    if (!m.matches() || !isCompute(m.group(2))) {
                        throw new ScheduleParseException(source, lineNo, subColumn, "bad action '" + sub + "' in an "
                                + OVERLAP + " pair: expected <stage><F|I|B|W><micro-batch>");
                    }
                    compute(m, sub, source, rank, lineNo, subColumn, row);
                    added++;
                }
                offset += part.length() + 1;
            }
            if (added == 0) {
                throw new ScheduleParseException(source, lineNo, column, "empty " + OVERLAP + " pair '" + cell
                        + "': expected two actions, (0F7;7B3)" + OVERLAP);
            }
            return;
        }
        Matcher m = CELL.matcher(cell);
        if (!m.matches()) {
            String why = cell.startsWith("-") ? "negative index in '" + cell + "': stages and micro-batches count from 0; "
                    : "bad cell '" + cell + "': ";
            throw new ScheduleParseException(source, lineNo, column, why + EXPECTED);
        }
        String type = m.group(2);
        if (isCompute(type)) {
            compute(m, cell, source, rank, lineNo, column, row);
        } else if (TRANSFERS.contains(type)) {
            index(m.group(1), "stage", cell, source, lineNo, column);
            if (m.group(3).isEmpty()) {
                // PyTorch's runtime asserts a micro-batch on every transfer (_perform_action)
                throw new ScheduleParseException(source, lineNo, column, "'" + cell + "' has no micro-batch: expected "
                        + "<stage>" + type + "<micro-batch>");
            }
            index(m.group(3), "micro-batch", cell, source, lineNo, column);
            // skipped: pipelab derives every transfer from the placement (Routing)
        } else if (DERIVED.contains(type)) {
            index(m.group(1), "stage", cell, source, lineNo, column);
            // skipped: FSDP's unshard/reshard and the gradient reduction are PyTorch's lowering passes
            // (_add_unshard_reshard, _add_reduce_grad); pipelab does not model FSDP and reduces gradients itself
        } else if (type.equals(OVERLAP)) {
            throw new ScheduleParseException(source, lineNo, column, "'" + cell + "' names no pair: an " + OVERLAP
                    + " cell is written (0F7;7B3)" + OVERLAP);
        } else {
            throw new ScheduleParseException(source, lineNo, column, "unknown action type '" + type + "' in '" + cell
                    + "': expected F, I, B, W, " + OVERLAP + ", SEND_F, RECV_F, SEND_B, RECV_B, UNSHARD, RESHARD or REDUCE_GRAD");
        }
    }

    private static boolean isCompute(String type) {
        return type.equals("F") || type.equals("I") || type.equals("B") || type.equals("W");
    }

    private static void compute(Matcher m, String cell, String source, int rank, int lineNo, int column, List<Cell> row) {
        int stage = index(m.group(1), "stage", cell, source, lineNo, column);
        if (m.group(3).isEmpty()) {
            throw new ScheduleParseException(source, lineNo, column, "'" + cell + "' has no micro-batch: expected <stage>"
                    + m.group(2) + "<micro-batch>, e.g. " + stage + m.group(2) + "0");
        }
        int microBatch = index(m.group(3), "micro-batch", cell, source, lineNo, column);
        row.add(new Cell(m.group(2).charAt(0), stage, microBatch, new At(rank, lineNo, column)));
    }

    private static int index(String digits, String what, String cell, String source, int lineNo, int column) {
        String trimmed = digits.replaceFirst("^0+(?=\\d)", "");
        if (trimmed.length() > MAX_DIGITS) {
            throw new ScheduleParseException(source, lineNo, column, what + " index " + digits + " in '" + cell
                    + "' is too large: expected at most " + MAX_DIGITS + " digits");
        }
        return Integer.parseInt(trimmed);
    }
}
