package dev.pipelab.cluster;

import dev.pipelab.link.Link;
import dev.pipelab.monitoring.Event;
import dev.pipelab.monitoring.EventLog;
import dev.pipelab.monitoring.LinkRecord;
import dev.pipelab.monitoring.Phase;
import dev.pipelab.monitoring.StageRecord;
import dev.pipelab.monitoring.TelemetryLevel;
import dev.pipelab.monitoring.TransferKind;
import dev.pipelab.monitoring.TransferOutcome;
import dev.pipelab.pipeline.Emulator;
import dev.pipelab.pipeline.RunOptions;
import dev.pipelab.pipeline.RunSpec;
import dev.pipelab.pipeline.TestSystems;
import dev.pipelab.plan.Planner;
import dev.pipelab.protocol.Control;
import dev.pipelab.protocol.RecordParts;
import dev.pipelab.scenario.ScenarioLoader;
import dev.pipelab.schedule.Network;
import dev.pipelab.schedule.Schedule;
import dev.pipelab.schedule.Schedules;
import dev.pipelab.stage.OomPolicy;
import dev.pipelab.stage.Stage;
import dev.pipelab.stage.StageReport;
import dev.pipelab.stage.TestCosts;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.IntFunction;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The CBOR size of step records as Pekko serializes them (docs/telemetry.md, Records across nodes): the bound per span
 * that {@link RecordParts} relies on, the largest records of the shipped scenarios at level spans, and the number of
 * micro-batches at which a whole record would exceed Artery's 256 KiB frame (and be dropped, were it not split).
 */
class RecordSizeTest {

    @RegisterExtension
    static final TestSystems.OneNode node = new TestSystems.OneNode();

    private static final int FRAME = 256 * 1024;

    private static Serialization serialization() {
        return SerializationExtension.get(Adapter.toClassic(node.system()));
    }

    private static int bytes(Object message) {
        return serialization().serialize(message).get().length;
    }

    /** A stage record's wire size: as a flush reply carries it (a few bytes around the record). */
    private static int bytes(StageRecord r) {
        return bytes(new Control.Flushed("x", List.of(r), List.of()));
    }

    private static int bytes(LinkRecord r) {
        return bytes(new Link.Recorded(r));
    }

    private static StageRecord stage(List<StageRecord.Action> a, List<StageRecord.MemoryChange> m, List<StageRecord.CreditStall> s,
                                     List<StageRecord.OutOfMemory> o) {
        return new StageRecord(Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE, Map.of(Phase.F, 1.5), 1.75, Long.MAX_VALUE,
                Long.MAX_VALUE, Integer.MAX_VALUE, new TreeMap<>(), List.of(), o, a, m, s);
    }

    private static <T> List<T> many(int n, IntFunction<T> f) {
        List<T> l = new ArrayList<>(n);
        for (int i = 0; i < n; i++) l.add(f.apply(i));
        return l;
    }

    /** Each kind of span at its largest: the longest enum names, the widest integers, full doubles (no value is shorter). */
    @Test
    void noSpanTakesMoreThanTheBound() {
        int n = 1000;
        double d = -1.2345678901234567e-300;
        int empty = bytes(stage(List.of(), List.of(), List.of(), List.of()));
        int actions = bytes(stage(many(n, i -> new StageRecord.Action(Phase.OPT, Integer.MIN_VALUE, Integer.MIN_VALUE, d, d, d)),
                List.of(), List.of(), List.of()));
        int memory = bytes(stage(List.of(), many(n, i -> new StageRecord.MemoryChange(d, Long.MIN_VALUE)), List.of(), List.of()));
        int stalls = bytes(stage(List.of(), List.of(), many(n, i -> new StageRecord.CreditStall(Integer.MIN_VALUE, d, d)), List.of()));
        int oom = bytes(stage(List.of(), List.of(), List.of(),
                many(n, i -> new StageRecord.OutOfMemory(Integer.MIN_VALUE, d, Long.MIN_VALUE, Long.MIN_VALUE))));
        LinkRecord noTransfer = new LinkRecord(Integer.MAX_VALUE, 0, 0, 0, 1, false, Long.MAX_VALUE, d, Integer.MAX_VALUE, 0, List.of());
        int transfers = bytes(new LinkRecord(noTransfer.step(), 0, 0, 0, 1, false, Long.MAX_VALUE, d, Integer.MAX_VALUE, 0,
                many(n, i -> new LinkRecord.Transfer(TransferKind.ACTIVATION, Integer.MIN_VALUE, Integer.MIN_VALUE, Long.MIN_VALUE, d, d, d))));
        int[] perSpan = {(actions - empty) / n, (memory - empty) / n, (stalls - empty) / n, (oom - empty) / n,
                (transfers - bytes(noTransfer)) / n};
        System.out.printf(Locale.ROOT, "worst-case CBOR bytes per span: action %d, memory change %d, credit stall %d, "
                + "out of memory %d, transfer %d (bound %d)%n", perSpan[0], perSpan[1], perSpan[2], perSpan[3], perSpan[4],
                RecordParts.SPAN_BYTES_BOUND);
        assertThat(Arrays.stream(perSpan).max().orElseThrow()).isLessThanOrEqualTo(RecordParts.SPAN_BYTES_BOUND);
        // the bound is tight enough to be worth its name: the largest span is within a quarter of it
        assertThat(Arrays.stream(perSpan).max().orElseThrow()).isGreaterThan(RecordParts.SPAN_BYTES_BOUND * 3 / 4);
    }

    /**
     * A transfer a fault dropped or duplicated carries its outcome on the wire (a delivered one leaves it out, so the
     * bound above holds for it unchanged): at worst it takes twice the bound, the weight {@link RecordParts#weight}
     * gives it in a part's budget, and a part of such transfers still fits a quarter frame.
     */
    @Test
    void aTransferMarkedByAFaultTakesAtMostTwiceTheBound() {
        int n = 1000;
        double d = -1.2345678901234567e-300;
        LinkRecord noTransfer = new LinkRecord(Integer.MAX_VALUE, 0, 0, 0, 1, false, Long.MAX_VALUE, d, Integer.MAX_VALUE, 0,
                Integer.MAX_VALUE, Integer.MAX_VALUE, List.of());
        int largest = 0;
        for (TransferOutcome outcome : TransferOutcome.values()) {
            LinkRecord r = new LinkRecord(noTransfer.step(), 0, 0, 0, 1, false, Long.MAX_VALUE, d, Integer.MAX_VALUE, 0,
                    Integer.MAX_VALUE, Integer.MAX_VALUE, many(n, i -> new LinkRecord.Transfer(TransferKind.ACTIVATION,
                    Integer.MIN_VALUE, Integer.MIN_VALUE, Long.MIN_VALUE, d, d, d, outcome)));
            int perSpan = (bytes(r) - bytes(noTransfer)) / n;
            System.out.printf(Locale.ROOT, "worst-case CBOR bytes per %s transfer: %d%n", outcome.label(), perSpan);
            int weight = RecordParts.weight(r.transfers().get(0));
            assertThat(perSpan).isLessThanOrEqualTo(weight * RecordParts.SPAN_BYTES_BOUND);
            if (outcome == TransferOutcome.DELIVERED) assertThat(weight).isEqualTo(1);
            for (LinkRecord p : RecordParts.split(r, RecordParts.spansPerPart(FRAME))) largest = Math.max(largest, bytes(p));
        }
        assertThat(largest).isLessThan(FRAME / 4);
    }

    /** Every part of a record of any size fits a quarter frame, also inside a stage's Done next to a report of 2,000 actions. */
    @Test
    void everyPartOfAHugeRecordFitsTheFrame() {
        int spansPerPart = RecordParts.spansPerPart(FRAME);
        double d = -1.2345678901234567e-300;
        StageRecord huge = stage(many(30_000, i -> new StageRecord.Action(Phase.OPT, Integer.MIN_VALUE, Integer.MIN_VALUE, d, d, d)),
                many(20_000, i -> new StageRecord.MemoryChange(d, Long.MIN_VALUE)), List.of(), List.of());
        assertThat(bytes(huge)).isGreaterThan(8 * FRAME);
        double[] times = new double[2000];
        Arrays.fill(times, d);
        StageReport report = new StageReport(1, 0, 0, times, times, 1.0, 1L, 1, 1.0, 1.0, new double[0], new double[0],
                new double[0], many(1000, i -> Long.MIN_VALUE));
        List<StageRecord> parts = RecordParts.split(huge, spansPerPart);
        assertThat(parts).hasSize((50_000 + spansPerPart - 1) / spansPerPart);
        int largest = 0;
        for (StageRecord p : parts) largest = Math.max(largest, bytes(new Stage.Done(report, Optional.of(p), List.of(), parts.size())));
        System.out.printf(Locale.ROOT, "a record of 50,000 worst-case spans: %,d bytes whole, %d parts of at most %,d bytes "
                + "(in a Done with a report of 2,000 actions and 1,000 offsets)%n", bytes(huge), parts.size(), largest);
        assertThat(largest).isLessThan(FRAME / 4 + bytes(report));
        // the bound by which a cluster run refuses ranks with too many actions holds (Emulator.run)
        assertThat((long) largest).isLessThanOrEqualTo(Emulator.doneBytesBound(2000, 1000, FRAME));
        assertThat(RecordParts.joinStage(parts)).isEqualTo(huge);
    }

    /** A run over several nodes whose step reports could not cross is refused before it starts, with the numbers. */
    @Test
    void aClusterRunWhoseReportsExceedTheFrameIsRefused() {
        Schedule s = Schedules.oneFOneB(2, 5000);
        RunSpec spec = new RunSpec(s, TestCosts.of(s, 1, false, TestCosts.SLOW), Network.uniform(TestCosts.SLOW), 2, 1, Long.MAX_VALUE);
        List<org.apache.pekko.actor.typed.ActorRef<Host.Command>> hosts = List.of(node.kit().spawn(Host.createLocal(Emulator.ACTORS)),
                node.kit().spawn(Host.createLocal(Emulator.ACTORS)));
        assertThatThrownBy(() -> Emulator.run(node.system(), hosts, (replica, rank) -> rank, spec, RunOptions.virtual(1, new EventLog())))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("across nodes a rank's step report of 10000 actions would take up to " + Emulator.doneBytesBound(10000, 5000, FRAME)
                        + " bytes, more than Artery's frame of 262144 bytes; use fewer micro-batches per step, one node, or raise "
                        + "pekko.remote.artery.advanced.maximum-frame-size");
        hosts.forEach(h -> h.tell(Host.Stop.INSTANCE));
    }

    /** The largest stage and link records of one step of each shipped scenario at level spans, whole and as parts. */
    @Test
    void shippedScenariosRecordsAndTheirParts() throws Exception {
        int spansPerPart = RecordParts.spansPerPart(FRAME);
        List<Path> scenarios;
        try (Stream<Path> files = Files.list(Path.of("..", "scenarios"))) {
            scenarios = files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList();
        }
        assertThat(scenarios).hasSizeGreaterThanOrEqualTo(9);
        System.out.println("scenario                       m   largest stage record (spans)   largest link record (transfers)");
        for (Path f : scenarios) {
            List<Event.StepEnded> ended = oneStep(RunSpec.of(Planner.plan(ScenarioLoader.load(f))));
            int stageBytes = 0, stageSpans = 0, linkBytes = 0, linkSpans = 0;
            for (StageRecord r : ended.get(0).stages()) {
                int b = bytes(r);
                if (b > stageBytes) {
                    stageBytes = b;
                    stageSpans = RecordParts.spans(r);
                }
                for (StageRecord p : RecordParts.split(r, spansPerPart)) assertThat(bytes(p)).isLessThan(FRAME / 4);
            }
            for (LinkRecord r : ended.get(0).links()) {
                int b = bytes(r);
                if (b > linkBytes) {
                    linkBytes = b;
                    linkSpans = r.transfers().size();
                }
                for (LinkRecord p : RecordParts.split(r, spansPerPart)) assertThat(bytes(p)).isLessThan(FRAME / 4);
            }
            System.out.printf(Locale.ROOT, "%-28s %4d   %,9d bytes (%,6d)          %,9d bytes (%,6d)%n",
                    f.getFileName(), Planner.plan(ScenarioLoader.load(f)).microBatches(), stageBytes, stageSpans, linkBytes, linkSpans);
        }
    }

    /**
     * The micro-batches per step at which a whole record of a 4-rank 1F1B pipeline first exceeds 256 KiB: predicted from
     * the sizes at m = 64 and 128 (a record grows linearly with m), then settled by real runs on both sides.
     */
    @Test
    void microBatchesAtWhichAWholeRecordExceedsTheFrame() {
        for (boolean link : new boolean[] {false, true}) {
            int at64 = largest(64, link);
            int at128 = largest(128, link);
            int m = 128 + (int) Math.ceil((FRAME - at128) / ((at128 - at64) / 64.0));
            while (largest(m, link) <= FRAME) m++;
            while (largest(m - 1, link) > FRAME) m--;
            System.out.printf(Locale.ROOT, "1F1B p=4: the largest %s record exceeds 256 KiB from m = %d (%,d bytes; m = %d: %,d bytes; "
                    + "%.0f bytes per micro-batch)%n", link ? "link" : "stage", m, largest(m, link), m - 1, largest(m - 1, link),
                    (at128 - at64) / 64.0);
            assertThat(largest(m, link)).isGreaterThan(FRAME);
            assertThat(largest(m - 1, link)).isLessThanOrEqualTo(FRAME);
        }
    }

    /** The largest serialized stage (or link) record of one 1F1B step with 4 ranks and {@code m} micro-batches. */
    private int largest(int m, boolean link) {
        Schedule s = Schedules.oneFOneB(4, m);
        RunSpec spec = new RunSpec(s, TestCosts.of(s, 1, false, TestCosts.SLOW), Network.uniform(TestCosts.SLOW), 2, 1, Long.MAX_VALUE);
        Event.StepEnded e = oneStep(spec).get(0);
        int max = 0;
        if (link) for (LinkRecord r : e.links()) max = Math.max(max, bytes(r));
        else for (StageRecord r : e.stages()) max = Math.max(max, bytes(r));
        return max;
    }

    private static List<Event.StepEnded> oneStep(RunSpec spec) {
        EventLog log = new EventLog();
        // a scenario whose device is too small for it (article-80-stages) still shows its records
        Emulator.run(node.system(), spec, RunOptions.virtual(1, log).withTelemetry(TelemetryLevel.SPANS).withOom(OomPolicy.WARN)).orThrow();
        return log.events().stream().filter(e -> e instanceof Event.StepEnded).map(e -> (Event.StepEnded) e).toList();
    }
}
