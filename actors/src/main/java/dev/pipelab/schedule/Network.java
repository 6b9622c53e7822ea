package dev.pipelab.schedule;

import dev.pipelab.model.LinkSpec;

/**
 * The links between the ranks of one pipeline: for every ordered pair of distinct ranks, the link a message
 * from the first to the second travels on. Invariant: {@code link(a, b)} is defined for every a != b.
 */
@FunctionalInterface
public interface Network {

    LinkSpec link(int fromRank, int toRank);

    /** Every pair on the same link spec. */
    static Network uniform(LinkSpec link) {
        return (from, to) -> link;
    }

    /** Ideal links: transfers take no time. */
    static Network free() {
        return uniform(LinkSpec.FREE);
    }
}
