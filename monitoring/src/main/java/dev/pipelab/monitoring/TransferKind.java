package dev.pipelab.monitoring;

import java.util.Locale;

/** What a message on a link carries. Its {@link #label()} is the name reports, traces and metrics use. */
public enum TransferKind {
    /** A forward output, to the next rank. */
    ACTIVATION,
    /** A backward output (input gradient), to the previous rank. */
    GRADIENT,
    /** A chunk of a data-parallel ring all-reduce, to the same rank of the next replica. */
    ALLREDUCE;

    /** {@code activation}, {@code gradient} or {@code allreduce}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
