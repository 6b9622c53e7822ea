package dev.pipelab.monitoring;

import java.util.Locale;

/**
 * What became of one transmission on a link. Without faults every transmission is {@link #DELIVERED}; a
 * {@code link.loss} or {@code link.partition} fault drops some (the sender retransmits them), a {@code link.duplicate}
 * fault sends a second copy of some (docs/faults.md). Its {@link #label()} is the name traces use.
 */
public enum TransferOutcome {
    /** It arrived at the receiver. */
    DELIVERED,
    /** It occupied the wire but never arrived; the sender retransmits the message after its timeout. */
    DROPPED,
    /** A second copy of a message that arrived, sent after it; the receiver drops it by position. */
    DUPLICATE;

    /** {@code delivered}, {@code dropped} or {@code duplicate}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
