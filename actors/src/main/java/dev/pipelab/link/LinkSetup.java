package dev.pipelab.link;

import dev.pipelab.clock.ClockMode;
import dev.pipelab.cluster.CborSerializable;
import dev.pipelab.model.LinkSpec;

import java.util.List;

/**
 * Everything a {@link Link} needs, as data (it travels to the node that hosts the link). A pipeline link
 * carries activations and gradients of replica {@code replica} from {@code fromRank} to {@code toRank}; a ring
 * link ({@code ring}) carries all-reduce chunks of rank {@code fromRank == toRank} from replica {@code replica}
 * to replica {@code toReplica}. {@code messagesPerStep} is how many messages the link carries in a step (the link
 * reports a step's transfers as one batch once it has carried them all); 0 when unknown: each is reported alone.
 * {@code messages}, when not empty, are the step's messages by sequence number, as the sender's program sends them
 * (then {@code messagesPerStep == messages.size()}): the link then keeps only each message's times, by sequence number.
 */
public record LinkSetup(int replica, int toReplica, int fromRank, int toRank, boolean ring, LinkSpec spec, ClockMode clock,
                        double speed, int messagesPerStep, List<Message> messages) implements CborSerializable {

    /** What message {@code seq} of a step is: its kind ({@code activation} or {@code gradient}), model stage, micro-batch and size. */
    public record Message(String kind, int stage, int microBatch, long bytes) implements CborSerializable {}

    public LinkSetup {
        if (messagesPerStep < 0) throw new IllegalArgumentException("messagesPerStep must be >= 0, got " + messagesPerStep);
        messages = List.copyOf(messages);
        if (!messages.isEmpty() && messages.size() != messagesPerStep) {
            throw new IllegalArgumentException("messagesPerStep (" + messagesPerStep + ") must equal the number of messages ("
                    + messages.size() + ")");
        }
    }

    /** A pipeline link whose step count is known but not its messages (each transfer is recorded whole). */
    public static LinkSetup pipeline(int replica, int fromRank, int toRank, LinkSpec spec, ClockMode clock, double speed,
                                     int messagesPerStep) {
        return new LinkSetup(replica, replica, fromRank, toRank, false, spec, clock, speed, messagesPerStep, List.of());
    }

    /** A pipeline link carrying {@code messages} each step, by sequence number. */
    public static LinkSetup pipeline(int replica, int fromRank, int toRank, LinkSpec spec, ClockMode clock, double speed,
                                     List<Message> messages) {
        return new LinkSetup(replica, replica, fromRank, toRank, false, spec, clock, speed, messages.size(), messages);
    }

    public static LinkSetup ring(int replica, int toReplica, int rank, ClockMode clock, double speed, int messagesPerStep) {
        return new LinkSetup(replica, toReplica, rank, rank, true, LinkSpec.FREE, clock, speed, messagesPerStep, List.of());
    }

    public String name() {
        return ring ? "ring-" + fromRank + "-" + replica + "to" + toReplica : "link-" + replica + "-" + fromRank + "to" + toRank;
    }
}
