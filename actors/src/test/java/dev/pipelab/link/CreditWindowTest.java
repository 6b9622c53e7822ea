package dev.pipelab.link;

import dev.pipelab.model.LinkSpec;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class CreditWindowTest {

    @Test
    void theFirstBufferMessagesNeedNoCreditAndLaterOnesWaitForTheConsumerOfNMinusK() {
        CreditWindow w = new CreditWindow(2, 5);
        assertThat(w.needsCredit(0)).isFalse();
        assertThat(w.needsCredit(1)).isFalse();
        assertThat(w.creditTime(1)).isEqualTo(Double.NEGATIVE_INFINITY);
        assertThat(w.needsCredit(2)).isTrue();
        assertThat(w.creditTime(2)).isNaN();
        w.sent(0);
        assertThat(w.sent(1)).isEqualTo(2);
        w.granted(0, 3.5);
        assertThat(w.creditTime(2)).isEqualTo(3.5);
        assertThat(w.creditTime(3)).isNaN();
        w.granted(0, 9.0); // a duplicate changes nothing
        assertThat(w.creditTime(2)).isEqualTo(3.5);
        assertThat(w.sent(2)).isEqualTo(2);
        assertThat(w.maxOutstanding()).isEqualTo(2);
    }

    @Test
    void anUnboundedWindowNeverWaitsAndStallsAddUp() {
        CreditWindow w = new CreditWindow(CreditWindow.UNBOUNDED, 3);
        assertThat(w.needsCredit(1_000_000)).isFalse();
        w.stalled(0.25);
        w.stalled(0.5);
        assertThat(w.stallSeconds()).isEqualTo(0.75);
        w.reset();
        assertThat(w.stallSeconds()).isZero();
    }

    @Test
    void aLinkIsAFifoResourceAndArrivalIsStartPlusOccupancyPlusLatency() {
        LinkState l = new LinkState(new LinkSpec("x", 100, 0.5));
        LinkState.Transit first = l.send(200, 1.0, Double.NEGATIVE_INFINITY);
        assertThat(first).isEqualTo(new LinkState.Transit(1.0, 3.5));
        // ready earlier than the link is free: waits for the first transfer's occupancy, not its latency
        LinkState.Transit second = l.send(100, 0.0, Double.NEGATIVE_INFINITY);
        assertThat(second).isEqualTo(new LinkState.Transit(3.0, 4.5));
        assertThat(l.busySeconds()).as("each transfer's arrival - start, latency included").isEqualTo(4.0);
        assertThat(l.bytes()).isEqualTo(300);
        assertThat(l.messages()).isEqualTo(2);
        assertThat(l.maxQueueDepth()).isEqualTo(1);
    }

    @Test
    void theQueueDepthIsTheMostMessagesReadyButNotYetLeft() {
        LinkState l = new LinkState(new LinkSpec("x", 100, 0.0));
        l.send(200, 0.0, Double.NEGATIVE_INFINITY); // leaves at 0, link busy until 2
        l.send(200, 0.0, Double.NEGATIVE_INFINITY); // waits 0..2
        l.send(200, 1.0, Double.NEGATIVE_INFINITY); // waits 1..4: two waiting over [1, 2)
        l.send(200, 4.0, Double.NEGATIVE_INFINITY); // ready as the previous leaves: no wait
        l.send(200, 6.0, Double.NEGATIVE_INFINITY); // waits 6..8 alone
        assertThat(l.maxQueueDepth()).isEqualTo(2);
        l.reset();
        assertThat(l.maxQueueDepth()).isZero();
        assertThat(l.messages()).isZero();
    }
}
