package dev.pipelab.link;

import dev.pipelab.clock.ClockMode;
import dev.pipelab.cluster.CborSerializable;
import dev.pipelab.model.LinkSpec;

/**
 * Everything a {@link Link} needs, as data (it travels to the node that hosts the link). A pipeline link
 * carries activations and gradients of replica {@code replica} from {@code fromRank} to {@code toRank}; a ring
 * link ({@code ring}) carries all-reduce chunks of rank {@code fromRank == toRank} from replica {@code replica}
 * to replica {@code toReplica}. {@code messagesPerStep} is how many messages the link carries in a step (the link
 * reports a step's transfers as one batch once it has carried them all); 0 when unknown: each is reported alone.
 * With {@code senderReports}, the link records nothing: its sender's stage reports its transfers (see
 * {@link dev.pipelab.stage.StageSetup#sentLinks()} and {@link dev.pipelab.stage.StageSetup#sentRing()}), from the
 * times it keeps anyway.
 */
public record LinkSetup(int replica, int toReplica, int fromRank, int toRank, boolean ring, LinkSpec spec, ClockMode clock,
                        double speed, int messagesPerStep, boolean senderReports) implements CborSerializable {

    public LinkSetup {
        if (messagesPerStep < 0) throw new IllegalArgumentException("messagesPerStep must be >= 0, got " + messagesPerStep);
    }

    /** A pipeline link that records its own transfers. */
    public static LinkSetup pipeline(int replica, int fromRank, int toRank, LinkSpec spec, ClockMode clock, double speed,
                                     int messagesPerStep) {
        return new LinkSetup(replica, replica, fromRank, toRank, false, spec, clock, speed, messagesPerStep, false);
    }

    /** A pipeline link whose transfers its sender's stage reports (the stage's setup must list it as a sent link). */
    public static LinkSetup reportedBySender(int replica, int fromRank, int toRank, LinkSpec spec, ClockMode clock, double speed,
                                             int messagesPerStep) {
        return new LinkSetup(replica, replica, fromRank, toRank, false, spec, clock, speed, messagesPerStep, true);
    }

    public static LinkSetup ring(int replica, int toReplica, int rank, ClockMode clock, double speed, int messagesPerStep) {
        return new LinkSetup(replica, toReplica, rank, rank, true, LinkSpec.FREE, clock, speed, messagesPerStep, false);
    }

    /** A ring link whose transfers its sender's stage reports (the stage's setup must say {@code sentRing}). */
    public static LinkSetup ringReportedBySender(int replica, int toReplica, int rank, ClockMode clock, double speed,
                                                 int messagesPerStep) {
        return new LinkSetup(replica, toReplica, rank, rank, true, LinkSpec.FREE, clock, speed, messagesPerStep, true);
    }

    public String name() {
        return ring ? "ring-" + fromRank + "-" + replica + "to" + toReplica : "link-" + replica + "-" + fromRank + "to" + toRank;
    }
}
