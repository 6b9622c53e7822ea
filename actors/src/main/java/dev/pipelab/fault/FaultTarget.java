package dev.pipelab.fault;

/**
 * Where a fault acts: one stage ({@code replica/rank}), one pipeline link direction ({@code replica/from->to}), one
 * ring link (from {@code replica} to the next replica, on {@code rank}: {@code ring:replica/rank}), one worker node
 * ({@code node:N}), or a seeded choice among the targets of the fault's kind ({@code one}, {@code all},
 * {@code percent:N}). {@link #toString()} gives the written form, which {@code FaultSyntax} reads back.
 */
public sealed interface FaultTarget {

    record Stage(int replica, int rank) implements FaultTarget {
        @Override public String toString() { return replica + "/" + rank; }
    }

    record Link(int replica, int fromRank, int toRank) implements FaultTarget {
        @Override public String toString() { return replica + "/" + fromRank + "->" + toRank; }
    }

    record Ring(int replica, int rank) implements FaultTarget {
        @Override public String toString() { return "ring:" + replica + "/" + rank; }
    }

    record Node(int index) implements FaultTarget {
        @Override public String toString() { return "node:" + index; }
    }

    /** A seeded choice: {@code ONE} target, {@code ALL} of them, or {@code percent} percent of them (at least one). */
    record Choice(Mode mode, int percent) implements FaultTarget {
        public enum Mode { ONE, ALL, PERCENT }

        public Choice {
            if (mode == Mode.PERCENT && (percent < 1 || percent > 100)) {
                throw new IllegalArgumentException("percent must be within 1..100, got " + percent);
            }
        }

        @Override public String toString() {
            return switch (mode) {
                case ONE -> "one";
                case ALL -> "all";
                case PERCENT -> "percent:" + percent;
            };
        }
    }
}
