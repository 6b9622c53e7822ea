package dev.pipelab.plan;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pipelab.model.Partition;
import dev.pipelab.scenario.Scenario;
import dev.pipelab.scenario.ScenarioLoader;
import dev.pipelab.schedule.Timeline;
import dev.pipelab.schedule.ZeroBubbleAuto;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The search's zb-1p and zb-2p (built after the other candidates, at the shapes where ZB-H1 and ZB-H2 did best) and
 * its per-schedule summary, on quickstart.yaml: 4 devices, small enough to search in about a second.
 */
class SearchTest {

    private static final Path QUICKSTART = Path.of("..", "scenarios", "quickstart.yaml");
    private static Scenario base;
    private static Search.Result result;

    @BeforeAll
    static void search() {
        base = ScenarioLoader.load(QUICKSTART);
        result = Search.run(base);
    }

    private static List<Search.Outcome> ordinary() {
        return result.ranked().stream().filter(o -> !ZeroBubbleAuto.NAMES.contains(o.candidate().schedule())).toList();
    }

    private static List<Integer> shape(Candidate c) {
        return List.of(c.tensor(), c.pipeline(), c.data(), c.microBatchSize(), c.microBatches());
    }

    @Test
    void theAutomaticSchedulesAreBuiltWhereTheirHandcraftedCounterpartsDidBestAndCountedApart() {
        // the finalists, found again from the ranked ordinary plans: for zb-1p the fastest distinct (t, p, d, b, m) with
        // p >= 2 among the ZB-H1 plans that fit, for zb-2p among ZB-H2's; each with every recompute policy
        List<Candidate> expected = new ArrayList<>();
        int shapes = 0;
        for (String name : List.of("zb-1p", "zb-2p")) {
            String counterpart = name.equals("zb-1p") ? "zb-h1" : "zb-h2";
            Map<List<Integer>, Candidate> finalists = new LinkedHashMap<>();
            for (Search.Outcome o : ordinary()) { // ranked: the fastest that fit first
                Candidate c = o.candidate();
                if (o.fits() && c.schedule().equals(counterpart) && c.pipeline() >= 2 && finalists.size() < Search.FINALISTS) {
                    finalists.putIfAbsent(shape(c), c);
                }
            }
            assertThat(finalists).as(name).isNotEmpty().hasSizeLessThanOrEqualTo(Search.FINALISTS);
            shapes += finalists.size();
            for (Candidate c : finalists.values()) {
                for (String recompute : List.of("none", "selective", "full")) {
                    expected.add(new Candidate(c.tensor(), c.pipeline(), c.data(), 1, c.microBatchSize(), c.microBatches(), name,
                            recompute, c.sequenceParallel(), c.partition()));
                }
            }
        }
        assertThat(shapes).as("quickstart has more ZB-H1 shapes than the cap: the cap is exercised").isGreaterThan(Search.FINALISTS);
        List<Candidate> built = result.ranked().stream().map(Search.Outcome::candidate)
                .filter(c -> ZeroBubbleAuto.NAMES.contains(c.schedule())).toList();
        assertThat(built).containsExactlyInAnyOrderElementsOf(expected);
        assertThat(result.automatic()).isEqualTo(expected.size());
        assertThat(result.finalists()).isEqualTo(shapes);
        // evaluated: the enumerated candidates but the balanced twins equal to their uniform plan (no outcome of their own)
        long twins = Search.candidates(base).stream().filter(c -> c.partition().equals("balanced")).filter(c -> {
            Plan p = Planner.plan(Variants.with(base, c), false, new ScheduleCache());
            return p.partition().equals(Partition.uniform(p.model().layers(), p.schedule().stages()));
        }).count();
        assertThat(result.evaluated()).isEqualTo(Search.candidates(base).size() - twins).isEqualTo(ordinary().size());
        assertThat(result.ranked()).hasSize(result.evaluated() + result.automatic());
    }

    @Test
    void theAutomaticPlansAreThePlannersPlansBitForBit() {
        int fits = 0;
        for (Search.Outcome o : result.ranked()) {
            if (!ZeroBubbleAuto.NAMES.contains(o.candidate().schedule())) continue;
            Plan plan = Planner.plan(Variants.with(base, o.candidate()));
            assertThat(plan.schedule().name()).isEqualTo(o.candidate().schedule());
            Timeline t = plan.evaluate();
            long peak = 0;
            for (int r = 0; r < plan.pipeline(); r++) peak = Math.max(peak, t.peakMemoryBytes(r));
            assertThat(o.peakMemoryBytes()).as(o.candidate().label()).isEqualTo(peak);
            assertThat(o.fits()).as(o.candidate().label()).isEqualTo(peak <= plan.device().memoryBytes());
            if (o.fits()) {
                fits++;
                assertThat(o.stepTimeSeconds()).as(o.candidate().label()).isEqualTo(t.stepTimeSeconds());
                assertThat(o.bubbleFraction()).as(o.candidate().label()).isEqualTo(t.bubbleFraction());
                assertThat(o.tokensPerSecond()).isEqualTo(PlanReport.of(plan, t).tokensPerSecond());
            }
        }
        // zb-1p holds at most p micro-batches, as ZB-H1 does: at each finalist's own recompute it fits as ZB-H1 did
        assertThat(fits).isGreaterThanOrEqualTo(Search.FINALISTS);
    }

    @Test
    void theSummaryNamesEverySchedulesBestPlanAndWhyItLost() {
        Search.Outcome winner = result.winner();
        List<Search.ScheduleSummary> summary = result.bySchedule();
        assertThat(summary).extracting(Search.ScheduleSummary::schedule).containsExactlyElementsOf(Search.SCHEDULE_NAMES)
                .contains("zb-1p", "zb-2p", "zb-v", "dualpipev", "interleaved");
        int total = 0;
        for (Search.ScheduleSummary s : summary) {
            List<Search.Outcome> mine = result.ranked().stream().filter(o -> o.candidate().schedule().equals(s.schedule())).toList();
            total += mine.size();
            assertThat(s.candidates()).as(s.schedule()).isEqualTo(mine.size()).isPositive();
            assertThat(s.fitting()).as(s.schedule()).isEqualTo((int) mine.stream().filter(Search.Outcome::fits).count());
            Search.Outcome best = mine.stream().filter(Search.Outcome::fits)
                    .max((a, b) -> Double.compare(a.tokensPerSecond(), b.tokensPerSecond())).orElseThrow();
            assertThat(s.best().tokensPerSecond()).as(s.schedule()).isEqualTo(best.tokensPerSecond());
            if (s.best() == winner) {
                assertThat(s.why()).isEqualTo("winner");
            } else {
                // the ratio and the handicap come from the two plans' numbers
                assertThat(s.why()).as(s.schedule()).startsWith(String.format(Locale.ROOT, "%.2fx slower; ",
                        winner.tokensPerSecond() / best.tokensPerSecond())).isEqualTo(s.best().why());
                double bubble = s.best().scheduleBubble() - winner.scheduleBubble();
                double comm = s.best().commFraction() - winner.commFraction();
                double recompute = s.best().recomputeFraction() - winner.recomputeFraction();
                String largest = bubble > comm && bubble > recompute && bubble > 1e-12 ? "bubble: "
                        : comm > recompute && comm > 1e-12 ? "comm: " : recompute > 1e-12 ? "recompute: " : "compute: ";
                assertThat(s.why()).as(s.schedule()).contains(largest);
            }
        }
        assertThat(total).isEqualTo(result.ranked().size());
        assertThat(summary.stream().filter(s -> s.why().equals("winner"))).hasSize(1);
    }

    @Test
    void aScheduleThatDoesNotFitOrIsNotConsideredSaysSo() {
        // one device: only p = 1, where no V, interleaved or automatic zero-bubble plan exists
        Search.Result one = Search.run(ScenarioLoader.load(QUICKSTART, List.of("parallelism.pipeline=1")));
        Map<String, Search.ScheduleSummary> by = new LinkedHashMap<>();
        for (Search.ScheduleSummary s : one.bySchedule()) by.put(s.schedule(), s);
        assertThat(by.get("zb-v").candidates()).isZero();
        assertThat(by.get("zb-v").best()).isNull();
        assertThat(by.get("zb-v").why()).isEqualTo("not considered: needs p >= 2 and 2p <= layers");
        assertThat(by.get("dualpipev").why()).isEqualTo("not considered: needs p >= 2, 2p <= layers and m >= 2p");
        assertThat(by.get("zb-2p").why()).isEqualTo("not considered: built only where a zb-h2 plan with p >= 2 fits, and none does");
        assertThat(one.automatic()).isZero();
        assertThat(by.get("1f1b").candidates()).isPositive();
        // a device too small for any plan: every schedule's summary is its smallest footprint
        Search.Result none = Search.run(ScenarioLoader.load(QUICKSTART, List.of("parallelism.pipeline=1",
                "model.preset=llama2-70b")));
        assertThat(none.ranked()).noneMatch(Search.Outcome::fits);
        for (Search.ScheduleSummary s : none.bySchedule()) {
            if (s.best() == null) continue;
            assertThat(s.why()).as(s.schedule()).isEqualTo("none of " + s.candidates() + " fits: smallest " + s.best().why());
        }
        assertThat(none.bySchedule().get(1).why()).startsWith("none of ").contains("memory: static bytes");
    }
}
