package dev.pipelab.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.pipelab.scenario.Scenario;
import dev.pipelab.scenario.ScenarioLoader;
import dev.pipelab.schedule.Action;
import dev.pipelab.schedule.PassTimes;
import dev.pipelab.schedule.Schedules;
import dev.pipelab.schedule.Timeline;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * zb-1p and zb-2p in a scenario: built from the plan's own pass times, chosen by the plan's own per-stage costs, alike
 * with and without search's cache.
 */
class ZeroBubblePlanTest {

    private static final Path ZB_AUTO = Path.of("..", "scenarios", "zb-auto.yaml");

    private static Scenario load(String... sets) {
        return ScenarioLoader.load(ZB_AUTO, List.of(sets));
    }

    @Test
    void theScenarioIsBuiltFromItsOwnProfiledTimes() {
        Plan plan = Planner.plan(load());
        PassTimes times = Planner.passTimes(plan.stageCosts(), plan.network(), plan.pipeline());
        // scenarios/zb-auto.yaml: F=1.0, B=1.5, W=0.75, every message 0.1 s on its link
        assertThat(times.forwardSeconds()).isEqualTo(1.0);
        assertThat(times.backwardInputSeconds()).isEqualTo(1.5);
        assertThat(times.backwardWeightSeconds()).isEqualTo(0.75);
        assertThat(times.commSeconds()).isCloseTo(0.1, within(1e-12));
        assertThat(plan.schedule().name()).isEqualTo("zb-1p");
        assertThat(plan.schedule().splitBackward()).isTrue();
        assertThat(plan.stageCosts()).allSatisfy(c -> assertThat(c.backwardWeightSeconds()).isEqualTo(0.75));
        Timeline t = plan.evaluate();
        for (int r = 0; r < 4; r++) assertThat(t.peakInFlight(r)).isLessThanOrEqualTo(4);
        // same memory, no slower than the handcrafted ZB-H1; zb-2p no slower than ZB-H2
        assertThat(t.stepTimeSeconds()).isLessThanOrEqualTo(Planner.plan(load("training.schedule=zb-h1")).evaluate().stepTimeSeconds());
        Timeline zb2p = Planner.plan(load("training.schedule=zb-2p")).evaluate();
        assertThat(zb2p.stepTimeSeconds()).isLessThan(Planner.plan(load("training.schedule=zb-h2")).evaluate().stepTimeSeconds());
        for (int r = 0; r < 4; r++) assertThat(zb2p.peakInFlight(r)).isLessThanOrEqualTo(8);
    }

    @Test
    void recomputationCountsInTheBackwardTheScheduleIsBuiltFor() {
        Plan plan = Planner.plan(load("training.recompute=full", "costs.recomputeSeconds=0.5"));
        PassTimes times = Planner.passTimes(plan.stageCosts(), plan.network(), plan.pipeline());
        assertThat(times.backwardInputSeconds()).isEqualTo(2.0);
        // the schedule runs, and was judged, with its recomputation: one R before every B
        assertThat(plan.schedule().actionsByRank()).allSatisfy(row -> assertThat(row.stream()
                .filter(a -> a.kind() == Action.Kind.R).count()).isEqualTo(8));
    }

    @Test
    void searchsCacheNeverHandsACandidateAnotherPlansAutomaticSchedule() {
        ScheduleCache cache = new ScheduleCache();
        for (String forward : List.of("1.0", "2.5", "1.0")) {
            for (String recompute : List.of("none", "full")) {
                Scenario s = load("costs.forwardSeconds=" + forward, "training.recompute=" + recompute, "costs.recomputeSeconds=0.5");
                Plan cached = Planner.plan(s, false, cache);
                Plan fresh = Planner.plan(s);
                assertThat(cached.schedule()).as("F=%s recompute=%s", forward, recompute).isEqualTo(fresh.schedule());
                assertThat(cached.evaluate().stepTimeSeconds()).isEqualTo(fresh.evaluate().stepTimeSeconds());
            }
        }
        assertThat(Planner.plan(load("costs.forwardSeconds=2.5")).schedule())
                .isNotEqualTo(Planner.plan(load()).schedule());
    }

    /**
     * The plan's stages are not uniform (the first holds the embedding, the last the output layer and the loss, links
     * take time), so the candidate fastest for the uniform pass times need not be fastest in the plan: the plan judges
     * them with its own costs, and so is never slower than the handcrafted schedule of the same memory, nor holds more.
     */
    @Test
    void inThePlanItselfNeverSlowerThanZbH1NorZbH2AtTheirMemory() {
        Path scenario = Path.of("..", "scenarios", "schedules-4x8.yaml");
        int checked = 0;
        for (int p : new int[] {2, 3, 4}) {
            for (int m : new int[] {p, 2 * p, 3 * p + 1}) {
                for (String recompute : List.of("none", "selective", "full")) {
                    for (String link : List.of("free", "ib-hdr")) {
                        List<String> sets = List.of("parallelism.pipeline=" + p, "batch.microBatches=" + m,
                                "training.recompute=" + recompute, "hardware.intraNode=" + link, "hardware.interNode=" + link,
                                "hardware.devicesPerNode=1");
                        for (String[] pair : new String[][] {{"zb-1p", "zb-h1"}, {"zb-2p", "zb-h2"}}) {
                            Timeline auto = plan(scenario, sets, pair[0]);
                            Timeline hand = plan(scenario, sets, pair[1]);
                            String in = pair[0] + " " + sets;
                            assertThat(auto.stepTimeSeconds()).as(in).isLessThanOrEqualTo(hand.stepTimeSeconds());
                            int limit = pair[0].equals("zb-1p") ? p : 2 * p;
                            for (int r = 0; r < p; r++) assertThat(auto.peakInFlight(r)).as("%s rank %d", in, r).isLessThanOrEqualTo(limit);
                            checked++;
                        }
                    }
                }
            }
        }
        assertThat(checked).isEqualTo(3 * 3 * 3 * 2 * 2);
    }

    private static Timeline plan(Path scenario, List<String> sets, String schedule) {
        List<String> all = new ArrayList<>(sets);
        all.add("training.schedule=" + schedule);
        return Planner.plan(ScenarioLoader.load(scenario, all)).evaluate();
    }

    @Test
    void searchEvaluatesTheAutomaticSchedulesLikeThePlan() {
        Scenario base = ScenarioLoader.load(Path.of("..", "scenarios", "quickstart.yaml"));
        ScheduleCache cache = new ScheduleCache();
        for (String name : List.of("zb-1p", "zb-2p")) {
            Candidate c = new Candidate(1, 4, 1, 1, 2, 6, name, "selective", false, "uniform");
            Search.Outcome o = Search.evaluate(base, c, cache);
            Plan plan = Planner.plan(Variants.with(base, c));
            assertThat(plan.schedule().name()).isEqualTo(name);
            assertThat(o.fits()).isTrue();
            assertThat(o.stepTimeSeconds()).as(name).isEqualTo(plan.evaluate().stepTimeSeconds());
        }
        assertThat(Schedules.needsTimes("zb-1p")).isTrue();
    }
}
