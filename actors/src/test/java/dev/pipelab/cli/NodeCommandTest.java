package dev.pipelab.cli;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

/** A bad flag of {@code pipelab node} or of {@code pipelab run --cluster} is one located line and exit 2, before any node starts. */
class NodeCommandTest {

    @ParameterizedTest
    @CsvSource(delimiter = '~', value = {
            "node --role boss                          ~ pipelab: --role must be worker or coordinator, got 'boss'",
            "node --role worker --port 70000           ~ pipelab: --port must be within 0..65535, got 70000",
            "node --role worker --seeds foo            ~ pipelab: --seeds: 'foo' is not host:port",
            "node --role worker --slots 0              ~ pipelab: --slots must be >= 1, got 0",
            "node --role worker --config no-such.conf  ~ pipelab: --config: no file at no-such.conf",
            "node                                      ~ pipelab: Missing required option: '--role=worker|coordinator'",
            "node --role worker --management x         ~ pipelab: --management must be a port within 0..65535 or off, got 'x'",
            "node --role worker --management 70000     ~ pipelab: --management must be a port within 0..65535 or off, got '70000'",
            "run --management 7626                     ~ pipelab: --management needs --cluster",
            "run --placement pack                      ~ pipelab: --placement needs --cluster",
            "run --cluster-name other                  ~ pipelab: --cluster-name needs --cluster",
            "run --cluster 127.0.0.1:1 --placement x   ~ pipelab: --placement must be pack, spread or explicit, got 'x'",
            "run ../scenarios/quickstart.yaml --cluster 127.0.0.1:1 --placement explicit ~ pipelab: --placement explicit needs "
                    + "the scenario's cluster.workers (one list per replica of the worker index of each rank, e.g. [[0, 0, 1, 1]])",
            "run ../scenarios/quickstart.yaml --cluster nowhere ~ pipelab: --cluster nowhere: neither a file nor a seed's host:port",
    })
    void aBadFlagIsOneLocatedLineAndExit2(String args, String message) {
        CliTest.Result r = CliTest.run(args.trim().split("\\s+"));
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err().lines().findFirst()).hasValue(message);
        assertThat(r.err()).doesNotContain("Exception");
    }
}
