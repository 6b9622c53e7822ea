package dev.pipelab.monitoring;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A run's final lineage of training steps and the proof that no micro-batch was lost or counted twice. Invariant: the
 * lineage holds, for each training step, the {@link Event.StepCommitted} of its last attempt that no recovery threw
 * away, and {@link #problems()} is empty exactly when every training step {@code 0..n-1} is committed once in it,
 * each replica consumed exactly m offsets, each once, no offset appears twice in the run, every rank applied the
 * optimizer exactly once per step, and the recoveries replayed as many steps as they say.
 *
 * <p>A {@link Event.Recovered} of attempt {@code a} resuming from training step {@code c} discards every commit of a
 * training step {@code >= c} made by an attempt before {@code a} (Kafka-style: the consumer goes back to the last
 * checkpointed offset, and what it committed after it is consumed again). Everything is keyed by attempt and training
 * step, so the ledger depends only on the set of events, never on their order.
 *
 * @param lineage   the counted commit of every training step, by training step
 * @param attempts  for every training step, the attempts that committed it (replays included), ascending
 * @param discarded the attempts whose commits a recovery threw away, ascending
 * @param problems  one line per violation, empty when the ledger balances
 */
public record Ledger(List<Event.StepCommitted> lineage, SortedMap<Integer, List<Integer>> attempts, List<Integer> discarded,
                     List<String> problems) {

    /** How many problems a one-line verdict lists before it counts the rest. */
    private static final int SHOWN = 3;

    public Ledger {
        lineage = List.copyOf(lineage);
        TreeMap<Integer, List<Integer>> copy = new TreeMap<>();
        attempts.forEach((step, list) -> copy.put(step, List.copyOf(list)));
        attempts = Collections.unmodifiableSortedMap(copy);
        discarded = List.copyOf(discarded);
        problems = List.copyOf(problems);
    }

    /**
     * The ledger of a run of {@code replicas} data-parallel replicas of {@code ranks} pipeline ranks consuming
     * {@code microBatches} micro-batches per replica per step, from its commits and recoveries (any order).
     */
    public static Ledger of(int replicas, int ranks, int microBatches, Collection<Event.StepCommitted> commits,
                            Collection<Event.Recovered> recoveries) {
        List<String> problems = new ArrayList<>();
        TreeMap<Integer, Event.StepCommitted> byAttempt = new TreeMap<>();
        for (Event.StepCommitted c : commits) {
            Event.StepCommitted before = byAttempt.put(c.step(), c);
            if (before != null && !before.equals(c)) {
                problems.add("attempt " + c.step() + ": two different commits (training steps " + before.trainingStep()
                        + " and " + c.trainingStep() + ")");
            }
        }
        TreeMap<Integer, Event.Recovered> recoveredAt = new TreeMap<>();
        for (Event.Recovered r : recoveries) recoveredAt.put(r.step(), r);

        // replay the history attempt by attempt: a commit joins the live commits of its step, a recovery discards the
        // live commits of the steps it goes back over
        TreeMap<Integer, List<Event.StepCommitted>> live = new TreeMap<>();
        TreeMap<Integer, List<Integer>> attempts = new TreeMap<>();
        List<Integer> discarded = new ArrayList<>();
        TreeSet<Integer> moments = new TreeSet<>();
        moments.addAll(byAttempt.keySet());
        moments.addAll(recoveredAt.keySet());
        for (int attempt : moments) {
            Event.StepCommitted c = byAttempt.get(attempt);
            Event.Recovered r = recoveredAt.get(attempt);
            if (c != null && r != null) {
                problems.add("attempt " + attempt + ": committed training step " + c.trainingStep()
                        + " and also failed (a recovery names it)");
            }
            if (r != null) {
                int thrownAway = 0;
                for (List<Event.StepCommitted> list : live.tailMap(r.resumedFromStep(), true).values()) {
                    for (Event.StepCommitted gone : list) discarded.add(gone.step());
                    thrownAway += list.size();
                }
                live.tailMap(r.resumedFromStep(), true).clear();
                if (thrownAway != r.replayedSteps()) {
                    problems.add("recovery of attempt " + attempt + ": says it replays " + r.replayedSteps()
                            + " step(s) from training step " + r.resumedFromStep() + ", but " + thrownAway
                            + " commit(s) from there were thrown away");
                }
            }
            if (c != null) {
                if (c.trainingStep() < 0) {
                    problems.add("attempt " + attempt + ": committed training step " + c.trainingStep() + ", expected >= 0");
                    continue;
                }
                live.computeIfAbsent(c.trainingStep(), k -> new ArrayList<>()).add(c);
                attempts.computeIfAbsent(c.trainingStep(), k -> new ArrayList<>()).add(attempt);
            }
        }
        Collections.sort(discarded);

        List<Event.StepCommitted> lineage = new ArrayList<>();
        int steps = live.isEmpty() ? 0 : live.lastKey() + 1;
        Map<Long, String> consumedBy = new HashMap<>();
        for (int step = 0; step < steps; step++) {
            List<Event.StepCommitted> list = live.get(step);
            if (list == null) {
                problems.add("training step " + step + ": never committed (later steps were)");
                continue;
            }
            if (list.size() > 1) {
                problems.add("training step " + step + ": committed " + list.size() + " times (attempts "
                        + String.join(", ", list.stream().map(x -> Integer.toString(x.step())).toList())
                        + "), expected once");
            }
            Event.StepCommitted counted = list.get(list.size() - 1);
            lineage.add(counted);
            check(counted, replicas, ranks, microBatches, consumedBy, problems);
        }
        return new Ledger(lineage, attempts, discarded, problems);
    }

    /** The checks of one counted commit: its replicas, their offsets (also against the run's) and optimizer steps. */
    private static void check(Event.StepCommitted c, int replicas, int ranks, int microBatches, Map<Long, String> consumedBy,
                              List<String> problems) {
        String where = "training step " + c.trainingStep() + " (attempt " + c.step() + ")";
        Set<Integer> seen = new HashSet<>();
        for (Event.Consumed r : c.replicas()) {
            String at = where + " replica " + r.replica();
            if (r.replica() < 0 || r.replica() >= replicas) {
                problems.add(at + ": no such replica, expected 0.." + (replicas - 1));
                continue;
            }
            if (!seen.add(r.replica())) {
                problems.add(at + ": listed twice");
                continue;
            }
            if (r.offsets().size() != microBatches) {
                problems.add(at + ": consumed " + r.offsets().size() + " offsets, expected " + microBatches);
            }
            String self = "training step " + c.trainingStep() + " replica " + r.replica();
            Set<Long> own = new HashSet<>();
            for (long offset : r.offsets()) {
                if (!own.add(offset)) {
                    problems.add(at + ": consumed offset " + offset + " more than once");
                    continue;
                }
                String other = consumedBy.putIfAbsent(offset, self);
                if (other != null) problems.add(at + ": consumed offset " + offset + ", already consumed by " + other);
            }
            if (r.optimizerSteps().size() != ranks) {
                problems.add(at + ": optimizer steps of " + r.optimizerSteps().size() + " ranks, expected " + ranks);
            }
            for (int rank = 0; rank < r.optimizerSteps().size(); rank++) {
                int applied = r.optimizerSteps().get(rank);
                if (applied != 1) problems.add(at + " rank " + rank + ": applied the optimizer " + applied + " times, expected once");
            }
        }
        for (int replica = 0; replica < replicas; replica++) {
            if (!seen.contains(replica)) problems.add(where + " replica " + replica + ": consumed nothing (missing)");
        }
    }

    /** Training steps in the lineage. */
    public int steps() {
        return lineage.size();
    }

    public boolean balanced() {
        return problems.isEmpty();
    }

    /**
     * The problems, and one more when the lineage does not hold exactly {@code expectedSteps} training steps (the run's
     * step count, which only its caller knows: the lineage alone cannot tell a missing last step).
     */
    public List<String> problems(int expectedSteps) {
        if (steps() == expectedSteps) return problems;
        List<String> out = new ArrayList<>(problems);
        out.add("the lineage holds " + steps() + " training steps, expected " + expectedSteps);
        return List.copyOf(out);
    }

    /** {@code balanced (20 steps)} or {@code NOT balanced: 2 problems: first; second}. */
    public String verdict() {
        if (balanced()) return "balanced (" + steps() + " training step" + (steps() == 1 ? "" : "s") + ")";
        StringBuilder b = new StringBuilder("NOT balanced: ").append(problems.size()).append(" problem")
                .append(problems.size() == 1 ? "" : "s").append(": ");
        b.append(String.join("; ", problems.subList(0, Math.min(SHOWN, problems.size()))));
        if (problems.size() > SHOWN) b.append("; ...");
        return b.toString();
    }

    /**
     * Offsets in consumption order as compact ranges: each run of consecutive ascending offsets as {@code first-last}
     * (or one number), comma-separated: {@code [0,1,2,3,8,9,5]} is {@code "0-3,8-9,5"}.
     */
    public static String ranges(List<Long> offsets) {
        StringBuilder b = new StringBuilder();
        int i = 0;
        while (i < offsets.size()) {
            int j = i;
            while (j + 1 < offsets.size() && offsets.get(j + 1) == offsets.get(j) + 1) j++;
            if (b.length() > 0) b.append(',');
            b.append(offsets.get(i));
            if (j > i) b.append('-').append(offsets.get(j));
            i = j + 1;
        }
        return b.toString();
    }
}
