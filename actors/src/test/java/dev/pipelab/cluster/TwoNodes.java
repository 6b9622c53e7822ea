package dev.pipelab.cluster;

import dev.pipelab.pipeline.Emulator;
import dev.pipelab.pipeline.TestSystems;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.StreamSupport;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two ActorSystems in this JVM, Artery TCP on 127.0.0.1 between them, both members {@code Up} of one cluster, a
 * {@link Host} on each: the fixture of the cluster tests that need no other process. {@code hosts} lists node A's
 * host first (the coordinator runs on A), then B's.
 */
record TwoNodes(ActorTestKit a, ActorTestKit b, ActorRef<Host.Command> hostB, List<ActorRef<Host.Command>> hosts) {

    /** Starts both nodes and waits (up to 20 s each) until they are Up and both hosts are listed. */
    static TwoNodes start() {
        ActorTestKit a = ActorTestKit.create(Emulator.SYSTEM_NAME, Emulator.config(TestSystems.config()));
        ActorTestKit b = null;
        try {
            b = ActorTestKit.create(Emulator.SYSTEM_NAME, Emulator.config(TestSystems.config()));
            Cluster ca = Cluster.get(a.system());
            Cluster cb = Cluster.get(b.system());
            ca.manager().tell(Join.create(ca.selfMember().address()));
            cb.manager().tell(Join.create(ca.selfMember().address()));
            a.createTestProbe().awaitAssert(Duration.ofSeconds(20), () -> {
                for (Cluster c : List.of(ca, cb)) {
                    long up = StreamSupport.stream(c.state().getMembers().spliterator(), false)
                            .filter(mem -> mem.status() == MemberStatus.up()).count();
                    assertThat(up).isEqualTo(2);
                }
                return null;
            });
            a.spawn(Host.create(Emulator.ACTORS), "host");
            ActorRef<Host.Command> hostB = b.spawn(Host.create(Emulator.ACTORS), "host");
            TestProbe<Receptionist.Listing> listings = a.createTestProbe(Receptionist.Listing.class);
            List<ActorRef<Host.Command>> hosts = new ArrayList<>();
            listings.awaitAssert(Duration.ofSeconds(20), () -> {
                a.system().receptionist().tell(Receptionist.find(Host.KEY, listings.getRef()));
                Set<ActorRef<Host.Command>> found = listings.receiveMessage().getServiceInstances(Host.KEY);
                assertThat(found).hasSize(2);
                hosts.clear();
                found.stream().filter(h -> h.path().address().hasLocalScope()).forEach(hosts::add);
                found.stream().filter(h -> !h.path().address().hasLocalScope()).forEach(hosts::add);
                assertThat(hosts.get(1).path().address()).isEqualTo(cb.selfMember().address());
                return null;
            });
            return new TwoNodes(a, b, hostB, List.copyOf(hosts));
        } catch (RuntimeException | AssertionError e) {
            if (b != null) b.shutdownTestKit();
            a.shutdownTestKit();
            throw e;
        }
    }
}
