package dev.pipelab.schedule;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A test oracle independent of the production evaluator: list scheduling of one step with the same cost for
 * every stage and free links. Invariant: an action starts at max(its rank is free, its inputs are done), in
 * each rank's order; R costs a forward.
 */
record UniformTimeline(Schedule schedule, double makespan, double busy, double[] firstStart, double[] lastEnd) {

    static UniformTimeline of(Schedule s, double tF, double tB, double tW) {
        Map<Action, Double> end = new HashMap<>();
        int[] next = new int[s.ranks()];
        double[] free = new double[s.ranks()];
        double[] first = new double[s.ranks()];
        Arrays.fill(first, Double.NaN);
        double busy = 0;
        boolean progress = true;
        while (progress) {
            progress = false;
            for (int r = 0; r < s.ranks(); r++) {
                List<Action> row = s.actions(r);
                while (next[r] < row.size()) {
                    Action a = row.get(next[r]);
                    Double ready = ready(s, a, end);
                    if (ready == null) break;
                    double start = Math.max(free[r], ready);
                    double cost = switch (a.kind()) {
                        case F, R -> tF;
                        case B -> tB;
                        case W -> tW;
                    };
                    if (Double.isNaN(first[r])) first[r] = start;
                    free[r] = start + cost;
                    end.put(a, free[r]);
                    busy += cost;
                    next[r]++;
                    progress = true;
                }
            }
        }
        for (int r = 0; r < s.ranks(); r++) {
            if (next[r] != s.actions(r).size()) throw new AssertionError("deadlock on rank " + r + " at #" + next[r]);
        }
        double makespan = 0;
        for (double f : free) makespan = Math.max(makespan, f);
        return new UniformTimeline(s, makespan, busy, first, free);
    }

    /** When a's inputs are all done, or null while one is not. */
    private static Double ready(Schedule s, Action a, Map<Action, Double> end) {
        int k = a.stage();
        int mb = a.microBatch();
        List<Action> needs = switch (a.kind()) {
            case F -> k > 0 ? List.of(Action.f(k - 1, mb)) : List.of();
            case B -> k < s.stages() - 1 ? List.of(Action.f(k, mb), Action.b(k + 1, mb)) : List.of(Action.f(k, mb));
            case W -> List.of(Action.b(k, mb));
            case R -> List.of(Action.f(k, mb));
        };
        double t = 0;
        for (Action n : needs) {
            Double e = end.get(n);
            if (e == null) return null;
            t = Math.max(t, e);
        }
        return t;
    }

    /** Idle stage-time over total stage-time in [0, makespan]. */
    double idleFraction() {
        return 1 - busy / (schedule.ranks() * makespan);
    }

    /** Idle time of rank r between its first start and its last end. */
    double innerIdle(int r, double tF, double tB, double tW) {
        double work = 0;
        for (Action a : schedule.actions(r)) {
            work += switch (a.kind()) {
                case F, R -> tF;
                case B -> tB;
                case W -> tW;
            };
        }
        return lastEnd[r] - firstStart[r] - work;
    }
}
