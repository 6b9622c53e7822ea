package dev.pipelab.stage;

import dev.pipelab.fault.FaultWindow;
import dev.pipelab.protocol.CborSerializable;

import java.util.List;
import java.util.Map;

/**
 * The faults that act on one rank during one step (docs/faults.md): on the stage itself ({@code stage.*} kinds), on
 * each of its outgoing pipeline links by destination rank, and on its outgoing ring link; with the retransmission
 * timeout and the give-up timeout its links use. The stage hands each link its windows before the step's first
 * transfer ({@code Link.Faults}).
 */
public record StageFaults(List<FaultWindow> stage, Map<Integer, List<FaultWindow>> links, List<FaultWindow> ring,
                          double retransmitSeconds, double timeoutSeconds) implements CborSerializable {

    /** No fault. */
    public static final StageFaults NONE = new StageFaults(List.of(), Map.of(), List.of(), 0.2, 1800);

    public StageFaults {
        stage = List.copyOf(stage);
        links = Map.copyOf(links);
        ring = List.copyOf(ring);
    }

    public boolean isEmpty() {
        return stage.isEmpty() && links.isEmpty() && ring.isEmpty();
    }
}
