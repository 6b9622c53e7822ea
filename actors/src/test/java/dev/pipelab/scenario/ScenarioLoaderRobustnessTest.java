package dev.pipelab.scenario;

import static dev.pipelab.scenario.Scenarios.errorsOf;
import static dev.pipelab.scenario.Scenarios.file;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Whatever a user writes, loading ends in a Scenario or a ScenarioException with located lines, never another exception. */
class ScenarioLoaderRobustnessTest {

    private static final List<String> JUNK = List.of("-1", "0", "\"x\"", "[]", "{}", "~", "1e400", ".nan", "-.inf",
            "99999999999", "2.5", "[1, [2]]", "{a: 1}", "true", "'", "[", "&a", "*b", "!!binary x", "\t");

    @Test
    void everyMangledLineOfAGoodFileIsReportedNotThrown() throws IOException {
        List<String> lines = Files.readAllLines(file("good/custom-interleaved.yaml"));
        int failures = 0;
        for (int i = 0; i < lines.size(); i++) {
            List<String> variants = new ArrayList<>();
            List<String> without = new ArrayList<>(lines);
            without.remove(i);
            variants.add(String.join("\n", without));
            int colon = lines.get(i).indexOf(':');
            for (String junk : JUNK) {
                List<String> changed = new ArrayList<>(lines);
                changed.set(i, colon < 0 ? junk : lines.get(i).substring(0, colon + 1) + " " + junk);
                variants.add(String.join("\n", changed));
            }
            for (String text : variants) {
                try {
                    ScenarioLoader.parse(text, "mangled.yaml", List.of());
                } catch (ScenarioException e) {
                    failures++;
                    assertThat(e.errors()).isNotEmpty().allSatisfy(err -> {
                        assertThat(err.path()).isNotBlank();
                        assertThat(err.message()).isNotBlank().doesNotContain("$.").doesNotContain("Exception");
                    });
                } catch (RuntimeException | StackOverflowError e) {
                    fail("line " + (i + 1) + " mangled to\n" + text + "\nthrew " + e);
                }
            }
        }
        assertThat(failures).isGreaterThan(lines.size() * 10);
    }

    @Test
    void everyStrangeOverrideIsReportedNotThrown() {
        List<String> sets = List.of("", "=", "a", "a=", ".=1", "a.=1", "[0]=1", "a[=1", "a[]=1", "a[99999999999]=1",
                "a[-1]=1", "seed[0]=1", "batch[0]=1", "model=[", "model=1e400", "model=.nan", "model={", "model=a: b: c",
                "model=- 1", "model=*x", "model=&x 1", "name=\"", "costs.forwardSeconds=[1, 2]", "batch.microBatches.x.y=1",
                "parallelism=~", "parallelism.pipeline.x=1", " spaced . key = 4 ");
        for (String set : sets) {
            try {
                ScenarioLoader.parse("model: {preset: llama2-7b}\nhardware: {device: a100-80gb}\n"
                        + "parallelism: {pipeline: 2}\nbatch: {microBatchSize: 1, microBatches: 2}\n", "s.yaml", List.of(set));
            } catch (ScenarioException e) {
                assertThat(e.errors()).as(set).isNotEmpty().allSatisfy(err -> assertThat(err.message()).isNotBlank());
            } catch (RuntimeException e) {
                fail("--set " + set + " threw " + e);
            }
        }
    }

    @Test
    void aNumberTooLargeForItsFieldIsReported() {
        assertThat(errorsOf(() -> ScenarioLoader.parse("model: {preset: llama2-7b}\nhardware: {device: a100-80gb}\n"
                + "parallelism: {pipeline: 99999999999}\nbatch: {microBatchSize: 1, microBatches: 2}\n", "big.yaml", List.of())))
                .containsExactly("3:25: parallelism.pipeline: must be <= 2147483647, got 99999999999");
    }

    @Test
    void infinityAndNotANumberAreReported() {
        assertThat(errorsOf(() -> ScenarioLoader.parse("model: {preset: llama2-7b, parameters: .inf}\n"
                + "hardware: {device: a100-80gb, efficiency: .nan}\n"
                + "parallelism: {pipeline: 2}\nbatch: {microBatchSize: 1, microBatches: 2}\n", "inf.yaml", List.of())))
                .containsExactly("1:40: model.parameters: must be a finite number, got .inf",
                        "2:43: hardware.efficiency: must be a finite number, got .nan");
    }
}
