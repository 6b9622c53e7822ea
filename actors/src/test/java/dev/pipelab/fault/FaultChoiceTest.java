package dev.pipelab.fault;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** A seeded choice resolves to the same concrete targets for the same seed and run, of the kind's class and in order. */
class FaultChoiceTest {

    /** Two replicas of 4 stages, messages between neighbours; 10 steps; 3 workers. */
    private static final RunShape RUN = RunShape.of(2, 10,
            List.of(List.of(1), List.of(2, 0), List.of(3, 1), List.of(2)), 3);

    private static Fault fault(FaultKind kind, String target, long seed) {
        return Fault.of(kind, FaultSyntax.target(target).orElseThrow(), 1, 0.5, 3, 0.2, seed, "faults[0]");
    }

    private static List<String> targets(List<Fault> faults) {
        return faults.stream().map(f -> f.target().toString()).toList();
    }

    @Test
    void candidatesComeInAFixedOrder() {
        assertThat(FaultChoice.candidates(FaultKind.Target.STAGE, RUN)).extracting(Object::toString)
                .containsExactly("0/0", "0/1", "0/2", "0/3", "1/0", "1/1", "1/2", "1/3");
        assertThat(FaultChoice.candidates(FaultKind.Target.LINK, RUN)).extracting(Object::toString).containsExactly(
                "0/0->1", "0/1->0", "0/1->2", "0/2->1", "0/2->3", "0/3->2", "1/0->1", "1/1->0", "1/1->2", "1/2->1", "1/2->3", "1/3->2",
                "ring:0/0", "ring:0/1", "ring:0/2", "ring:0/3", "ring:1/0", "ring:1/1", "ring:1/2", "ring:1/3");
        assertThat(FaultChoice.candidates(FaultKind.Target.NODE, RUN)).extracting(Object::toString).containsExactly("node:0", "node:1", "node:2");
        RunShape single = RunShape.of(1, 10, List.of(List.of(1), List.of(0)), 0);
        assertThat(FaultChoice.candidates(FaultKind.Target.LINK, single)).extracting(Object::toString).containsExactly("0/0->1", "0/1->0");
    }

    @Test
    void allIsEveryCandidateAndKeepsTheEntrysEverythingElse() {
        Fault all = fault(FaultKind.LINK_LOSS, "all", 3);
        List<Fault> out = FaultChoice.resolve(all, RUN);
        assertThat(targets(out)).containsExactlyElementsOf(
                FaultChoice.candidates(FaultKind.Target.LINK, RUN).stream().map(Object::toString).toList());
        assertThat(out).allSatisfy(f -> assertThat(f).isEqualTo(all.on(f.target())));
    }

    @Test
    void percentTakesTheCeilingAndAtLeastOne() {
        // 8 stages: 25% -> 2, 30% -> ceil(2.4) = 3, 1% -> 1; 20 links: 10% -> 2 exactly
        assertThat(FaultChoice.resolve(fault(FaultKind.STAGE_CRASH, "percent:25", 0), RUN)).hasSize(2);
        assertThat(FaultChoice.resolve(fault(FaultKind.STAGE_CRASH, "percent:30", 0), RUN)).hasSize(3);
        assertThat(FaultChoice.resolve(fault(FaultKind.STAGE_CRASH, "percent:1", 0), RUN)).hasSize(1);
        assertThat(FaultChoice.resolve(fault(FaultKind.LINK_LATENCY, "percent:10", 0), RUN)).hasSize(2);
        assertThat(FaultChoice.resolve(fault(FaultKind.NODE_PAUSE, "percent:100", 0), RUN)).hasSize(3);
    }

    @Test
    void theChoiceIsTheSeedsAndOnlyTheSeeds() {
        Set<List<String>> seen = new HashSet<>();
        for (long seed = 0; seed < 40; seed++) {
            List<String> once = targets(FaultChoice.resolve(fault(FaultKind.STAGE_SLOWDOWN, "percent:25", seed), RUN));
            assertThat(targets(FaultChoice.resolve(fault(FaultKind.STAGE_SLOWDOWN, "percent:25", seed), RUN))).isEqualTo(once);
            // in candidate order, no target twice
            List<String> all = FaultChoice.candidates(FaultKind.Target.STAGE, RUN).stream().map(Object::toString).toList();
            assertThat(once).doesNotHaveDuplicates().isSortedAccordingTo((a, b) -> all.indexOf(a) - all.indexOf(b));
            seen.add(once);
        }
        // 28 pairs of 8 stages: forty seeds pick many different ones (a choice ignoring the seed would pick one)
        assertThat(seen).hasSizeGreaterThan(10);
        // 'one' is the first of the seed's shuffle: every stage is hit by some seed
        Set<String> ones = new HashSet<>();
        for (long seed = 0; seed < 200; seed++) ones.addAll(targets(FaultChoice.resolve(fault(FaultKind.STAGE_CRASH, "one", seed), RUN)));
        assertThat(ones).hasSize(8);
    }

    @Test
    void concreteFaultsPassThroughAndOrderIsKept() {
        Fault concrete = fault(FaultKind.STAGE_CRASH, "1/2", 0);
        Fault choice = fault(FaultKind.NODE_KILL, "one", 5);
        List<Fault> out = FaultChoice.resolve(List.of(concrete, choice, concrete), RUN);
        assertThat(out).hasSize(3);
        assertThat(out.get(0)).isSameAs(concrete);
        assertThat(out.get(1).target()).isInstanceOf(FaultTarget.Node.class);
        assertThat(out.get(2)).isSameAs(concrete);
    }
}
