package dev.pipelab.fault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.pipelab.fault.RandomFaults.Kind;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The llama3-54d preset is Table 5 of the Llama 3 report, and its rates give back the table's counts. */
class FaultPresetsTest {

    private static final FaultPresets.Preset P = FaultPresets.LLAMA3_54D;

    @Test
    void theTableHasItsEighteenRowsAnd419Interruptions() {
        assertThat(P.rows()).hasSize(18);
        assertThat(P.count()).isEqualTo(419);
        assertThat(P.hours()).isEqualTo(54 * 24.0);
        assertThat(P.devices()).isEqualTo(16_384);
        assertThat(P.nodes()).isEqualTo(2_048);
        // the kinds' sums, by the table's categories
        assertThat(P.count(Kind.GPU)).isEqualTo(148 + 72 + 19 + 17 + 6 + 6);
        assertThat(P.count(Kind.HOST)).isEqualTo(7 + 3 + 3 + 2 + 2 + 2 + 2);
        assertThat(P.count(Kind.NETWORK)).isEqualTo(35);
        assertThat(P.count(Kind.MAINTENANCE)).isEqualTo(32);
        assertThat(P.count(Kind.SOFTWARE)).isEqualTo(54 + 2);
        assertThat(P.count(Kind.UNKNOWN)).isEqualTo(7);
        assertThat(P.rows()).allSatisfy(r -> assertThat(r.kind()).isEqualTo(switch (r.category()) {
            case "GPU" -> Kind.GPU;
            case "Host" -> Kind.HOST;
            case "Network" -> Kind.NETWORK;
            case "Unplanned Maintenance" -> Kind.MAINTENANCE;
            case "Dependency" -> Kind.SOFTWARE;
            case "Unknown" -> Kind.UNKNOWN;
            default -> throw new AssertionError("a category outside Table 5: " + r.category());
        }));
    }

    @Test
    void theRatesExpectTheTablesCountsOverTheSnapshot() {
        RandomFaults rates = RandomFaultsSyntax.fromMap(java.util.Map.of("preset", "llama3-54d"), "faults.random", 0).faults().orElseThrow();
        RandomFaults.Size size = new RandomFaults.Size(16_384, 2_048);
        double seconds = 54 * 24 * 3600.0;
        assertThat(rates.perSecond(size) * seconds).isCloseTo(419, within(1e-9));
        for (Kind k : Kind.values()) {
            assertThat(rates.perSecond(k, size) * seconds).as(k.key()).isCloseTo(P.count(k), within(1e-9));
        }
        // per device-hour for GPUs: 268 / (16,384 · 1,296)
        assertThat(rates.rate(Kind.GPU).orElseThrow().perHour()).isEqualTo(268.0 / (16_384 * 1_296.0));
        assertThat(rates.rate(Kind.HOST).orElseThrow().perHour()).isEqualTo(21.0 / (2_048 * 1_296.0));
        assertThat(rates.rate(Kind.SOFTWARE).orElseThrow().perHour()).isEqualTo(56.0 / 1_296.0);
        // the job's MTBF at that size: 54 days / 419 = 3.09 hours
        assertThat(rates.mtbfSeconds(size) / 3600).isCloseTo(1_296.0 / 419, within(1e-9));
        // defaults: detection by recovery.detectSeconds, no repair
        assertThat(rates.rates()).allSatisfy(r -> {
            assertThat(r.detectSeconds()).isNaN();
            assertThat(r.repairSeconds()).isZero();
        });
        assertThat(rates.preset()).contains("llama3-54d");
    }

    @Test
    void theMixAsWeightsSumsToOne() {
        double sum = 0;
        for (Kind k : Kind.values()) sum += P.weight(k);
        assertThat(sum).isCloseTo(1, within(1e-12));
        assertThat(P.weight(Kind.GPU)).isEqualTo(268.0 / 419);
    }

    @Test
    void presetsAreFoundByName() {
        assertThat(FaultPresets.of("llama3-54d")).contains(P);
        assertThat(FaultPresets.of("llama3")).isEqualTo(Optional.empty());
        assertThat(FaultPresets.names()).isEqualTo("llama3-54d");
    }
}
