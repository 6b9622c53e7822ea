package dev.pipelab.monitoring;

import dev.pipelab.monitoring.synthetic.StepBuilder;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * A hand-built GPipe run: p=2, d=1, m=2, F = 1 s, B = 2 s, optimizer 0.5 s, every transfer 0.25 s. Each step:
 *
 * <pre>
 * rank 0: F0 [0,1] F1 [1,2]                          B0 [5.5,7.5] B1 [7.5,9.5] OPT [9.5,10]
 * rank 1:   F0 [1.25,2.25] F1 [2.25,3.25] B0 [3.25,5.25] B1 [5.25,7.25] OPT [7.25,7.75]
 * </pre>
 *
 * Step time 10 s, busy 6.5 s per rank, so the bubble is (20 - 13) / 20 = 0.35.
 */
final class TinyGPipe {

    static final int B = 6172;
    static final int SEQ = 8;

    private TinyGPipe() {}

    static RunInfo info() {
        return new RunInfo("tiny", "gpipe", 2, 1, 1, 1, B, 2, SEQ, 1e12, 1.5e12, 1e11, 1_000_000_000L,
                List.of(3, 5), List.of(60L, 40L));
    }

    /** Steps 0 .. steps-1, each 10 s, back to back on the run's axis. */
    static List<Event> events(int steps) {
        List<Event> out = new ArrayList<>();
        for (int k = 0; k < steps; k++) out.addAll(step(k));
        return out;
    }

    static List<Event> shuffled(int steps, long seed) {
        List<Event> events = new ArrayList<>(events(steps));
        Collections.shuffle(events, new Random(seed));
        return events;
    }

    static List<Event> step(int k) {
        return step(builder(k));
    }

    /** The step's StepStarted, then its StepEnded with the records {@code b} holds. */
    static List<Event> step(StepBuilder b) {
        int k = b.step();
        long samples = (long) B * 2;
        return List.of(new Event.StepStarted(k, 10.0 * k, samples * k, 2), b.ended(10.0, 10.0 * (k + 1), samples * (k + 1)));
    }

    /** Step {@code k}'s spans, to add to. */
    static StepBuilder builder(int k) {
        StepBuilder b = new StepBuilder(info(), k);
        span(b, 0, Phase.F, 0, 0, 1);
        span(b, 0, Phase.F, 1, 1, 2);
        span(b, 1, Phase.F, 0, 1.25, 2.25);
        span(b, 1, Phase.F, 1, 2.25, 3.25);
        span(b, 1, Phase.B, 0, 3.25, 5.25);
        span(b, 1, Phase.B, 1, 5.25, 7.25);
        span(b, 0, Phase.B, 0, 5.5, 7.5);
        span(b, 0, Phase.B, 1, 7.5, 9.5);
        span(b, 1, Phase.OPT, -1, 7.25, 7.75);
        span(b, 0, Phase.OPT, -1, 9.5, 10);
        b.transfer(0, 0, 1, TransferKind.ACTIVATION, 0, 0, 1000, 1, 1, 1.25);
        b.transfer(0, 0, 1, TransferKind.ACTIVATION, 0, 1, 1000, 2, 2, 2.25);
        b.transfer(0, 1, 0, TransferKind.GRADIENT, 1, 0, 1000, 5.25, 5.25, 5.5);
        b.transfer(0, 1, 0, TransferKind.GRADIENT, 1, 1, 1000, 7.25, 7.25, 7.5);
        b.memory(0, 0, 0, 60).memory(0, 0, 1, 110).memory(0, 0, 2, 160).memory(0, 0, 7.5, 110).memory(0, 0, 9.5, 60);
        b.memory(0, 1, 2.25, 90).memory(0, 1, 3.25, 140).memory(0, 1, 5.25, 90).memory(0, 1, 7.25, 40);
        return b;
    }

    static void span(StepBuilder b, int rank, Phase phase, int mb, double start, double end) {
        b.action(0, rank, rank, phase, mb, start, end);
    }
}
