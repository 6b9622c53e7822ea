package dev.pipelab.schedule;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * {@link #validate} never throws for a bad schedule, and a schedule is valid exactly when the result has no
 * problems, that is when each stage k runs on its rank of the schedule's placement exactly m F and m B
 * (and m W iff the backward is split), each once, with micro-batch ids in [0, m), a B after its own F, a W
 * after its B, an R between its F and its B, and every rank can run its whole list in order.
 *
 * <p>Executability is decided by simulating the dependency graph: F(k, mb) needs F(k-1, mb); B(k, mb) needs
 * its own F(k, mb) and B(k+1, mb) (only its F on the last stage); W(k, mb) needs B(k, mb); R(k, mb) needs
 * F(k, mb); and each rank runs its list strictly in order. Whatever never runs is a deadlock, reported at the
 * first stuck action of each rank with what it waits for.
 */
public final class ScheduleValidator {

    private ScheduleValidator() {}

    /**
     * {@code problems} is sorted by rank, then by index (absent actions last in their rank): the outcome of
     * {@link #validate}.
     */
    public record Result(Schedule schedule, List<ScheduleProblem> problems) {

        public Result {
            problems = List.copyOf(problems);
        }

        /** Whether the schedule has no problems. */
        public boolean isValid() {
            return problems.isEmpty();
        }

        /**
         * The whole grid with each offending cell marked {@code [0B3]}, then one line per problem
         * ({@code rank 2 #7 2B3: ...}); for a valid schedule the plain grid and {@code ok}.
         */
        public String render() {
            StringBuilder out = new StringBuilder(ScheduleText.header(schedule)).append('\n');
            if (problems.isEmpty()) {
                return out.append(ScheduleText.grid(schedule)).append("ok\n").toString();
            }
            Set<List<Integer>> marked = new HashSet<>();
            for (ScheduleProblem p : problems) p.cell().ifPresent(i -> marked.add(List.of(p.rank(), i)));
            out.append(ScheduleText.grid(schedule, marked));
            out.append(problems.size()).append(problems.size() == 1 ? " problem:\n" : " problems:\n");
            for (ScheduleProblem p : problems) out.append("  ").append(p).append('\n');
            return out.toString();
        }
    }

    /** Every problem of the schedule at once. */
    public static Result validate(Schedule schedule) {
        List<ScheduleProblem> problems = new ArrayList<>();
        Map<Action, int[]> firstAt = new HashMap<>(); // action -> {rank, index} of its first occurrence
        checkCells(schedule, problems, firstAt);
        checkCounts(schedule, problems, firstAt);
        checkRankOrder(schedule, problems);
        checkExecutable(schedule, problems, firstAt);
        problems.sort(Comparator.comparingInt(ScheduleProblem::rank)
                .thenComparingInt(p -> p.index() == ScheduleProblem.ABSENT ? Integer.MAX_VALUE : p.index()));
        return new Result(schedule, problems);
    }

    /** Placement, ranges, W only when split, duplicates: one cell at a time. */
    private static void checkCells(Schedule s, List<ScheduleProblem> problems, Map<Action, int[]> firstAt) {
        for (int r = 0; r < s.ranks(); r++) {
            List<Action> row = s.actions(r);
            for (int i = 0; i < row.size(); i++) {
                Action a = row.get(i);
                if (a.stage() >= s.stages()) {
                    problems.add(new ScheduleProblem(r, i, a, "stage " + a.stage() + " out of range: expected [0, "
                            + s.stages() + ") for p=" + s.ranks() + " v=" + s.virtualStages()));
                } else if (s.rankOf(a.stage()) != r) {
                    problems.add(new ScheduleProblem(r, i, a, "on the wrong rank: stage " + a.stage()
                            + " lives on rank " + s.rankOf(a.stage()) + " (placement " + s.placement() + ")"));
                }
                if (a.microBatch() >= s.microBatches()) {
                    problems.add(new ScheduleProblem(r, i, a, "micro-batch " + a.microBatch() + " out of range: expected [0, "
                            + s.microBatches() + ")"));
                }
                if (a.kind() == Action.Kind.W && !s.splitBackward()) {
                    problems.add(new ScheduleProblem(r, i, a, "W in a schedule that does not split the backward (split=false)"));
                }
                int[] first = firstAt.putIfAbsent(a, new int[] {r, i});
                if (first != null) {
                    problems.add(new ScheduleProblem(r, i, a, "duplicate: " + a + " already runs at rank " + first[0] + " #" + first[1]));
                }
            }
        }
    }

    /** Each stage runs every micro-batch's F and B (and W when split) once: report the ones no rank runs. */
    private static void checkCounts(Schedule s, List<ScheduleProblem> problems, Map<Action, int[]> firstAt) {
        List<Action.Kind> required = s.splitBackward()
                ? List.of(Action.Kind.F, Action.Kind.B, Action.Kind.W) : List.of(Action.Kind.F, Action.Kind.B);
        for (int k = 0; k < s.stages(); k++) {
            for (Action.Kind kind : required) {
                int present = 0;
                List<Action> missing = new ArrayList<>();
                for (int mb = 0; mb < s.microBatches(); mb++) {
                    Action a = new Action(k, kind, mb);
                    if (firstAt.containsKey(a)) present++;
                    else missing.add(a);
                }
                for (Action a : missing) {
                    problems.add(new ScheduleProblem(s.rankOf(k), ScheduleProblem.ABSENT, a, "missing: stage " + k + " runs "
                            + present + " of " + s.microBatches() + " " + kind + " (expected one per micro-batch)"));
                }
            }
        }
    }

    /** On a rank: B after its own F, W after its B, R after its F and before its B. */
    private static void checkRankOrder(Schedule s, List<ScheduleProblem> problems) {
        for (int r = 0; r < s.ranks(); r++) {
            List<Action> row = s.actions(r);
            Map<Action, Integer> index = new HashMap<>();
            for (int i = row.size() - 1; i >= 0; i--) index.put(row.get(i), i);
            for (int i = 0; i < row.size(); i++) {
                Action a = row.get(i);
                switch (a.kind()) {
                    case B -> requireBefore(Action.f(a.stage(), a.microBatch()), "forward", a, r, i, index, problems);
                    case W -> requireBefore(Action.b(a.stage(), a.microBatch()), "backward", a, r, i, index, problems);
                    case R -> {
                        requireBefore(Action.f(a.stage(), a.microBatch()), "forward", a, r, i, index, problems);
                        Integer b = index.get(Action.b(a.stage(), a.microBatch()));
                        if (b != null && b < i) {
                            problems.add(new ScheduleProblem(r, i, a, "recompute after its backward "
                                    + Action.b(a.stage(), a.microBatch()) + " (#" + b + "): expected before it"));
                        }
                    }
                    case F -> { }
                }
            }
        }
    }

    private static void requireBefore(Action needed, String what, Action a, int r, int i, Map<Action, Integer> index,
                                      List<ScheduleProblem> problems) {
        Integer at = index.get(needed);
        if (at != null && at > i) {
            problems.add(new ScheduleProblem(r, i, a, "runs before its " + what + " " + needed + " (#" + at + ")"));
        }
    }

    /** Run every rank's list in order as far as the dependencies allow; report the first stuck action per rank. */
    private static void checkExecutable(Schedule s, List<ScheduleProblem> problems, Map<Action, int[]> firstAt) {
        Set<Action> done = new HashSet<>();
        int[] next = new int[s.ranks()];
        boolean progress = true;
        while (progress) {
            progress = false;
            for (int r = 0; r < s.ranks(); r++) {
                List<Action> row = s.actions(r);
                while (next[r] < row.size() && waitsFor(s, row.get(next[r]), done).isEmpty()) {
                    done.add(row.get(next[r]));
                    next[r]++;
                    progress = true;
                }
            }
        }
        for (int r = 0; r < s.ranks(); r++) {
            List<Action> row = s.actions(r);
            if (next[r] == row.size()) continue;
            Action stuck = row.get(next[r]);
            Action needed = waitsFor(s, stuck, done).orElseThrow();
            int[] at = firstAt.get(needed);
            String where = at == null ? "which no rank runs" : "at rank " + at[0] + " #" + at[1] + ", which never runs";
            int after = row.size() - next[r] - 1;
            problems.add(new ScheduleProblem(r, next[r], stuck, "deadlock: never runs, waits for " + needed + " (" + where + ")"
                    + (after > 0 ? "; " + after + " more action" + (after == 1 ? "" : "s") + " on this rank never run" : "")));
        }
    }

    /** The first dependency of {@code a} not yet done, if any. Out-of-range actions (already reported) need nothing. */
    private static Optional<Action> waitsFor(Schedule s, Action a, Set<Action> done) {
        if (a.stage() >= s.stages()) return Optional.empty();
        Set<Action> needs = new LinkedHashSet<>(2);
        int k = a.stage();
        int mb = a.microBatch();
        switch (a.kind()) {
            case F -> { if (k > 0) needs.add(Action.f(k - 1, mb)); }
            case B -> {
                needs.add(Action.f(k, mb));
                if (k < s.stages() - 1) needs.add(Action.b(k + 1, mb));
            }
            case W -> needs.add(Action.b(k, mb));
            case R -> needs.add(Action.f(k, mb));
        }
        for (Action n : needs) if (!done.contains(n)) return Optional.of(n);
        return Optional.empty();
    }
}
