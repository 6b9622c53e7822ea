package dev.pipelab.link;

import dev.pipelab.fault.FaultKind;
import dev.pipelab.fault.FaultWindow;
import dev.pipelab.model.LinkSpec;
import dev.pipelab.monitoring.TransferOutcome;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static dev.pipelab.monitoring.TransferOutcome.DELIVERED;
import static dev.pipelab.monitoring.TransferOutcome.DROPPED;
import static dev.pipelab.monitoring.TransferOutcome.DUPLICATE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The {@code link.*} faults, pure: exact times by hand on a link of 1,000 bytes/s and 10 ms latency, so that a message
 * of 100 bytes occupies it 0.1 s and arrives 0.11 s after it leaves. Sums are written in the order the link adds them.
 */
class LinkFaultsTest {

    private static final LinkSpec SPEC = new LinkSpec("test", 1000, 0.01);
    private static final double INF = Double.POSITIVE_INFINITY;
    private static final String LINK = "link-0-0to1";

    private static FaultWindow window(int fault, FaultKind kind, double from, double to, double value) {
        return new FaultWindow(fault, kind, from, to, value, 42L);
    }

    private static LinkFaults faults(FaultWindow... windows) {
        return new LinkFaults(3, LINK, List.of(windows), 0.2, 10.0);
    }

    private static LinkFaults.Attempt attempt(double ready, double start, double arrival, TransferOutcome outcome) {
        return new LinkFaults.Attempt(ready, start, arrival, outcome);
    }

    @Test
    void latencyIsAddedToTheArrivalOfATransmissionThatLeavesInsideTheWindow() {
        LinkFaults f = faults(window(0, FaultKind.LINK_LATENCY, 0.5, 1.1, 2.0));
        LinkState s = new LinkState(SPEC);
        // leaves at 0: before the window, no extra latency
        assertThat(f.carry(s, SPEC, 100, 0.0, 0).attempts()).containsExactly(attempt(0.0, 0.0, 0.0 + 0.1 + 0.01, DELIVERED));
        // leaves at 0.95, inside: arrives 2 s later, after the window ended (what counts is when it leaves)
        assertThat(f.carry(s, SPEC, 100, 0.95, 1).attempts()).containsExactly(attempt(0.95, 0.95, 0.95 + 0.1 + 0.01 + 2.0, DELIVERED));
        // latency does not hold the link: the next message leaves as soon as the wire is free, at 1.05, still inside
        assertThat(f.carry(s, SPEC, 100, 0.95, 2).attempts()).containsExactly(attempt(0.95, 0.95 + 0.1, 0.95 + 0.1 + 0.1 + 0.01 + 2.0, DELIVERED));
        // the next leaves at 1.15, after the window ended (it is half-open)
        assertThat(f.carry(s, SPEC, 100, 0.95, 3).attempts()).containsExactly(attempt(0.95, 0.95 + 0.1 + 0.1, 0.95 + 0.1 + 0.1 + 0.1 + 0.01, DELIVERED));
        assertThat(s.messages()).isEqualTo(4);
        assertThat(s.transmissions()).isEqualTo(4);
    }

    @Test
    void aBandwidthFactorStretchesTheOccupancyAndSoTheQueue() {
        LinkFaults f = faults(window(0, FaultKind.LINK_BANDWIDTH, 0, 1.0, 0.25));
        LinkState s = new LinkState(SPEC);
        // 100 bytes at a quarter of 1,000 bytes/s: 0.4 s on the wire
        assertThat(f.carry(s, SPEC, 100, 0.0, 0).attempts()).containsExactly(attempt(0.0, 0.0, 0.0 + 0.1 / 0.25 + 0.01, DELIVERED));
        // ready at 0.1, it waits for the wire until 0.4
        assertThat(f.carry(s, SPEC, 100, 0.1, 1).attempts()).containsExactly(attempt(0.1, 0.4, 0.4 + 0.1 / 0.25 + 0.01, DELIVERED));
        // leaves at 1.2, after the window: full bandwidth again
        assertThat(f.carry(s, SPEC, 100, 1.2, 2).attempts()).containsExactly(attempt(1.2, 1.2, 1.2 + 0.1 + 0.01, DELIVERED));
        assertThat(s.maxQueueDepth()).isEqualTo(1);
        assertThat(s.busySeconds()).isEqualTo((0.0 + 0.4 + 0.01 - 0.0) + (0.4 + 0.4 + 0.01 - 0.4) + (1.2 + 0.1 + 0.01 - 1.2));
    }

    @Test
    void overlappingLatenciesAddAndBandwidthFactorsMultiply() {
        LinkFaults f = faults(window(0, FaultKind.LINK_LATENCY, 0, INF, 1.0), window(1, FaultKind.LINK_LATENCY, -5, 2, 0.5),
                window(2, FaultKind.LINK_BANDWIDTH, 0, INF, 0.5), window(3, FaultKind.LINK_BANDWIDTH, 0, INF, 0.5));
        assertThat(f.extraLatency(1.0)).isEqualTo(1.5);
        assertThat(f.extraLatency(2.0)).isEqualTo(1.0);
        assertThat(f.bandwidthFactor(1.0)).isEqualTo(0.25);
        assertThat(f.carry(new LinkState(SPEC), SPEC, 100, 1.0, 0).attempts())
                .containsExactly(attempt(1.0, 1.0, 1.0 + 0.1 / 0.25 + 0.01 + 1.5, DELIVERED));
    }

    /** One drop with rto 0.2: the second transmission leaves 0.2 s after the first, and arrives as any would. */
    @Test
    void aLostTransmissionIsSentAgainAfterTheRetransmissionTimeout() {
        LinkFaults f = faults(window(4, FaultKind.LINK_LOSS, 0, 0.1, 1.0)); // every transmission leaving in [0, 0.1) is lost
        LinkState s = new LinkState(SPEC);
        LinkFaults.Carried c = f.carry(s, SPEC, 100, 0.0, 0);
        assertThat(c).isInstanceOf(LinkFaults.Through.class);
        assertThat(c.attempts()).containsExactly(
                attempt(0.0, 0.0, 0.0 + 0.1 + 0.01, DROPPED),
                attempt(0.0 + 0.2, 0.2, 0.2 + 0.1 + 0.01, DELIVERED));
        // the wire carried both: bytes and busy time count every transmission, the message counts once
        assertThat(s.bytes()).isEqualTo(200);
        assertThat(s.busySeconds()).isEqualTo((0.0 + 0.1 + 0.01) + (0.2 + 0.1 + 0.01 - 0.2));
        assertThat(s.messages()).isEqualTo(1);
        assertThat(s.transmissions()).isEqualTo(2);
    }

    @Test
    void aRetransmissionWaitsForTheWireWhenTheTimeoutIsShorterThanTheOccupancy() {
        LinkFaults f = faults(window(0, FaultKind.LINK_LOSS, 0, 0.1, 1.0));
        // 500 bytes: 0.5 s on the wire, longer than the 0.2 s timeout
        assertThat(f.carry(new LinkState(SPEC), SPEC, 500, 0.0, 0).attempts()).containsExactly(
                attempt(0.0, 0.0, 0.0 + 0.5 + 0.01, DROPPED),
                attempt(0.2, 0.5, 0.5 + 0.5 + 0.01, DELIVERED));
    }

    @Test
    void aPartitionShorterThanTheTimeoutIsRiddenOutWithBackoff() {
        LinkFaults f = faults(window(1, FaultKind.LINK_PARTITION, 0, 1.0, 0));
        LinkState s = new LinkState(SPEC);
        double r1 = 0.0 + 0.2;
        double r2 = r1 + 0.4;
        double r3 = r2 + 0.8; // 1.4: the partition healed at 1.0
        LinkFaults.Carried c = f.carry(s, SPEC, 100, 0.0, 0);
        assertThat(c).isInstanceOf(LinkFaults.Through.class);
        assertThat(c.attempts()).containsExactly(
                attempt(0.0, 0.0, 0.0 + 0.1 + 0.01, DROPPED),
                attempt(r1, r1, r1 + 0.1 + 0.01, DROPPED),
                attempt(r2, r2, r2 + 0.1 + 0.01, DROPPED),
                attempt(r3, r3, r3 + 0.1 + 0.01, DELIVERED));
        assertThat(s.bytes()).isEqualTo(400);
        assertThat(s.messages()).isEqualTo(1);
        // the next message queues behind the retransmission (one FIFO stream, as TCP's)
        assertThat(f.carry(s, SPEC, 100, 0.5, 1).attempts()).containsExactly(attempt(0.5, r3 + 0.1, r3 + 0.1 + 0.1 + 0.01, DELIVERED));
    }

    @Test
    void aPartitionLongerThanTheTimeoutMakesTheSenderGiveUp() {
        LinkFaults f = new LinkFaults(3, LINK, List.of(window(2, FaultKind.LINK_PARTITION, 0.05, 30, 0)), 0.2, 1.0);
        LinkState s = new LinkState(SPEC);
        // leaves at 0.1 (the wire is busy with a message until then); would retransmit at 0.3, 0.7 and 1.5 >= 0.1 + 1.0
        f.carry(s, SPEC, 100, 0.0, 0);
        LinkFaults.Carried c = f.carry(s, SPEC, 100, 0.0, 1);
        double r1 = 0.1 + 0.2;
        double r2 = r1 + 0.4;
        assertThat(c).isEqualTo(new LinkFaults.GaveUp(List.of(
                attempt(0.0, 0.1, 0.1 + 0.1 + 0.01, DROPPED),
                attempt(r1, r1, r1 + 0.1 + 0.01, DROPPED),
                attempt(r2, r2, r2 + 0.1 + 0.01, DROPPED)), 2, FaultKind.LINK_PARTITION, 0.1 + 1.0));
        assertThat(s.messages()).isEqualTo(1);
        assertThat(s.transmissions()).isEqualTo(4);
        assertThat(s.bytes()).isEqualTo(400);
    }

    @Test
    void aPartitionActsOnWhenATransmissionLeavesNotWhenItWasReady() {
        LinkFaults f = faults(window(0, FaultKind.LINK_PARTITION, 0.05, 0.1, 0));
        LinkState s = new LinkState(SPEC);
        f.carry(s, SPEC, 100, 0.0, 0); // the wire is busy until 0.1
        // ready at 0.06, inside the partition, it leaves at 0.1, after it: delivered at once
        assertThat(f.carry(s, SPEC, 100, 0.06, 1).attempts()).containsExactly(attempt(0.06, 0.1, 0.1 + 0.1 + 0.01, DELIVERED));
    }

    @Test
    void aDuplicatedMessageIsFollowedOnTheWireByItsCopy() {
        LinkFaults f = faults(window(5, FaultKind.LINK_DUPLICATE, 0, 1.0, 1.0));
        LinkState s = new LinkState(SPEC);
        LinkFaults.Carried c = f.carry(s, SPEC, 100, 0.3, 0);
        // the copy joins the queue as the original leaves, and leaves when the wire is free again
        assertThat(c.attempts()).containsExactly(
                attempt(0.3, 0.3, 0.3 + 0.1 + 0.01, DELIVERED),
                attempt(0.3, 0.3 + 0.1, 0.3 + 0.1 + 0.1 + 0.01, DUPLICATE));
        assertThat(s.messages()).isEqualTo(1);
        assertThat(s.bytes()).isEqualTo(200);
        assertThat(s.maxQueueDepth()).isEqualTo(1);
    }

    @Test
    void probabilityZeroChangesNothing() {
        LinkFaults f = faults(window(0, FaultKind.LINK_LOSS, 0, INF, 0.0), window(1, FaultKind.LINK_DUPLICATE, 0, INF, 0.0),
                window(2, FaultKind.LINK_LATENCY, 0, INF, 0.0), window(3, FaultKind.LINK_BANDWIDTH, 0, INF, 1.0));
        LinkState faulty = new LinkState(SPEC);
        LinkState plain = new LinkState(SPEC);
        for (int i = 0; i < 50; i++) {
            LinkState.Transit t = plain.send(100, i * 0.07, Double.NEGATIVE_INFINITY);
            assertThat(f.carry(faulty, SPEC, 100, i * 0.07, i).attempts()).containsExactly(attempt(i * 0.07, t.start(), t.arrival(), DELIVERED));
        }
        assertThat(faulty.busySeconds()).isEqualTo(plain.busySeconds());
        assertThat(faulty.maxQueueDepth()).isEqualTo(plain.maxQueueDepth());
    }

    /**
     * The coin of a loss is a pure function of the transmission's identity: the messages it drops do not depend on the
     * order in which they are carried, about the given fraction of them is dropped, and another seed drops others.
     */
    @Test
    void lossCoinsArePureAndFair() {
        FaultWindow loss = window(7, FaultKind.LINK_LOSS, 0, INF, 0.3);
        LinkFaults f = faults(loss);
        int n = 10_000;
        List<Integer> forward = firstDropped(f, n, false);
        List<Integer> backward = firstDropped(f, n, true);
        assertThat(backward).isEqualTo(forward);
        // a fair coin: within 4 standard deviations (sqrt(n p (1 - p)) = 46) of n p
        assertThat(forward.size()).isBetween(3000 - 184, 3000 + 184);
        for (int m : forward.subList(0, 20)) assertThat(f.coin(loss, m, 0)).isLessThan(0.3);
        List<Integer> otherSeed = firstDropped(faults(new FaultWindow(7, FaultKind.LINK_LOSS, 0, INF, 0.3, 43L)), n, false);
        assertThat(otherSeed).isNotEqualTo(forward);
        // the step and the link enter the flip too
        assertThat(firstDropped(new LinkFaults(4, LINK, List.of(loss), 0.2, 10), n, false)).isNotEqualTo(forward);
        assertThat(firstDropped(new LinkFaults(3, "link-0-1to2", List.of(loss), 0.2, 10), n, false)).isNotEqualTo(forward);
    }

    /** Messages whose first transmission was dropped, each carried alone (in order or reversed). */
    private static List<Integer> firstDropped(LinkFaults f, int n, boolean reversed) {
        List<Integer> dropped = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int m = reversed ? n - 1 - i : i;
            if (f.carry(new LinkState(SPEC), SPEC, 100, 0, m).attempts().get(0).outcome() == DROPPED) dropped.add(m);
        }
        dropped.sort(null);
        return dropped;
    }

    /** The coin's values are part of what makes two runs identical: pinned, so a change to the hash shows. */
    @Test
    void coinValuesArePinned() {
        long link = LinkFaults.hash(LINK);
        assertThat(LinkFaults.coin(42L, 7, FaultKind.LINK_LOSS, 3, link, 0, 0)).isEqualTo(PINNED[0]);
        assertThat(LinkFaults.coin(42L, 7, FaultKind.LINK_LOSS, 3, link, 0, 1)).isEqualTo(PINNED[1]);
        assertThat(LinkFaults.coin(42L, 7, FaultKind.LINK_DUPLICATE, 3, link, 0, 0)).isEqualTo(PINNED[2]);
        assertThat(LinkFaults.coin(42L, 7, FaultKind.LINK_LOSS, 3, link, LinkFaults.ringMessage(2, 5), 0)).isEqualTo(PINNED[3]);
    }

    private static final double[] PINNED = {0.3888218308798186, 0.3490011016071831, 0.7055570903735409, 0.1900842866262299};

    /** A message retransmitted until a coin lets it through: each retry flips a new coin. */
    @Test
    void eachRetransmissionFlipsItsOwnCoin() {
        FaultWindow loss = window(0, FaultKind.LINK_LOSS, 0, INF, 0.5);
        LinkFaults f = faults(loss);
        int message = 0;
        while (!(f.coin(loss, message, 0) < 0.5 && f.coin(loss, message, 1) < 0.5 && f.coin(loss, message, 2) >= 0.5)) message++;
        double r1 = 0.0 + 0.2;
        double r2 = r1 + 0.4;
        assertThat(f.carry(new LinkState(SPEC), SPEC, 100, 0.0, message).attempts()).containsExactly(
                attempt(0.0, 0.0, 0.0 + 0.1 + 0.01, DROPPED),
                attempt(r1, r1, r1 + 0.1 + 0.01, DROPPED),
                attempt(r2, r2, r2 + 0.1 + 0.01, DELIVERED));
    }

    @Test
    void badWindowsAndSettingsAreRefusedWithTheFaultNamed() {
        assertThatThrownBy(() -> faults(window(3, FaultKind.LINK_BANDWIDTH, 0, 1, 0.0)))
                .hasMessage("fault 3 (link.bandwidth): factor must be within (0, 1], got 0.0");
        assertThatThrownBy(() -> faults(window(1, FaultKind.LINK_LOSS, 0, 1, 1.5)))
                .hasMessage("fault 1 (link.loss): probability must be within [0, 1], got 1.5");
        assertThatThrownBy(() -> faults(window(2, FaultKind.LINK_LATENCY, 0, 1, -1)))
                .hasMessage("fault 2 (link.latency): seconds must be finite and >= 0, got -1.0");
        assertThatThrownBy(() -> faults(window(0, FaultKind.STAGE_CRASH, 0, 1, 0)))
                .hasMessage("fault 0 (stage.crash): not a link fault");
        assertThatThrownBy(() -> new LinkFaults(0, LINK, List.of(), 0.2, INF))
                .hasMessage("timeoutSeconds must be finite and > 0, got Infinity");
        assertThatThrownBy(() -> new LinkFaults(0, LINK, List.of(), 0, 10))
                .hasMessage("retransmitSeconds must be finite and > 0, got 0.0");
    }
}
