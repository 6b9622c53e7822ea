package dev.pipelab.fault;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Checks faults against the run they are to hit ({@link RunShape}): the kind fits its target (a link kind on a link or
 * ring link, a stage kind on a stage, a node kind on a node), a stage, link or ring link exists in the run (a link only
 * where the schedule sends messages), a node fault needs a cluster run and one of its workers, a choice has something
 * to choose from, and the fault starts within the run's steps. Each problem names the entry's key ({@code target},
 * {@code atStep}); a heal beyond the run is no problem (the fault then lasts to the end).
 */
public final class FaultCheck {

    /** The most links a message lists before it only counts them. */
    private static final int LISTED_LINKS = 12;

    private FaultCheck() {}

    /** Every problem of every fault, in the faults' order. */
    public static List<FaultProblem> check(List<Fault> faults, RunShape shape) {
        List<FaultProblem> out = new ArrayList<>();
        for (Fault f : faults) out.addAll(check(f, shape));
        return List.copyOf(out);
    }

    /** The problems of one fault (at most one about its target, one about its step). */
    public static List<FaultProblem> check(Fault f, RunShape shape) {
        List<FaultProblem> out = new ArrayList<>();
        String problem = target(f, shape);
        if (problem != null) out.add(new FaultProblem(f.where(), "target", problem));
        if (f.atStep() >= shape.steps()) {
            out.add(new FaultProblem(f.where(), "atStep", "must be within the run's " + shape.steps() + " step"
                    + (shape.steps() == 1 ? " (0)" : "s (0.." + (shape.steps() - 1) + ")") + ", got " + f.atStep()));
        }
        return out;
    }

    private static String target(Fault f, RunShape s) {
        FaultKind.Target wanted = f.kind().target();
        FaultTarget t = f.target();
        String kind = f.kind().key();
        if (t instanceof FaultTarget.Choice) {
            if (wanted == FaultKind.Target.NODE) {
                String node = nodeRun(s);
                if (node != null) return node;
                if (!s.workersKnown()) return null;
            }
            if (FaultChoice.candidates(wanted, s).isEmpty()) {
                return "'" + t + "' has no " + wanted.name().toLowerCase(Locale.ROOT) + " to choose from in this run"
                        + (wanted == FaultKind.Target.LINK ? " (one stage, one replica: no messages travel)" : "");
            }
            return null;
        }
        boolean fits = switch (wanted) {
            case STAGE -> t instanceof FaultTarget.Stage;
            case LINK -> t instanceof FaultTarget.Link || t instanceof FaultTarget.Ring;
            case NODE -> t instanceof FaultTarget.Node;
        };
        if (!fits) return kind + " acts on " + what(wanted) + ", got " + t + " (" + classOf(t) + ")";
        if (t instanceof FaultTarget.Stage st) {
            return stage(st.replica(), st.rank(), s);
        }
        if (t instanceof FaultTarget.Link l) {
            String p = stage(l.replica(), l.fromRank(), s);
            if (p == null && l.toRank() >= s.ranks()) p = rank(l.toRank(), s);
            if (p != null) return p;
            if (!s.links().contains(l)) {
                List<String> links = s.links().stream().filter(k -> k.replica() == l.replica()).map(FaultTarget.Link::toString).toList();
                return t + " carries no messages in this schedule (" + (links.isEmpty() ? "replica " + l.replica() + " has no links"
                        : links.size() <= LISTED_LINKS ? "links: " + String.join(", ", links)
                        : links.size() + " links, e.g. " + String.join(", ", links.subList(0, LISTED_LINKS))) + ")";
            }
            return null;
        }
        if (t instanceof FaultTarget.Ring r) {
            if (!s.rings()) return t + ": the run has one replica, so no ring links (they join replicas for the all-reduce)";
            return stage(r.replica(), r.rank(), s);
        }
        FaultTarget.Node n = (FaultTarget.Node) t;
        String node = nodeRun(s);
        if (node != null) return node;
        if (s.workersKnown() && n.index() >= s.workers()) {
            return "node " + n.index() + " is beyond the run's " + s.workers() + " worker" + (s.workers() == 1 ? " (0)" : "s (0.." + (s.workers() - 1) + ")");
        }
        return null;
    }

    private static String nodeRun(RunShape s) {
        return s.workers() == 0 ? "node faults need a cluster run (pipelab run --cluster): an embedded run has no worker JVMs" : null;
    }

    private static String stage(int replica, int rank, RunShape s) {
        if (replica >= s.replicas()) {
            return "replica " + replica + " is beyond the run's " + s.replicas() + " replica" + (s.replicas() == 1 ? " (0)" : "s (0.." + (s.replicas() - 1) + ")");
        }
        return rank >= s.ranks() ? rank(rank, s) : null;
    }

    private static String rank(int rank, RunShape s) {
        return "rank " + rank + " is beyond the run's " + s.ranks() + " rank" + (s.ranks() == 1 ? " (0)" : "s (0.." + (s.ranks() - 1) + ")");
    }

    private static String what(FaultKind.Target t) {
        return switch (t) {
            case STAGE -> "a stage (R/K)";
            case LINK -> "a link (R/A->B or ring:R/K)";
            case NODE -> "a node (node:N)";
        };
    }

    private static String classOf(FaultTarget t) {
        if (t instanceof FaultTarget.Stage) return "a stage";
        if (t instanceof FaultTarget.Link) return "a link";
        if (t instanceof FaultTarget.Ring) return "a ring link";
        return t instanceof FaultTarget.Node ? "a node" : "a choice";
    }
}
