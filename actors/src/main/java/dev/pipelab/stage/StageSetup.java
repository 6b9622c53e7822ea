package dev.pipelab.stage;

import dev.pipelab.clock.ClockMode;
import dev.pipelab.cluster.CborSerializable;
import dev.pipelab.model.LinkSpec;

/**
 * Everything a {@link Stage} needs, as data (it travels to the node that hosts the stage): which rank of which
 * replica it is, its row of the schedule with its stages' costs and its routing ({@link StageProgram.Data}), the
 * receiver buffer per link, the device memory and what to do when it overflows, the clock, and in real-numerics
 * mode the real model ({@link RealSetup}), and the outgoing pipeline links whose transfers the stage reports
 * ({@code sentLinks}, see {@link SentTransfers}) and whether it reports its ring link's ({@code sentRing}, see
 * {@link SentRing}); the links themselves then record none, see {@link dev.pipelab.link.LinkSetup#senderReports()}.
 */
public record StageSetup(int replica, int replicas, StageProgram.Data program, int linkBuffer,
                         long memoryBytes, OomPolicy oom, ClockMode clock, double speed, java.util.Optional<RealSetup> real,
                         java.util.List<SentLink> sentLinks, boolean sentRing)
        implements CborSerializable {

    /** The link to {@code toRank}, on {@code spec}, whose transfers this stage reports. */
    public record SentLink(int toRank, LinkSpec spec) implements CborSerializable {}

    /** Emulated mode, with the links reporting their own transfers. */
    public StageSetup(int replica, int replicas, StageProgram.Data program, int linkBuffer, long memoryBytes, OomPolicy oom,
                      ClockMode clock, double speed) {
        this(replica, replicas, program, linkBuffer, memoryBytes, oom, clock, speed, java.util.Optional.empty(), java.util.List.of(),
                false);
    }

    public StageSetup {
        if (replica < 0 || replica >= replicas) throw new IllegalArgumentException("replica must be in [0, " + replicas + "), got " + replica);
        if (linkBuffer < 1) throw new IllegalArgumentException("linkBuffer must be >= 1, got " + linkBuffer);
        sentLinks = java.util.List.copyOf(sentLinks);
        for (SentLink l : sentLinks) {
            if (l.toRank() == program.rank() || l.toRank() < 0 || l.toRank() >= program.ranks()) {
                throw new IllegalArgumentException("a sent link must lead to another rank of [0, " + program.ranks()
                        + "), got " + l.toRank() + " from rank " + program.rank());
            }
        }
    }

    public int rank() {
        return program.rank();
    }

    public String name() {
        return "stage-" + replica + "-" + rank();
    }
}
