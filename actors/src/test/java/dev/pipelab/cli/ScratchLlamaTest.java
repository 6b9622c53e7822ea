package dev.pipelab.cli;

import dev.pipelab.fault.RandomFaults;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

class ScratchLlamaTest {
    @Test
    void llama() {
        // a stand-in for the llama3-54d preset: one interruption every 54 x 24 / 466 hours
        RandomFaults r = new RandomFaults(54, 1.0, Optional.of(54 * 24 / 466.0), 8, List.of(
                new RandomFaults.Rate(RandomFaults.Kind.GPU, Double.NaN, 0.58, Double.NaN, 4 * 3600),
                new RandomFaults.Rate(RandomFaults.Kind.HOST, Double.NaN, 0.05, Double.NaN, 4 * 3600),
                new RandomFaults.Rate(RandomFaults.Kind.NETWORK, Double.NaN, 0.11, Double.NaN, 3600),
                new RandomFaults.Rate(RandomFaults.Kind.MAINTENANCE, Double.NaN, 0.08, Double.NaN, 3600),
                new RandomFaults.Rate(RandomFaults.Kind.SOFTWARE, Double.NaN, 0.15, Double.NaN, 0),
                new RandomFaults.Rate(RandomFaults.Kind.UNKNOWN, Double.NaN, 0.03, Double.NaN, 0)), Optional.empty());
        String[] extra = System.getProperty("gp.args", "").isBlank() ? new String[0] : System.getProperty("gp.args").split(" ");
        List<String> args = new java.util.ArrayList<>(List.of("goodput", "/tmp/gp/llama.yaml", "--out", "/tmp/gp/out-" + System.nanoTime()));
        args.addAll(List.of(extra));
        for (int k = 0; k < 2; k++) {
            long t0 = System.nanoTime();
            CliTest.Result res = GoodputCommandTest.run(r, args.toArray(String[]::new));
            System.out.println(res.out() + res.err());
            System.out.printf("WALL %.2f s%n", (System.nanoTime() - t0) / 1e9);
            args.set(3, "/tmp/gp/out-" + System.nanoTime());
        }
    }
}
