package dev.pipelab.fault;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Both written forms of a fault read to the same fault, every mistake is named by its key, and describe() reads back. */
class FaultSyntaxTest {

    private static Fault parsed(String text) {
        FaultSyntax.Parsed p = FaultSyntax.parse(text, "--fault #1");
        assertThat(p.problems()).as(text).isEmpty();
        return p.fault().orElseThrow();
    }

    private static List<String> problems(String text) {
        FaultSyntax.Parsed p = FaultSyntax.parse(text, "--fault #2");
        assertThat(p.fault()).as(text).isEmpty();
        return p.problems().stream().map(FaultProblem::toString).toList();
    }

    private static List<String> problems(Map<String, ?> entry) {
        FaultSyntax.Parsed p = FaultSyntax.fromMap(entry, "faults[2]");
        assertThat(p.fault()).as(entry.toString()).isEmpty();
        return p.problems().stream().map(FaultProblem::toString).toList();
    }

    private static Map<String, Object> entry(Object... keysAndValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) m.put((String) keysAndValues[i], keysAndValues[i + 1]);
        return m;
    }

    @Test
    void theCommandLineFormReadsEveryPart() {
        assertThat(parsed("link.loss 0/1->2 at=3+0.5 for=2 probability=0.05 seed=7")).isEqualTo(new Fault(FaultKind.LINK_LOSS,
                new FaultTarget.Link(0, 1, 2), 3, 0.5, 2.0, -1, 0, 0.05, 7, "--fault #1"));
        assertThat(parsed("stage.slowdown 1/3 at=0 heal=4+1.25 factor=3")).isEqualTo(new Fault(FaultKind.STAGE_SLOWDOWN,
                new FaultTarget.Stage(1, 3), 0, 0.0, Double.POSITIVE_INFINITY, 4, 1.25, 3.0, 0, "--fault #1"));
        assertThat(parsed("  stage.crash   percent:25   at=2  ")).isEqualTo(Fault.of(FaultKind.STAGE_CRASH,
                new FaultTarget.Choice(FaultTarget.Choice.Mode.PERCENT, 25), 2, 0, Double.POSITIVE_INFINITY, 0, 0, "--fault #1"));
    }

    @Test
    void absentKeysTakeTheirDefaults() {
        Fault f = parsed("link.latency ring:1/0 at=5");
        assertThat(f.target()).isEqualTo(new FaultTarget.Ring(1, 0));
        assertThat(f.atSeconds()).isZero();
        assertThat(f.durationSeconds()).isEqualTo(Double.POSITIVE_INFINITY); // never heals
        assertThat(f.healsExplicitly()).isFalse();
        assertThat(f.value()).isEqualTo(0.001); // FaultKind's default latency
        assertThat(f.seed()).isZero();
        assertThat(parsed("node.pause node:2 at=1 for=30").target()).isEqualTo(new FaultTarget.Node(2));
        assertThat(parsed("link.partition one at=0").target()).isEqualTo(new FaultTarget.Choice(FaultTarget.Choice.Mode.ONE, 0));
        assertThat(parsed("link.partition all at=0").value()).isZero();
    }

    @Test
    void everyMistakeOfTheCommandLineFormIsNamed() {
        assertThat(problems("")).containsExactly("--fault #2: kind: is missing: the form is " + FaultSyntax.FORM);
        assertThat(problems("link.los 0/1->2 at=1")).containsExactly("--fault #2: kind: must be one of " + FaultKind.keys()
                + ", got 'link.los'");
        assertThat(problems("link.loss at=1")).containsExactly("--fault #2: target: is missing after the kind: one of "
                + FaultSyntax.TARGETS);
        assertThat(problems("link.loss 0/1-2 at=1")).containsExactly("--fault #2: target: must be one of "
                + FaultSyntax.TARGETS + ", got '0/1-2'");
        assertThat(problems("link.loss percent:0 at=1")).containsExactly("--fault #2: target: percent must be within 1..100, got 0");
        assertThat(problems("link.loss 0/1->2")).containsExactly("--fault #2: at: is required: at=STEP or at=STEP+SECONDS");
        assertThat(problems("link.loss 0/1->2 at=-1")).containsExactly("--fault #2: at: must be STEP or STEP+SECONDS "
                + "(a step from 0, emulated seconds >= 0 into it), got '-1'");
        assertThat(problems("link.loss 0/1->2 at=1+x")).hasSize(1).first().asString().contains("got '1+x'");
        assertThat(problems("link.loss 0/1->2 at=1 for=-2")).containsExactly("--fault #2: for: must be >= 0, got -2");
        assertThat(problems("link.loss 0/1->2 at=1 probability=1.5")).containsExactly(
                "--fault #2: probability: must be in (0, 1] for link.loss, got 1.5");
        assertThat(problems("link.loss 0/1->2 at=1 probability=0")).containsExactly(
                "--fault #2: probability: must be in (0, 1] for link.loss, got 0");
        assertThat(problems("stage.slowdown 0/1 at=1 factor=1")).containsExactly(
                "--fault #2: factor: must be > 1 for stage.slowdown, got 1");
        assertThat(problems("link.loss 0/1->2 at=1 factor=2")).containsExactly(
                "--fault #2: factor: is not an option of link.loss (its parameter is probability)");
        assertThat(problems("link.partition 0/1->2 at=1 probability=0.5")).containsExactly(
                "--fault #2: probability: is not an option of link.partition (it has no parameter)");
        assertThat(problems("link.loss 0/1->2 at=1 at=2")).containsExactly("--fault #2: at: is given twice");
        assertThat(problems("link.loss 0/1->2 at=1 later")).containsExactly("--fault #2: later: must be KEY=VALUE (the form is "
                + FaultSyntax.FORM + ")");
        assertThat(problems("link.loss 0/1->2 at=1 seed=x")).containsExactly("--fault #2: seed: must be an integer, got 'x'");
        assertThat(problems("link.loss 0/1->2 at=1 for=2 heal=3")).containsExactly(
                "--fault #2: heal: cannot be given with for: give one of the two");
        assertThat(problems("link.loss 0/1->2 at=3+0.5 heal=3+0.2")).containsExactly(
                "--fault #2: heal: must not come before the injection at step 3 + 0.5 s, got step 3 + 0.2 s");
        assertThat(problems("stage.crash 0/1 at=1 for=2")).containsExactly(
                "--fault #2: for: stage.crash happens at an instant: it takes no for");
        assertThat(problems("node.kill node:0 at=1 heal=2")).containsExactly(
                "--fault #2: heal: node.kill happens at an instant: it takes no heal");
    }

    @Test
    void allMistakesOfOneEntryAreReportedAtOnce() {
        assertThat(problems("link.loss 9/x at=y probability=2")).containsExactly(
                "--fault #2: target: must be one of " + FaultSyntax.TARGETS + ", got '9/x'",
                "--fault #2: at: must be STEP or STEP+SECONDS (a step from 0, emulated seconds >= 0 into it), got 'y'",
                "--fault #2: probability: must be in (0, 1] for link.loss, got 2");
    }

    @ParameterizedTest
    @EnumSource(FaultKind.class)
    void describeReadsBackToAnEqualFault(FaultKind kind) {
        FaultTarget target = switch (kind.target()) {
            case STAGE -> new FaultTarget.Stage(1, 2);
            case LINK -> new FaultTarget.Link(0, 2, 1);
            case NODE -> new FaultTarget.Node(3);
        };
        double value = kind.parameter().map(p -> Double.isInfinite(p.max()) ? p.min() + 0.75 : p.max() * 0.3).orElse(0.0);
        List<Fault> faults = List.of(
                Fault.of(kind, target, 4, 0.125, kind.instant() ? Double.POSITIVE_INFINITY : 2.5, value, -9, "--fault #3"),
                Fault.of(kind, new FaultTarget.Choice(FaultTarget.Choice.Mode.PERCENT, 40), 0, 0, Double.POSITIVE_INFINITY,
                        value, 123456789012L, "--fault #3"),
                Fault.of(kind, new FaultTarget.Ring(2, 0), 7, 1e-4, Double.POSITIVE_INFINITY, value, 0, "--fault #3"));
        for (Fault f : faults) {
            FaultSyntax.Parsed back = FaultSyntax.parse(f.describe(), "--fault #3");
            assertThat(back.problems()).as(f.describe()).isEmpty();
            assertThat(back.fault()).as(f.describe()).contains(f);
        }
        if (!kind.instant()) {
            Fault healed = new Fault(kind, target, 2, 0.5, Double.POSITIVE_INFINITY, 5, 0.25, value, 1, "--fault #3");
            assertThat(FaultSyntax.parse(healed.describe(), "--fault #3").fault()).as(healed.describe()).contains(healed);
        }
    }

    @Test
    void aScenarioEntryReadsToTheSameFaultAsTheCommandLine() {
        Map<String, Object> e = entry("kind", "link.loss", "target", "0/1->2", "atStep", 3, "atSeconds", 0.5,
                "durationSeconds", 2, "probability", 0.05, "seed", 7);
        assertThat(FaultSyntax.fromMap(e, "--fault #1").fault()).contains(parsed("link.loss 0/1->2 at=3+0.5 for=2 probability=0.05 seed=7"));
        Map<String, Object> healed = entry("kind", "stage.slowdown", "target", "1/3", "atStep", 0,
                "heal", entry("atStep", 4, "atSeconds", 1.25), "factor", 3);
        assertThat(FaultSyntax.fromMap(healed, "--fault #1").fault()).contains(parsed("stage.slowdown 1/3 at=0 heal=4+1.25 factor=3"));
        Map<String, Object> percent = entry("kind", "stage.crash", "target", entry("percent", 25), "atStep", 2.0);
        assertThat(FaultSyntax.fromMap(percent, "--fault #1").fault()).contains(parsed("stage.crash percent:25 at=2"));
    }

    @Test
    void everyMistakeOfAnEntryNamesItsKey() {
        assertThat(problems(entry("target", "0/1"))).containsExactly(
                "faults[2].kind: is required (one of " + FaultKind.keys() + ")",
                "faults[2].atStep: is required (the training step the fault is injected in, from 0)");
        assertThat(problems(entry("kind", 3, "target", "0/1", "atStep", 0))).containsExactly(
                "faults[2].kind: must be one of " + FaultKind.keys() + ", got 3");
        assertThat(problems(entry("kind", "stage.crash", "target", "0/1", "atStep", 0, "when", "now"))).containsExactly(
                "faults[2].when: is not a key of a fault (allowed: " + String.join(", ", FaultSyntax.KEYS) + ")");
        assertThat(problems(entry("kind", "link.loss", "target", "0/1->2", "atStep", 0, "factor", 2))).containsExactly(
                "faults[2].factor: is not a key of link.loss (its parameter is probability)");
        assertThat(problems(entry("kind", "link.loss", "target", List.of(1), "atStep", 0))).containsExactly(
                "faults[2].target: must be one of " + FaultSyntax.TARGETS + ", or {percent: N}, got a list");
        assertThat(problems(entry("kind", "link.loss", "target", entry("percent", 150), "atStep", 0))).containsExactly(
                "faults[2].target.percent: must be an integer within 1..100, got 150");
        assertThat(problems(entry("kind", "link.loss", "target", "all", "atStep", -1, "atSeconds", "soon"))).containsExactly(
                "faults[2].atStep: must be >= 0, got -1", "faults[2].atSeconds: must be a number, got \"soon\"");
        assertThat(problems(entry("kind", "link.loss", "target", "all", "atStep", 2.5))).containsExactly(
                "faults[2].atStep: must be an integer, got 2.5");
        assertThat(problems(entry("kind", "link.loss", "target", "all", "atStep", 1, "durationSeconds", -3))).containsExactly(
                "faults[2].durationSeconds: must be >= 0, got -3");
        assertThat(problems(entry("kind", "link.loss", "target", "all", "atStep", 1, "heal", entry("atSeconds", 1, "x", 2))))
                .containsExactly("faults[2].heal.x: is not a key of a heal (allowed: atStep, atSeconds)",
                        "faults[2].heal.atStep: is required (the training step the fault heals in)");
        assertThat(problems(entry("kind", "link.loss", "target", "all", "atStep", 1, "heal", 3))).containsExactly(
                "faults[2].heal: must be a mapping {atStep: N, atSeconds: S}, got 3");
        assertThat(problems(entry("kind", "stage.crash", "target", "all", "atStep", 1, "durationSeconds", 5))).containsExactly(
                "faults[2].durationSeconds: stage.crash happens at an instant: it takes no durationSeconds");
        assertThat(problems(entry("kind", "stage.memory_pressure", "target", "all", "atStep", 1, "fraction", 1.5))).containsExactly(
                "faults[2].fraction: must be in (0, 1] for stage.memory_pressure, got 1.5");
        assertThat(problems(entry("kind", "link.bandwidth", "target", "all", "atStep", 1, "factor", "half"))).containsExactly(
                "faults[2].factor: must be a number, got \"half\"");
        assertThat(problems(entry("kind", "link.loss", "target", "all", "atStep", 1, "seed", new java.math.BigInteger("99999999999999999999"))))
                .containsExactly("faults[2].seed: must be an integer between " + Long.MIN_VALUE + " and " + Long.MAX_VALUE
                        + ", got 99999999999999999999");
        assertThat(problems(entry("kind", "link.loss", "target", "0/1->2", "atStep", 5, "durationSeconds", 1,
                "heal", entry("atStep", 6)))).containsExactly("faults[2].heal: cannot be given with durationSeconds: give one of the two");
    }

    @Test
    void aRequestBodyNamesTheKeyAlone() {
        FaultSyntax.Parsed p = FaultSyntax.fromMap(entry("kind", "link.loss", "target", "0/1->2", "atStep", 0, "probability", 3), "");
        assertThat(p.problems()).extracting(FaultProblem::toString)
                .containsExactly("probability: must be in (0, 1] for link.loss, got 3");
    }

    @ParameterizedTest
    @ValueSource(strings = {"0/0", "12/3", "0/1->2", "3/10->9", "ring:1/2", "node:4", "one", "all", "percent:1", "percent:100"})
    void aTargetsWrittenFormReadsBack(String text) {
        assertThat(FaultSyntax.target(text).map(FaultTarget::toString)).contains(text);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "0", "0/", "/1", "a/b", "0/1->", "0/1=>2", "ring:1", "node:", "node:-1", "percent:0",
            "percent:101", "some", "1/99999999999"})
    void aWrongTargetIsNone(String text) {
        assertThat(FaultSyntax.target(text)).isEmpty();
    }

    @Test
    void optionKeysNameWhatTheUserWrote() {
        assertThat(FaultSyntax.optionKey("atStep")).isEqualTo("at");
        assertThat(FaultSyntax.optionKey("durationSeconds")).isEqualTo("for");
        assertThat(FaultSyntax.optionKey("heal.atStep")).isEqualTo("heal");
        assertThat(FaultSyntax.optionKey("target")).isEqualTo("target");
    }

    @Test
    void theEntryKeysHoldEveryKindsParameter() {
        for (FaultKind k : FaultKind.values()) {
            k.parameter().ifPresent(p -> assertThat(FaultSyntax.KEYS).contains(p.name()));
        }
    }
}
