package dev.pipelab.link;

import dev.pipelab.clock.Clock;
import dev.pipelab.clock.ClockMode;
import dev.pipelab.fault.FaultKind;
import dev.pipelab.fault.FaultWindow;
import dev.pipelab.model.LinkSpec;
import dev.pipelab.monitoring.LinkRecord;
import dev.pipelab.monitoring.TelemetryLevel;
import dev.pipelab.monitoring.TransferKind;
import dev.pipelab.monitoring.TransferOutcome;
import dev.pipelab.pipeline.TestSystems;
import dev.pipelab.protocol.Control;
import dev.pipelab.stage.Stage;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The link actor under {@code link.*} faults: what the receiver gets and when (emulated time, exact), what the sender is
 * told when the link gives up, what the link's record says, and the counters quiescence reads. A link of 1,000 bytes/s
 * and 10 ms latency: a message of 100 bytes occupies it 0.1 s and arrives 0.11 s after it leaves.
 */
class LinkTest {

    @RegisterExtension
    static final TestSystems.OneNode node = new TestSystems.OneNode();

    private static final LinkSpec SPEC = new LinkSpec("test", 1000, 0.01);
    private static final double INF = Double.POSITIVE_INFINITY;
    private static final Duration QUIET = Duration.ofMillis(200);

    /** A link from rank 0 to rank 1 of replica 0, with its receiver, recorder and the sender's broken-link inbox. */
    private static final class Fixture {
        final TestProbe<Stage.Command> receiver = node.kit().createTestProbe(Stage.Command.class);
        final TestProbe<Link.Recorded> recorder = node.kit().createTestProbe(Link.Recorded.class);
        final TestProbe<Link.Broken> broken = node.kit().createTestProbe(Link.Broken.class);
        final ActorRef<Link.Command> link;

        Fixture(ClockMode clock, double speed, int messagesPerStep) {
            LinkSetup setup = LinkSetup.pipeline(0, 0, 1, SPEC, clock, speed, messagesPerStep, TelemetryLevel.SPANS);
            link = node.kit().spawn(Link.create(setup, receiver.getRef(), Stage::delivered, recorder.getRef()));
        }

        Fixture(int messagesPerStep) {
            this(ClockMode.VIRTUAL, 1.0, messagesPerStep);
        }

        void faults(int step, double timeoutSeconds, FaultWindow... windows) {
            link.tell(new Link.Faults(step, List.of(windows), 0.2, timeoutSeconds, broken.getRef()));
        }

        void send(int step, long epoch, int seq, double ready) {
            link.tell(new Link.Transfer(step, epoch, seq, 10 + seq, 0, seq, TransferKind.ACTIVATION, 100, ready));
        }

        void send(int step, int seq, double ready) {
            send(step, 0L, seq, ready);
        }

        Stage.Deliver delivery() {
            return (Stage.Deliver) receiver.receiveMessage();
        }

        Control.Report probe() {
            TestProbe<Control.Report> reports = node.kit().createTestProbe(Control.Report.class);
            link.tell(new Link.Probe(1, reports.getRef()));
            return reports.receiveMessage();
        }
    }

    private static FaultWindow window(int fault, FaultKind kind, double from, double to, double value) {
        return new FaultWindow(fault, kind, from, to, value, 42L);
    }

    private static LinkRecord.Transfer span(int microBatch, double ready, double start, double end, TransferOutcome outcome) {
        return new LinkRecord.Transfer(TransferKind.ACTIVATION, 0, microBatch, 100, ready, start, end, outcome);
    }

    @Test
    void aLostMessageIsRetransmittedAndArrivesAtTheExactLaterTime() {
        Fixture f = new Fixture(2);
        f.faults(0, 10.0, window(3, FaultKind.LINK_LOSS, 0, 0.1, 1.0)); // what leaves in [0, 0.1) is lost
        f.send(0, 0, 0.0);
        f.send(0, 1, 0.0);
        // message 0: lost at 0, sent again at 0 + 0.2; message 1 waits for the wire, behind the retransmission
        assertThat(f.delivery()).isEqualTo(new Stage.Deliver(0, 10, 0.2 + 0.1 + 0.01));
        assertThat(f.delivery()).isEqualTo(new Stage.Deliver(0, 11, 0.2 + 0.1 + 0.1 + 0.01));
        LinkRecord r = f.recorder.receiveMessage().record();
        assertThat(r.messages()).isEqualTo(2);
        assertThat(r.dropped()).isEqualTo(1);
        assertThat(r.duplicates()).isZero();
        assertThat(r.bytes()).isEqualTo(300);
        assertThat(r.transfers()).containsExactly(
                span(0, 0.0, 0.0, 0.0 + 0.1 + 0.01, TransferOutcome.DROPPED),
                span(0, 0.2, 0.2, 0.2 + 0.1 + 0.01, TransferOutcome.DELIVERED),
                span(1, 0.0, 0.2 + 0.1, 0.2 + 0.1 + 0.1 + 0.01, TransferOutcome.DELIVERED));
        Control.Report report = f.probe();
        assertThat(report.received()).isEqualTo(2);
        assertThat(report.sent()).isEqualTo(2);
        f.broken.expectNoMessage(QUIET);
    }

    @Test
    void aDuplicatedMessageIsReallyDeliveredTwiceAndCounted() {
        Fixture f = new Fixture(1);
        f.faults(0, 10.0, window(0, FaultKind.LINK_DUPLICATE, 0, INF, 1.0));
        f.send(0, 0, 0.5);
        assertThat(f.delivery()).isEqualTo(new Stage.Deliver(0, 10, 0.5 + 0.1 + 0.01));
        // the copy follows on the wire
        assertThat(f.delivery()).isEqualTo(new Stage.Deliver(0, 10, 0.5 + 0.1 + 0.1 + 0.01));
        LinkRecord r = f.recorder.receiveMessage().record();
        assertThat(r.messages()).isEqualTo(1);
        assertThat(r.duplicates()).isEqualTo(1);
        assertThat(r.dropped()).isZero();
        assertThat(r.bytes()).isEqualTo(200);
        assertThat(r.transfers()).extracting(LinkRecord.Transfer::outcome)
                .containsExactly(TransferOutcome.DELIVERED, TransferOutcome.DUPLICATE);
        // a copy is a second send: what the link took in and what it gave out differ by it
        Control.Report report = f.probe();
        assertThat(report.received()).isEqualTo(1);
        assertThat(report.sent()).isEqualTo(2);
        f.receiver.expectNoMessage(QUIET);
    }

    @Test
    void aPartitionShorterThanTheTimeoutDelaysTheMessageUntilAfterItHeals() {
        Fixture f = new Fixture(1);
        f.faults(0, 10.0, window(1, FaultKind.LINK_PARTITION, 0, 1.0, 0));
        f.send(0, 0, 0.0);
        double r3 = 0.0 + 0.2 + 0.4 + 0.8; // lost at 0, 0.2 and 0.6; the partition healed at 1.0
        assertThat(f.delivery()).isEqualTo(new Stage.Deliver(0, 10, r3 + 0.1 + 0.01));
        LinkRecord r = f.recorder.receiveMessage().record();
        assertThat(r.dropped()).isEqualTo(3);
        assertThat(r.messages()).isEqualTo(1);
        assertThat(r.transfers()).hasSize(4);
        f.broken.expectNoMessage(QUIET);
    }

    @Test
    void aPartitionLongerThanTheTimeoutBreaksTheStepAndTheLinkCarriesNothingMoreOfIt() {
        Fixture f = new Fixture(3);
        f.faults(5, 1.0, window(2, FaultKind.LINK_PARTITION, 0.25, 60, 0));
        f.send(5, 0, 0.0); // leaves at 0, before the partition
        f.send(5, 1, 0.3); // lost at 0.3, 0.5 and 0.9; the next retransmission would leave at 1.7 >= 0.3 + 1.0
        f.send(5, 2, 0.3); // after the link gave up: dropped silently
        assertThat(f.delivery()).isEqualTo(new Stage.Deliver(5, 10, 0.0 + 0.1 + 0.01));
        Link.Broken b = f.broken.receiveMessage();
        assertThat(b.step()).isEqualTo(5);
        assertThat(b.link()).isEqualTo("link-0-0to1");
        assertThat(b.fault()).isEqualTo(2);
        assertThat(b.atSeconds()).isEqualTo(0.3 + 1.0);
        assertThat(b.reason()).isEqualTo("link-0-0to1: message 1 (activation of stage 0, micro-batch 1) did not get through within "
                + "1.0 s of its first transmission: 3 transmissions dropped, the last by fault 2 (link.partition)");
        f.receiver.expectNoMessage(QUIET);
        f.broken.expectNoMessage(Duration.ZERO);
        // the step will never complete: its record is flushed, with what the wire really carried
        f.recorder.expectNoMessage(Duration.ZERO);
        TestProbe<Control.Flushed> flushed = node.kit().createTestProbe(Control.Flushed.class);
        f.link.tell(new Link.Flush(flushed.getRef()));
        LinkRecord r = flushed.receiveMessage().links().get(0);
        assertThat(r.messages()).isEqualTo(1);
        assertThat(r.dropped()).isEqualTo(3);
        assertThat(r.bytes()).isEqualTo(400);
        // quiescence: what was not delivered was taken in and never given out, as the stage counted it sent
        Control.Report report = f.probe();
        assertThat(report.received()).isEqualTo(3);
        assertThat(report.sent()).isEqualTo(1);
        assertThat(report.idle()).isTrue();
    }

    @Test
    void latencyAndBandwidthFaultsChangeTheArrivalsExactly() {
        Fixture f = new Fixture(3);
        f.faults(0, 10.0, window(0, FaultKind.LINK_LATENCY, 0, 1.0, 0.5), window(1, FaultKind.LINK_BANDWIDTH, 0.2, 1.0, 0.5));
        f.send(0, 0, 0.0);  // latency only
        f.send(0, 1, 0.5);  // both: 0.2 s on the wire
        f.send(0, 2, 2.0);  // neither
        assertThat(f.delivery()).isEqualTo(new Stage.Deliver(0, 10, 0.0 + 0.1 + 0.01 + 0.5));
        assertThat(f.delivery()).isEqualTo(new Stage.Deliver(0, 11, 0.5 + 0.1 / 0.5 + 0.01 + 0.5));
        assertThat(f.delivery()).isEqualTo(new Stage.Deliver(0, 12, 2.0 + 0.1 + 0.01));
        LinkRecord r = f.recorder.receiveMessage().record();
        assertThat(r.busySeconds()).isEqualTo((0.0 + 0.1 + 0.01 + 0.5 - 0.0) + (0.5 + 0.2 + 0.01 + 0.5 - 0.5) + (2.0 + 0.1 + 0.01 - 2.0));
        assertThat(r.dropped()).isZero();
    }

    @Test
    void aStepWithoutFaultsMessageHasNone() {
        Fixture f = new Fixture(1);
        f.faults(0, 1.0, window(0, FaultKind.LINK_PARTITION, -INF, INF, 0));
        f.send(0, 0, 0.0);
        f.broken.receiveMessage();
        f.send(1, 0, 0.25);
        assertThat(f.delivery()).isEqualTo(new Stage.Deliver(1, 10, 0.25 + 0.1 + 0.01));
        LinkRecord r = f.recorder.receiveMessage().record();
        assertThat(r.step()).isEqualTo(1);
        assertThat(r.dropped()).isZero();
        assertThat(r.transfers()).containsExactly(span(0, 0.25, 0.25, 0.25 + 0.1 + 0.01, TransferOutcome.DELIVERED));
    }

    @Test
    void aRingLinkRetransmitsItsChunksToo() {
        TestProbe<Stage.Command> receiver = node.kit().createTestProbe(Stage.Command.class);
        TestProbe<Link.Recorded> recorder = node.kit().createTestProbe(Link.Recorded.class);
        TestProbe<Link.Broken> broken = node.kit().createTestProbe(Link.Broken.class);
        LinkSetup setup = LinkSetup.ring(0, 1, 2, ClockMode.VIRTUAL, 1.0, 1, TelemetryLevel.STEPS);
        ActorRef<Link.Command> link = node.kit().spawn(Link.create(setup, receiver.getRef(), Stage::delivered, recorder.getRef()));
        link.tell(new Link.Faults(0, List.of(window(0, FaultKind.LINK_LOSS, 0, 0.1, 1.0)), 0.2, 10.0, broken.getRef()));
        link.tell(new Link.RingTransfer(0, 0L, 6, 1, 100, SPEC, 0.0));
        assertThat(receiver.receiveMessage()).isEqualTo(new Stage.RingChunk(0, 6, 1, 0.2 + 0.1 + 0.01));
        LinkRecord r = recorder.receiveMessage().record();
        assertThat(r.dropped()).isEqualTo(1);
        assertThat(r.transfers()).isEmpty(); // level steps: sums only
    }

    /** In wall time each delivery, the copy and the broken-link report wait for their wall instant; the values are exact. */
    @Test
    void wallClockDeliveriesAndTheBrokenReportComeByTimers() {
        double speed = 10; // 10 emulated seconds per wall second
        Fixture f = new Fixture(ClockMode.WALL, speed, 3);
        long epoch = Clock.of(ClockMode.WALL, speed).epoch();
        f.faults(0, 1.0, window(0, FaultKind.LINK_DUPLICATE, 0, 0.1, 1.0), window(1, FaultKind.LINK_PARTITION, 0.3, 60, 0));
        f.send(0, epoch, 0, 0.0);
        f.send(0, epoch, 1, 0.3);
        assertThat(f.delivery()).isEqualTo(new Stage.Deliver(0, 10, 0.0 + 0.1 + 0.01));
        assertThat(f.delivery()).isEqualTo(new Stage.Deliver(0, 10, 0.0 + 0.1 + 0.1 + 0.01));
        // the sender gives up at 1.3 emulated seconds: 0.13 s of wall time after the epoch
        Link.Broken b = f.broken.receiveMessage(Duration.ofSeconds(5));
        assertThat(b.atSeconds()).isEqualTo(0.3 + 1.0);
        // not before its instant (a margin of 5 ms of wall time for the clock reads around the timer)
        assertThat(Clock.of(ClockMode.WALL, speed).now(epoch)).isGreaterThanOrEqualTo(1.3 - 0.05);
        f.receiver.expectNoMessage(QUIET);
    }
}
