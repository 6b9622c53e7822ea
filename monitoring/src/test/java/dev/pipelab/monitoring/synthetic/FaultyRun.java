package dev.pipelab.monitoring.synthetic;

import dev.pipelab.monitoring.Event;
import dev.pipelab.monitoring.RunInfo;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A hand-built faulty run of any shape, every attempt 10 s, records-free. Invariant: the events tell one consistent
 * history, so its ledger balances and its goodput is exactly 0.5:
 *
 * <pre>
 * attempt 0  [ 0, 10]  commits training step 0; checkpoint [10, 12]
 * attempt 1  [12, 22]  commits training step 1
 * attempt 2  [22, 25]  fault 0 (stage.crash 0/1) at 25: fails; detected 27, recovered 40 from step 1 (1 step
 *                      replayed, lost 3 s of attempt 2 and the 10 s of step 1's first run)
 * attempt 3  [40, 50]  commits training step 1 again; fault 1 (link.latency 0/0->1) active from 41 to 45
 * attempt 4  [50, 60]  commits training step 2
 * </pre>
 *
 * Useful: attempts 0, 3 and 4, 30 s of 60 s elapsed.
 */
public final class FaultyRun {

    public static final double GOODPUT = 0.5;
    public static final double LOST_WORK_SECONDS = 13.0;
    public static final double ELAPSED_SECONDS = 60.0;

    private FaultyRun() {}

    public static List<Event> events(RunInfo info) {
        List<Event> out = new ArrayList<>();
        attempt(out, info, 0, 0, 0.0);
        out.add(new Event.Checkpointed(0, 0, 12.0, 2.0, 1_000_000));
        attempt(out, info, 1, 1, 12.0);
        out.add(new Event.StepStarted(2, 22.0, samples(info) * 2, info.microBatches()));
        out.add(new Event.FaultInjected(2, 25.0, 0, "stage.crash", "0/1", "stage.crash 0/1 at=2+3.0"));
        out.add(new Event.StepAbandoned(2, "stage 0/1 crashed", List.of(), List.of()));
        out.add(new Event.Recovered(2, 0, "stage 0/1 crashed", 25.0, 27.0, 40.0, 1, 1, LOST_WORK_SECONDS));
        attempt(out, info, 3, 1, 40.0);
        out.add(new Event.FaultInjected(3, 41.0, 1, "link.latency", "0/0->1", "link.latency 0/0->1 at=1+1.0 for=4.0 seconds=0.5"));
        out.add(new Event.FaultHealed(3, 45.0, 1));
        attempt(out, info, 4, 2, 50.0);
        return out;
    }

    /** The same events, shuffled with {@code seed}. */
    public static List<Event> shuffled(RunInfo info, long seed) {
        List<Event> events = new ArrayList<>(events(info));
        Collections.shuffle(events, new java.util.Random(seed));
        return events;
    }

    private static void attempt(List<Event> out, RunInfo info, int attempt, int trainingStep, double start) {
        out.add(new Event.StepStarted(attempt, start, samples(info) * trainingStep, info.microBatches()));
        out.add(new Event.StepEnded(attempt, 10.0, start + 10.0, samples(info) * (trainingStep + 1)));
        out.add(commit(info, attempt, trainingStep));
    }

    /** A sound commit: replica x consumed offsets t·m·d + x·m + mb, every rank applied the optimizer once. */
    public static Event.StepCommitted commit(RunInfo info, int attempt, int trainingStep) {
        List<Event.Consumed> replicas = new ArrayList<>();
        List<Integer> once = Collections.nCopies(info.pipeline(), 1);
        for (int x = 0; x < info.data(); x++) {
            List<Long> offsets = new ArrayList<>();
            for (int mb = 0; mb < info.microBatches(); mb++) offsets.add(samples(info) * trainingStep + (long) x * info.microBatches() + mb);
            replicas.add(new Event.Consumed(x, offsets, once));
        }
        return new Event.StepCommitted(attempt, trainingStep, replicas);
    }

    private static long samples(RunInfo info) {
        return (long) info.microBatches() * info.data();
    }
}
