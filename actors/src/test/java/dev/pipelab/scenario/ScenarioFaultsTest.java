package dev.pipelab.scenario;

import static dev.pipelab.scenario.Scenarios.errorsOf;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pipelab.fault.Fault;
import dev.pipelab.fault.FaultKind;
import dev.pipelab.fault.FaultSyntax;
import dev.pipelab.fault.FaultTarget;
import dev.pipelab.fault.RecoverySpec;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A scenario's faults and recovery settings bind to the values the run gets, with every default; mistakes are located. */
class ScenarioFaultsTest {

    private static final String BASE = "model: { preset: llama2-7b }\nhardware: { device: a100-80gb }\n"
            + "parallelism: { pipeline: 2, data: 2 }\nbatch: { microBatchSize: 1, microBatches: 4 }\ntraining: { steps: 6 }\n";

    private static Scenario parse(String extra, String... sets) {
        return ScenarioLoader.parse(BASE + extra, "faulty.yaml", List.of(sets));
    }

    @Test
    void aScenarioWithoutFaultsHasNoneAndTheDefaultRecovery() {
        Scenario s = parse("");
        assertThat(s.faults()).isEmpty();
        assertThat(s.recovery()).isEqualTo(RecoverySpec.NONE);
        assertThat(RecoverySpec.NONE).isEqualTo(new RecoverySpec(0, 2e9, 10, 30, 0.2, 1800, 3, false));
    }

    @Test
    void everyEntryBindsToTheFaultItsCommandLineFormGives() {
        Scenario s = parse("""
                faults:
                  - kind: link.loss
                    target: 0/1->0
                    atStep: 3
                    atSeconds: 0.5
                    durationSeconds: 2
                    probability: 0.05
                    seed: 7
                  - { kind: stage.slowdown, target: 1/1, atStep: 0, heal: { atStep: 4, atSeconds: 1.25 }, factor: 3 }
                  - { kind: stage.crash, target: { percent: 25 }, atStep: 2 }
                  - { kind: link.bandwidth, target: ring:1/0, atStep: 1 }
                  - { kind: node.kill, target: node:1, atStep: 5 }
                """);
        assertThat(s.faults()).containsExactly(
                cli("link.loss 0/1->0 at=3+0.5 for=2 probability=0.05 seed=7", "faults[0]"),
                cli("stage.slowdown 1/1 at=0 heal=4+1.25 factor=3", "faults[1]"),
                cli("stage.crash percent:25 at=2", "faults[2]"),
                cli("link.bandwidth ring:1/0 at=1", "faults[3]"),
                cli("node.kill node:1 at=5", "faults[4]"));
        // the defaults: a kind's own parameter, no heal, seed 0
        assertThat(s.faults().get(3)).isEqualTo(Fault.of(FaultKind.LINK_BANDWIDTH, new FaultTarget.Ring(1, 0), 1, 0,
                Double.POSITIVE_INFINITY, 0.1, 0, "faults[3]"));
    }

    private static Fault cli(String text, String where) {
        return FaultSyntax.parse(text, where).fault().orElseThrow();
    }

    @Test
    void recoveryKeysBindWithTheirDefaultsAndStorageInBytesPerSecond() {
        assertThat(parse("recovery: { checkpointEverySteps: 2, storageGBps: 0.5 }\n").recovery())
                .isEqualTo(new RecoverySpec(2, 0.5e9, 10, 30, 0.2, 1800, 3, false));
        assertThat(parse("recovery: { detectSeconds: 1, restartSeconds: 2, retransmitSeconds: 0.05, timeoutSeconds: 60, "
                + "maxRestarts: 0, elastic: false }\n").recovery())
                .isEqualTo(new RecoverySpec(0, 2e9, 1, 2, 0.05, 60, 0, false));
    }

    @Test
    void aFaultFromSetIsReadAndItsMistakeSaysSo() {
        Scenario s = parse("", "faults=[{kind: link.partition, target: one, atStep: 1, durationSeconds: 4}]");
        assertThat(s.faults()).containsExactly(cli("link.partition one at=1 for=4", "faults[0]"));
        assertThat(errorsOf(() -> parse("faults: [{kind: link.loss, target: 0/0->1, atStep: 0}]\n",
                "faults[0].probability=2"))).containsExactly(
                "0:0: faults[0].probability: must be in (0, 1] for link.loss, got 2 (from --set faults[0].probability=2)");
    }

    @Test
    void recoveryLimitsAreTheSchemasAndLocated() {
        assertThat(errorsOf(() -> parse("recovery:\n  checkpointEverySteps: -1\n  retransmitSeconds: 0\n  elastic: maybe\n")))
                .containsExactly("7:25: recovery.checkpointEverySteps: must be >= 0, got -1",
                        "8:22: recovery.retransmitSeconds: must be > 0, got 0",
                        "9:12: recovery.elastic: must be true or false, got \"maybe\"");
    }

    @Test
    void aNegativeDurationAndAnUnknownKindAreLocated() {
        assertThat(errorsOf(() -> parse("faults:\n  - { kind: stage.slowdown, target: 0/0, atStep: 1, durationSeconds: -2 }\n"
                + "  - { kind: node.reboot, target: node:0, atStep: 1 }\n")))
                .containsExactly("7:70: faults[0].durationSeconds: must be >= 0, got -2",
                        "8:13: faults[1].kind: must be one of " + FaultKind.keys() + ", got 'node.reboot'");
    }

    @Test
    void theSchemasKindsAreFaultKinds() {
        List<String> names = new java.util.ArrayList<>();
        SchemaCheck.schemaJson().path("$defs").path("faultKind").path("enum").forEach(n -> names.add(n.asText()));
        assertThat(names).containsExactly(java.util.Arrays.stream(FaultKind.values()).map(FaultKind::key).toArray(String[]::new));
        List<String> keys = new java.util.ArrayList<>();
        SchemaCheck.schemaJson().path("properties").path("faults").path("items").path("properties").fieldNames().forEachRemaining(keys::add);
        assertThat(keys).containsExactlyElementsOf(FaultSyntax.KEYS);
    }
}
