package dev.pipelab.scenario;

import static dev.pipelab.scenario.Scenarios.errorsOf;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pipelab.fault.FaultPresets;
import dev.pipelab.fault.FaultSyntax;
import dev.pipelab.fault.RandomFaults;
import dev.pipelab.fault.RandomFaults.Kind;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** {@code faults.random} binds to the rate model with its defaults and the preset's rates; every mistake is located. */
class ScenarioRandomFaultsTest {

    private static final String BASE = "model: { preset: llama2-7b }\nhardware: { device: a100-80gb }\n"
            + "parallelism: { pipeline: 2, data: 2 }\nbatch: { microBatchSize: 1, microBatches: 4 }\ntraining: { steps: 6 }\nseed: 5\n";

    private static Scenario parse(String extra, String... sets) {
        return ScenarioLoader.parse(BASE + extra, "rates.yaml", List.of(sets));
    }

    @Test
    void aScenarioWithoutARandomSectionHasNoRates() {
        assertThat(parse("").randomFaults()).isEmpty();
        assertThat(parse("faults: [{ kind: stage.crash, target: 0/0, atStep: 1 }]\n").randomFaults()).isEmpty();
    }

    @Test
    void thePresetGivesTheTablesRatesWithTheScenariosSeed() {
        RandomFaults r = parse("faults: { random: { preset: llama3-54d } }\n").randomFaults().orElseThrow();
        assertThat(r.seed()).isEqualTo(5);
        assertThat(r.scale()).isEqualTo(1);
        assertThat(r.spares()).isZero();
        assertThat(r.mtbfHours()).isEmpty();
        assertThat(r.preset()).contains("llama3-54d");
        assertThat(r.rates()).extracting(RandomFaults.Rate::kind).containsExactly(Kind.values());
        for (Kind k : Kind.values()) {
            assertThat(r.rate(k).orElseThrow()).isEqualTo(new RandomFaults.Rate(k, FaultPresets.LLAMA3_54D.perHour(k), Double.NaN,
                    Double.NaN, 0));
        }
    }

    @Test
    void writtenKeysOverrideThePresetKeyByKey() {
        RandomFaults r = parse("""
                faults:
                  random:
                    preset: llama3-54d
                    seed: 1
                    scale: 1000
                    spares: 2
                    kinds:
                      gpu: { detectSeconds: 10, repairHours: 4 }
                      host: { perHour: 2.0e-5 }
                """).randomFaults().orElseThrow();
        assertThat(r.seed()).isEqualTo(1);
        assertThat(r.scale()).isEqualTo(1000);
        assertThat(r.spares()).isEqualTo(2);
        assertThat(r.rate(Kind.GPU).orElseThrow())
                .isEqualTo(new RandomFaults.Rate(Kind.GPU, FaultPresets.LLAMA3_54D.perHour(Kind.GPU), Double.NaN, 10, 4 * 3600.0));
        assertThat(r.rate(Kind.HOST).orElseThrow()).isEqualTo(new RandomFaults.Rate(Kind.HOST, 2.0e-5, Double.NaN, Double.NaN, 0));
        assertThat(r.rate(Kind.NETWORK).orElseThrow().perHour()).isEqualTo(FaultPresets.LLAMA3_54D.perHour(Kind.NETWORK));
    }

    @Test
    void ratesWrittenOutHoldOnlyTheKindsWritten() {
        RandomFaults r = parse("faults: { random: { kinds: { gpu: { perHour: 1.97e-5 }, software: { perHour: 0.04 } } } }\n")
                .randomFaults().orElseThrow();
        assertThat(r.preset()).isEmpty();
        assertThat(r.rates()).containsExactly(new RandomFaults.Rate(Kind.GPU, 1.97e-5, Double.NaN, Double.NaN, 0),
                new RandomFaults.Rate(Kind.SOFTWARE, 0.04, Double.NaN, Double.NaN, 0));
        // 1,000 GPUs at 1.97e-5 per GPU-hour plus 0.04 per job-hour
        assertThat(r.perSecond(new RandomFaults.Size(1000, 125)) * 3600).isEqualTo(1000 * 1.97e-5 + 0.04);
    }

    @Test
    void aJobMtbfSplitsByWeightsOrByThePresetsMix() {
        RandomFaults r = parse("faults: { random: { mtbfHours: 3.1, kinds: { gpu: { weight: 0.5 }, software: { weight: 0.5 } } } }\n")
                .randomFaults().orElseThrow();
        assertThat(r.mtbfHours()).contains(3.1);
        assertThat(r.rates()).containsExactly(new RandomFaults.Rate(Kind.GPU, Double.NaN, 0.5, Double.NaN, 0),
                new RandomFaults.Rate(Kind.SOFTWARE, Double.NaN, 0.5, Double.NaN, 0));
        assertThat(r.mtbfSeconds(new RandomFaults.Size(8, 1))).isEqualTo(3.1 * 3600);
        RandomFaults mix = parse("faults: { random: { preset: llama3-54d, mtbfHours: 2 } }\n").randomFaults().orElseThrow();
        assertThat(mix.rate(Kind.GPU).orElseThrow().weight()).isEqualTo(268.0 / 419);
        assertThat(mix.rate(Kind.GPU).orElseThrow().perHour()).isNaN();
        assertThat(mix.mtbfSeconds(new RandomFaults.Size(1, 1))).isEqualTo(2 * 3600.0, org.assertj.core.api.Assertions.within(1e-6));
    }

    @Test
    void theListSitsBesideTheRatesAndItsMistakesStayLocated() {
        Scenario s = parse("faults:\n  random: { preset: llama3-54d }\n  list:\n    - { kind: stage.crash, target: 1/0, atStep: 2 }\n");
        assertThat(s.faults()).containsExactly(FaultSyntax.parse("stage.crash 1/0 at=2", "faults.list[0]").fault().orElseThrow());
        assertThat(s.randomFaults()).isPresent();
        assertThat(errorsOf(() -> parse("faults:\n  list:\n    - { kind: stage.crash, target: 1/0, atStep: 2, durationSeconds: 3 }\n")))
                .containsExactly("9:69: faults.list[0].durationSeconds: stage.crash happens at an instant: it takes no durationSeconds");
        assertThat(errorsOf(() -> parse("faults:\n  lists: []\n")))
                .containsExactly("8:3: faults: unknown key 'lists' (allowed: random, list)");
    }

    @Test
    void setReachesTheRatesEvenWhenTheFileWroteFaultsAsAList() {
        assertThat(parse("faults: { random: { preset: llama3-54d } }\n", "faults.random.scale=1000").randomFaults().orElseThrow().scale())
                .isEqualTo(1000);
        Scenario s = parse("faults:\n  - { kind: stage.crash, target: 1/0, atStep: 2 }\n",
                "faults.random.preset=llama3-54d", "faults.random.scale=1000");
        assertThat(s.randomFaults().orElseThrow().scale()).isEqualTo(1000);
        assertThat(s.faults()).containsExactly(FaultSyntax.parse("stage.crash 1/0 at=2", "faults.list[0]").fault().orElseThrow());
        // the entries keep their positions in the file after the list became faults.list
        assertThat(errorsOf(() -> parse("faults:\n  - { kind: stage.crash, target: 1/0, atStep: 2, durationSeconds: 3 }\n",
                "faults.random.preset=llama3-54d"))).containsExactly(
                "8:67: faults.list[0].durationSeconds: stage.crash happens at an instant: it takes no durationSeconds");
        assertThat(errorsOf(() -> parse("", "faults.random.scale=1000"))).containsExactly("0:0: faults.random: has no rate: give a "
                + "preset (llama3-54d), kinds with perHour, or mtbfHours and kinds with weights (from --set faults.random.scale=1000)");
        assertThat(errorsOf(() -> parse("faults: { random: { preset: llama3-54d } }\n", "faults.random.scale=-1")))
                .containsExactly("0:0: faults.random.scale: must be >= 0, got -1 (from --set faults.random.scale=-1)");
    }

    @Test
    void negativeAndNonFiniteNumbersAreLocated() {
        assertThat(errorsOf(() -> parse("""
                faults:
                  random:
                    scale: -2
                    spares: -1
                    mtbfHours: 0
                    kinds:
                      gpu: { perHour: -1e-5, detectSeconds: -1, repairHours: -4 }
                      host: { perHour: .inf }
                      network: { perHour: .nan }
                """))).containsExactly(
                "9:12: faults.random.scale: must be >= 0, got -2",
                "10:13: faults.random.spares: must be >= 0, got -1",
                "11:16: faults.random.mtbfHours: must be > 0, got 0",
                "13:23: faults.random.kinds.gpu.perHour: must be >= 0, got -0.00001",
                "13:45: faults.random.kinds.gpu.detectSeconds: must be >= 0, got -1",
                "13:62: faults.random.kinds.gpu.repairHours: must be >= 0, got -4",
                "14:24: faults.random.kinds.host.perHour: must be a finite number, got .inf",
                "15:27: faults.random.kinds.network.perHour: must be a finite number, got .nan");
    }

    @Test
    void weightsNeedAJobMtbfAndPerHourMustNotHaveOne() {
        assertThat(errorsOf(() -> parse("faults:\n  random:\n    kinds:\n      gpu: { weight: 0.5 }\n      host: { weight: 0.5 }\n")))
                .containsExactly(
                        "10:22: faults.random.kinds.gpu.weight: needs mtbfHours (the job's MTBF the weights split); without it give perHour",
                        "11:23: faults.random.kinds.host.weight: needs mtbfHours (the job's MTBF the weights split); without it give perHour");
        assertThat(errorsOf(() -> parse("faults:\n  random:\n    mtbfHours: 3\n    kinds:\n      gpu: { perHour: 1e-5 }\n"
                + "      host: { weight: 1 }\n"))).containsExactly(
                "11:23: faults.random.kinds.gpu.perHour: cannot be given with mtbfHours: under a job MTBF each kind takes its weight "
                        + "(its share of the failures), or leave mtbfHours out");
        assertThat(errorsOf(() -> parse("faults: { random: { kinds: { gpu: { detectSeconds: 3 } } } }\n")))
                .containsExactly("7:35: faults.random.kinds.gpu: needs perHour (interruptions per device-hour)");
    }

    @Test
    void weightsMustSumToOne() {
        assertThat(errorsOf(() -> parse("faults:\n  random:\n    mtbfHours: 3\n    kinds:\n      gpu: { weight: 0.5 }\n"
                + "      network: { weight: 0.4 }\n"))).containsExactly(
                "11:7: faults.random.kinds: the weights must sum to 1, got 0.9 (gpu 0.5 + network 0.4)");
        // a sum within 1e-9 of 1 is 1: thirds written as decimals
        assertThat(parse("faults: { random: { mtbfHours: 3, kinds: { gpu: { weight: 0.3333333333 }, host: { weight: 0.3333333333 }, "
                + "software: { weight: 0.3333333334 } } } }\n").randomFaults()).isPresent();
        // the preset's mix with one weight changed no longer sums to 1
        assertThat(errorsOf(() -> parse("faults: { random: { preset: llama3-54d, mtbfHours: 3, kinds: { gpu: { weight: 0.5 } } } }\n")))
                .containsExactly("7:62: faults.random.kinds: the weights must sum to 1, got 0.860381861575 (gpu 0.5 + host 0.05012 + "
                        + "network 0.08353 + maintenance 0.07637 + software 0.1337 + unknown 0.01671)");
    }

    @Test
    void unknownKindsKeysAndPresetsListTheKnownOnes() {
        assertThat(errorsOf(() -> parse("faults:\n  random:\n    preset: llama2\n    kinds:\n      disk: { perHour: 1 }\n"
                + "      gpu: { rate: 1 }\n    mtbf: 3\n"))).containsExactly(
                "9:13: faults.random.preset: must be one of llama3-54d, got 'llama2'",
                "11:7: faults.random.kinds: unknown key 'disk' (allowed: gpu, host, network, maintenance, software, unknown)",
                "12:14: faults.random.kinds.gpu: unknown key 'rate' (allowed: perHour, weight, detectSeconds, repairHours)",
                "13:5: faults.random: unknown key 'mtbf' (allowed: preset, seed, scale, mtbfHours, spares, kinds)");
    }

    @Test
    void aSectionWithoutAnyRateIsAnError() {
        assertThat(errorsOf(() -> parse("faults:\n  random:\n    seed: 3\n"))).containsExactly(
                "9:5: faults.random: has no rate: give a preset (llama3-54d), kinds with perHour, or mtbfHours and kinds with weights");
        assertThat(errorsOf(() -> parse("faults: { random: { kinds: { gpu: { perHour: 0 } } } }\n"))).hasSize(1);
        // a scale of 0 switches a preset off on purpose: that is allowed
        assertThat(parse("faults: { random: { preset: llama3-54d, scale: 0 } }\n").randomFaults().map(RandomFaults::scale))
                .isEqualTo(Optional.of(0.0));
    }

    @Test
    void theSchemasKeysAreTheReadersKeys() {
        var random = SchemaCheck.schemaJson().path("properties").path("faults").path("properties").path("random");
        List<String> keys = new java.util.ArrayList<>();
        random.path("properties").fieldNames().forEachRemaining(keys::add);
        assertThat(keys).containsExactlyElementsOf(dev.pipelab.fault.RandomFaultsSyntax.KEYS);
        List<String> kinds = new java.util.ArrayList<>();
        random.path("properties").path("kinds").path("properties").fieldNames().forEachRemaining(kinds::add);
        assertThat(kinds).containsExactly(java.util.Arrays.stream(Kind.values()).map(Kind::key).toArray(String[]::new));
        List<String> kindKeys = new java.util.ArrayList<>();
        SchemaCheck.schemaJson().path("$defs").path("faultRate").path("properties").fieldNames().forEachRemaining(kindKeys::add);
        assertThat(kindKeys).containsExactlyElementsOf(dev.pipelab.fault.RandomFaultsSyntax.KIND_KEYS);
        List<String> presets = new java.util.ArrayList<>();
        SchemaCheck.schemaJson().path("$defs").path("faultPreset").path("enum").forEach(n -> presets.add(n.asText()));
        assertThat(String.join(", ", presets)).isEqualTo(FaultPresets.names());
    }
}
