package dev.pipelab.link;

import dev.pipelab.clock.ClockMode;
import dev.pipelab.model.LinkSpec;
import dev.pipelab.monitoring.TelemetryLevel;
import dev.pipelab.protocol.CborSerializable;

/**
 * Everything a {@link Link} needs, as data (it travels to the node that hosts the link). A pipeline link
 * carries activations and gradients of replica {@code replica} from {@code fromRank} to {@code toRank}; a ring
 * link ({@code ring}) carries all-reduce chunks of rank {@code fromRank == toRank} from replica {@code replica}
 * to replica {@code toReplica}. Invariant: {@code messagesPerStep} is how many messages the link carries in a step;
 * once it has carried them, it hands over its record of the step (at {@code telemetry} above
 * {@link TelemetryLevel#OFF}).
 */
public record LinkSetup(int replica, int toReplica, int fromRank, int toRank, boolean ring, LinkSpec spec, ClockMode clock,
                        double speed, int messagesPerStep, TelemetryLevel telemetry) implements CborSerializable {

    public LinkSetup {
        if (messagesPerStep < 0) throw new IllegalArgumentException("messagesPerStep must be >= 0, got " + messagesPerStep);
        if (telemetry == null) throw new IllegalArgumentException("telemetry must be given");
    }

    /** The pipeline link {@code fromRank -> toRank} of replica {@code replica}. */
    public static LinkSetup pipeline(int replica, int fromRank, int toRank, LinkSpec spec, ClockMode clock, double speed,
                                     int messagesPerStep, TelemetryLevel telemetry) {
        return new LinkSetup(replica, replica, fromRank, toRank, false, spec, clock, speed, messagesPerStep, telemetry);
    }

    /** The ring link from rank {@code rank} of replica {@code replica} to the same rank of {@code toReplica}. */
    public static LinkSetup ring(int replica, int toReplica, int rank, ClockMode clock, double speed, int messagesPerStep,
                                 TelemetryLevel telemetry) {
        return new LinkSetup(replica, toReplica, rank, rank, true, LinkSpec.FREE, clock, speed, messagesPerStep, telemetry);
    }

    public String name() {
        return ring ? "ring-" + fromRank + "-" + replica + "to" + toReplica : "link-" + replica + "-" + fromRank + "to" + toRank;
    }
}
