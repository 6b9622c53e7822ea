package dev.pipelab.pipeline;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/** Test ActorSystems: pipelab.conf with {@code serialize-messages = on}, one-node cluster joined to itself. */
public final class TestSystems {

    private TestSystems() {}

    /** The test overrides, unresolved (pass to {@link Emulator#run(RunSpec, RunOptions, Config)}). */
    public static Config config() {
        return ConfigFactory.parseResources("pipelab-test.conf");
    }

    public static ActorTestKit oneNode() {
        ActorTestKit kit = ActorTestKit.create(Emulator.SYSTEM_NAME, Emulator.config(config()));
        Cluster cluster = Cluster.get(kit.system());
        cluster.manager().tell(Join.create(cluster.selfMember().address()));
        return kit;
    }

    /**
     * One {@link #oneNode()} system shared by the tests of a class, started before the first and shut down after
     * the last: {@code @RegisterExtension static final TestSystems.OneNode node = new TestSystems.OneNode();}.
     */
    public static final class OneNode implements BeforeAllCallback, AfterAllCallback {

        private ActorTestKit kit;

        @Override
        public void beforeAll(ExtensionContext context) {
            kit = oneNode();
        }

        @Override
        public void afterAll(ExtensionContext context) {
            kit.shutdownTestKit();
        }

        public ActorTestKit kit() {
            return kit;
        }

        public ActorSystem<Void> system() {
            return kit.system();
        }
    }
}
