package dev.pipelab.schedule;

import java.util.ArrayList;
import java.util.List;

/**
 * Schedule generators. Each reads like the algorithm on paper: named phases (warm-up, steady state,
 * cool-down), one list of actions per rank.
 */
public final class Schedules {

    private Schedules() {}

    /**
     * GPipe (Huang et al. 2019): every rank runs all m forwards, then all m backwards. Each stage stashes
     * all m micro-batches; bubble (p-1)/(m+p-1) with uniform stages and free links.
     */
    public static Schedule gpipe(int p, int m) {
        List<List<Action>> rows = new ArrayList<>(p);
        for (int s = 0; s < p; s++) {
            List<Action> row = new ArrayList<>(2 * m);
            for (int mb = 0; mb < m; mb++) row.add(Action.f(s, mb));
            for (int mb = 0; mb < m; mb++) row.add(Action.b(s, mb));
            rows.add(row);
        }
        return new Schedule("gpipe", p, 1, m, false, rows);
    }

    /**
     * 1F1B, the PipeDream-Flush schedule (Narayanan et al. 2021, §2.2): stage s warms up with
     * min(m, p-s-1) forwards, then alternates one forward and one backward, then drains the remaining
     * backwards. At most min(m, p-s) micro-batches are in flight on stage s; same bubble as GPipe.
     */
    public static Schedule oneFOneB(int p, int m) {
        List<List<Action>> rows = new ArrayList<>(p);
        for (int s = 0; s < p; s++) {
            int warmup = Math.min(m, p - s - 1);
            List<Action> row = new ArrayList<>(2 * m);
            // warm-up: forwards only
            for (int mb = 0; mb < warmup; mb++) row.add(Action.f(s, mb));
            // steady state: one forward, one backward
            for (int i = 0; i < m - warmup; i++) {
                row.add(Action.f(s, warmup + i));
                row.add(Action.b(s, i));
            }
            // cool-down: the backwards still owed
            for (int mb = m - warmup; mb < m; mb++) row.add(Action.b(s, mb));
            rows.add(row);
        }
        return new Schedule("1f1b", p, 1, m, false, rows);
    }
}
