package dev.pipelab.pipeline;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;

/** Test ActorSystems: pipelab.conf with {@code serialize-messages = on}, one-node cluster joined to itself. */
public final class TestSystems {

    private TestSystems() {}

    /** The test overrides, unresolved (pass to {@link Emulator#run(RunSpec, RunOptions, Config)}). */
    public static Config config() {
        return ConfigFactory.parseResources("pipelab-test.conf");
    }

    public static ActorTestKit oneNode() {
        ActorTestKit kit = ActorTestKit.create(Emulator.SYSTEM_NAME, Emulator.config(config()));
        org.apache.pekko.cluster.typed.Cluster cluster = org.apache.pekko.cluster.typed.Cluster.get(kit.system());
        cluster.manager().tell(org.apache.pekko.cluster.typed.Join.create(cluster.selfMember().address()));
        return kit;
    }
}
