package dev.pipelab.protocol;

import dev.pipelab.monitoring.LinkRecord;
import dev.pipelab.monitoring.StageRecord;

import java.util.List;

/**
 * The control protocol every stage and link answers, whoever asks: a probe for quiescence (answered by a
 * {@link Report}) and a flush of the current step's record (answered by a {@link Flushed}). Invariant: these replies
 * name no actor's protocol, so an actor answers its coordinator without importing it.
 */
public final class Control {

    private Control() {}

    /**
     * One participant's answer to a probe.
     *
     * @param order  where its stuck lines go in the deadlock report (stages: replica·p + rank)
     * @param step   the stage's current step (-1 before its first), or {@link #NO_STEP} for a link
     * @param done   whether the stage finished the step (links: always)
     * @param stuck  what the stage waits for, in the evaluator's wording
     */
    public record Report(int wave, String who, int order, long sent, long received, boolean idle, int step, boolean done,
                         List<String> stuck) implements CborSerializable {
        /** The step of a participant that has none (a link). */
        public static final int NO_STEP = Integer.MIN_VALUE;

        public Report {
            stuck = List.copyOf(stuck);
        }
    }

    /**
     * A stage or link ({@code who}) handed over what it recorded of its current step and has not handed over yet:
     * at most one stage record or one link record (none with telemetry off), or part {@code part} of {@code parts} of
     * one ({@link RecordParts}): a large record comes as several replies in order, the last with {@code part == parts - 1}.
     */
    public record Flushed(String who, List<StageRecord> stages, List<LinkRecord> links, int part, int parts)
            implements CborSerializable {
        public Flushed {
            stages = List.copyOf(stages);
            links = List.copyOf(links);
            if (part < 0 || part >= parts) throw new IllegalArgumentException("part must be within 0.." + (parts - 1) + ", got " + part);
        }

        /** Everything in one reply. */
        public Flushed(String who, List<StageRecord> stages, List<LinkRecord> links) {
            this(who, stages, links, 0, 1);
        }

        /** Whether this is the flusher's last reply. */
        public boolean last() {
            return part == parts - 1;
        }
    }
}
