package dev.pipelab.stage;

import dev.pipelab.model.LinkSpec;
import dev.pipelab.schedule.RingAllReduce;
import dev.pipelab.schedule.Schedule;
import dev.pipelab.schedule.StageCost;

import java.util.ArrayList;
import java.util.List;

/** Non-uniform, non-round stage costs so that floating-point order matters. */
public final class TestCosts {

    public static final LinkSpec SLOW = new LinkSpec("slow", 3.7e9, 0.0031);

    private TestCosts() {}

    /**
     * @param d          data-parallel replicas (ring all-reduce over {@code ring})
     * @param recompute  whether R actions cost time and bytes
     */
    public static List<StageCost> of(Schedule schedule, int d, boolean recompute, LinkSpec ring) {
        List<StageCost> out = new ArrayList<>();
        for (int k = 0; k < schedule.stages(); k++) {
            double f = 0.1 * (k + 1) + 0.013;
            double bi = 0.17 * (k % 3 + 1) + 0.0071;
            double bw = schedule.splitBackward() ? 0.09 * (k % 2 + 1) + 0.0033 : 0.05 * (k + 1) + 0.0017;
            double r = recompute ? 0.7 * f : 0;
            long fwdBytes = 123_456_789L + 1_000_003L * k;
            long bwdBytes = 98_765_431L + 777_777L * k;
            long stash = 1_000_000_007L + 13L * k;
            long recomputeBytes = recompute ? 3_000_000_019L : 0;
            long staticBytes = 20_000_000_033L * (k + 1);
            RingAllReduce ar = d > 1 ? RingAllReduce.ring(5_000_000_011L * (k + 1), d, ring) : RingAllReduce.NONE;
            double opt = 0.0123 * (k + 2) + 0.00077;
            out.add(new StageCost(f, bi, bw, r, fwdBytes, bwdBytes, stash, recomputeBytes, staticBytes, ar, opt));
        }
        return out;
    }
}
