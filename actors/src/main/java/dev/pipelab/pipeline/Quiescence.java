package dev.pipelab.pipeline;

import dev.pipelab.protocol.Control.Report;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Deadlock detection by message counting, pure (no timeouts). Invariant: a deadlock is declared only after two
 * consecutive probe waves in which every participant was idle at the current step, at least one stage had not
 * finished it, and the totals of messages sent and received were equal to each other and unchanged between the
 * waves (Mattern's four-counter method): then no message is in flight and no action can start, forever.
 */
public final class Quiescence {

    /** What the caller must do next. */
    public enum Next { NOTHING, PROBE, DEADLOCK }

    private final int participants;
    private int step;
    private int wave;
    private boolean inProgress;
    private boolean noticeDuringWave;
    private final List<Report> replies = new ArrayList<>();
    private long confirmedSent = -1;
    private long confirmedReceived = -1;
    private List<String> stuck = List.of();

    public Quiescence(int participants) {
        this.participants = participants;
    }

    /** A new step: forget earlier waves. */
    public void newStep(int step) {
        this.step = step;
        confirmedSent = -1;
        confirmedReceived = -1;
    }

    /** A stage of {@code step} is blocked. Returns {@link Next#PROBE} when a wave should start now. */
    public Next blocked(int step) {
        if (step != this.step) return Next.NOTHING;
        if (inProgress) {
            noticeDuringWave = true;
            return Next.NOTHING;
        }
        return startWave();
    }

    /** Number of the wave to send (after {@link Next#PROBE}). */
    public int wave() {
        return wave;
    }

    private Next startWave() {
        wave++;
        inProgress = true;
        noticeDuringWave = false;
        replies.clear();
        return Next.PROBE;
    }

    /** One reply; a complete wave is judged. */
    public Next reply(Report r) {
        if (!inProgress || r.wave() != wave) return Next.NOTHING;
        replies.add(r);
        if (replies.size() < participants) return Next.NOTHING;
        inProgress = false;
        replies.sort(Comparator.comparingInt(Report::order));
        long sent = 0;
        long received = 0;
        boolean idle = true;
        boolean unfinished = false;
        List<String> waits = new ArrayList<>();
        for (Report x : replies) {
            sent += x.sent();
            received += x.received();
            boolean link = x.step() == Report.NO_STEP;
            idle &= x.idle() && (link || x.step() == step);
            if (!link && !x.done()) unfinished = true;
            waits.addAll(x.stuck());
        }
        boolean quiet = idle && unfinished && sent == received;
        if (quiet && sent == confirmedSent && received == confirmedReceived) {
            stuck = List.copyOf(waits);
            return Next.DEADLOCK;
        }
        if (quiet) {
            confirmedSent = sent;
            confirmedReceived = received;
            return startWave();
        }
        confirmedSent = -1;
        confirmedReceived = -1;
        return noticeDuringWave ? startWave() : Next.NOTHING;
    }

    /** What the stuck stages wait for (after {@link Next#DEADLOCK}), sorted by participant order. */
    public List<String> stuck() {
        return stuck;
    }
}
