package dev.pipelab.monitoring.trace;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.pipelab.monitoring.Event;
import dev.pipelab.monitoring.EventSink;
import dev.pipelab.monitoring.LinkRecord;
import dev.pipelab.monitoring.Phase;
import dev.pipelab.monitoring.RunInfo;
import dev.pipelab.monitoring.StageRecord;
import dev.pipelab.monitoring.TransferKind;
import dev.pipelab.monitoring.TransferOutcome;

import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Streams a run's step records as a Chrome trace-event JSON object (Perfetto, chrome://tracing). Invariant: within
 * every (pid, tid) track the written {@code X} slices never partially overlap and their timestamps never decrease,
 * because each step's records are written sorted by time when its {@code StepEnded} (or {@code StepAbandoned})
 * arrives and every slice goes to the first lane (thread) of its kind whose previous slice has ended.
 *
 * <p>Layout: one process per (replica, rank), {@code pid = replica·p + rank + 1}, named {@code replica R rank K}, or
 * in a cluster run {@code replica R rank K @ host:port}, the worker JVM that hosted it;
 * threads {@code compute}, {@code send → K}, {@code recv ← K}, {@code allreduce} and {@code credit stall}, each
 * split into lanes ({@code send → 1 (2)}) only when slices of one kind overlap (link latency lets two transfers of a
 * FIFO link be in flight at once). Slices are named like {@code F mb3} or {@code OPT}, categorised per phase
 * ({@code forward}, {@code backward}, {@code weight}, {@code recompute}, {@code optimizer}, {@code transfer},
 * {@code allreduce}, {@code stall}); {@code ts}/{@code dur} are microseconds of emulated run time (the step's
 * {@code runSeconds} plus the step-local time). A flow arrow ({@code s}/{@code f}, {@code bp:"e"}) joins each send
 * slice to its receive slice; counters ({@code C}) show memory per rank and queue depth per outgoing link; global
 * instants mark out-of-memory moments. A ring link's chunk is drawn on its sender's process, as a send and a receive of
 * the same rank.
 *
 * <p>Faults and recovery, when the run had any, get a process of their own, {@code faults} ({@code pid = p·d + 1},
 * sorted first), written at {@link #close()} after every step: thread {@code faults} holds a slice per fault from its
 * injection to its heal (a fault that never healed lasts until the last recovery it caused ended, else to the end of
 * the trace), thread {@code recovery} a slice per recovery from the failure to the moment training went on, thread
 * {@code checkpoints} a slice per checkpoint; global instants mark each injection, heal and detection. A fault-free
 * trace has none of these, byte for byte as before.
 *
 * <p>Use it as an {@link EventSink} during a run (thread-safe; it holds no step once handed over, and writes on a
 * thread of its own, so an emitter never waits for the disk) and {@link #close()} at the end, or write a recorded
 * stream at once with {@link #write}. Only the records of {@code StepEnded} and {@code StepAbandoned} are drawn, so
 * telemetry at level {@code steps} gives a trace of process names only.
 */
public final class TraceWriter implements EventSink, Closeable {

    /**
     * Thread ids: {@code kind << 22 | peer << 10 | lane}, so no two tracks share a tid for up to 4,096 ranks and 1,024
     * lanes of one kind (transfers of one link in flight at once).
     */
    private static final int LANE_BITS = 10;
    private static final int PEER_SHIFT = LANE_BITS;
    private static final int MAX_PEERS = 1 << 12;
    private static final int COMPUTE = 1 << 22;
    private static final int ALLREDUCE = 2 << 22;
    private static final int STALL = 3 << 22;
    private static final int SEND = 4 << 22;
    private static final int RECV = 5 << 22;
    private static final int FAULTS = 6 << 22;
    private static final int RECOVERY = 7 << 22;
    private static final int CHECKPOINTS = 8 << 22;

    private static final Comparator<Pending> ORDER = Comparator.comparingDouble(Pending::ts)
            .thenComparingInt(Pending::kindOrder).thenComparingLong(Pending::seq);

    /** One trace item waiting for its step's run offset: a sort key and how to write it. */
    private record Pending(double ts, int kindOrder, long seq, Object item) {}

    private final RunInfo info;
    private final JsonGenerator json;
    private final Map<Integer, Double> stepRunSeconds = new HashMap<>();
    private double lastRunSeconds;
    /** Per (pid, track kind): the end (µs) of the last slice of each lane. */
    private final Map<Long, List<Double>> lanes = new HashMap<>();
    private final Map<Long, Boolean> namedThreads = new HashMap<>();
    /** Fault and recovery events, keyed as the run's telemetry keeps them; drawn at {@link #close()}. */
    private final TreeMap<Integer, Event.FaultInjected> injected = new TreeMap<>();
    private final TreeMap<Integer, Event.FaultHealed> healed = new TreeMap<>();
    private final TreeMap<Integer, Event.Recovered> recovered = new TreeMap<>();
    private final TreeMap<Integer, Event.Checkpointed> checkpoints = new TreeMap<>();
    private long nextFlowId = 1;
    private long seq;
    private boolean closed;
    /** Writes steps in the order they were handed over; the only thread that touches {@link #json} after the header. */
    private final ExecutorService writer = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "trace-writer");
        t.setDaemon(true);
        return t;
    });
    private volatile IOException failure;

    /** Opens {@code file} and writes the header and process names. */
    public TraceWriter(RunInfo info, Path file) throws IOException {
        this(info, new BufferedOutputStream(Files.newOutputStream(file), 1 << 16));
    }

    /** Writes to {@code out}, which {@link #close()} closes. */
    public TraceWriter(RunInfo info, OutputStream out) throws IOException {
        this.info = Objects.requireNonNull(info, "info");
        if (info.pipeline() > MAX_PEERS) {
            throw new IllegalArgumentException("a trace draws up to " + MAX_PEERS + " ranks per pipeline, got " + info.pipeline());
        }
        this.json = new JsonFactory().createGenerator(out, JsonEncoding.UTF8);
        json.writeStartObject();
        json.writeArrayFieldStart("traceEvents");
        for (int replica = 0; replica < info.data(); replica++) {
            for (int rank = 0; rank < info.pipeline(); rank++) {
                int pid = pid(info, replica, rank);
                metadata(pid, 0, "process_name", "name", processName(info, replica, rank));
                metadata(pid, 0, "process_sort_index", "sort_index", pid);
                threadName(pid, COMPUTE, "compute", 0);
            }
        }
    }

    /**
     * Writes {@code events} (in any order: they are grouped by step first, each step's {@code StepStarted} first and
     * {@code StepEnded} last) to {@code file} as one trace.
     */
    public static void write(RunInfo info, Collection<? extends Event> events, Path file) throws IOException {
        try (TraceWriter writer = new TraceWriter(info, file)) {
            writer.emitAll(events);
        }
    }

    /** As {@link #write(RunInfo, Collection, Path)}, to a stream (closed at the end). */
    public static void write(RunInfo info, Collection<? extends Event> events, OutputStream out) throws IOException {
        try (TraceWriter writer = new TraceWriter(info, out)) {
            writer.emitAll(events);
        }
    }

    private void emitAll(Collection<? extends Event> events) {
        List<Event> ordered = new ArrayList<>(events);
        ordered.sort(Comparator.comparingInt(Event::step).thenComparingInt(e -> e instanceof Event.StepStarted ? 0 : 1));
        for (Event e : ordered) emit(e);
    }

    /** {@code replica R rank K}, with {@code  @ host:port} of its worker in a cluster run. */
    static String processName(RunInfo info, int replica, int rank) {
        String name = "replica " + replica + " rank " + rank;
        return info.deployment().map(d -> name + " @ " + d.label(replica, rank)).orElse(name);
    }

    /** The process id of (replica, rank): {@code replica·p + rank + 1} (pid 0 is avoided; some viewers reserve it). */
    public static int pid(RunInfo info, int replica, int rank) {
        return replica * info.pipeline() + rank + 1;
    }

    @Override
    public void emit(Event event) {
        Objects.requireNonNull(event, "event");
        synchronized (this) {
            if (closed) throw new IllegalStateException("trace already closed");
            if (event instanceof Event.StepStarted s) {
                stepRunSeconds.put(s.step(), s.runSeconds());
            } else if (event instanceof Event.StepEnded e) {
                // a StepEnded without a StepStarted still places its step: it ends at runSeconds
                double offset = stepRunSeconds.getOrDefault(e.step(), e.runSeconds() - e.stepSeconds());
                lastRunSeconds = Math.max(lastRunSeconds, e.runSeconds());
                hand(offset, e.step(), e.stages(), e.links());
            } else if (event instanceof Event.StepAbandoned a) {
                // an abandoned step never ended: it starts where its StepStarted put it, else after the last step
                hand(stepRunSeconds.getOrDefault(a.step(), lastRunSeconds), a.step(), a.stages(), a.links());
            } else if (event instanceof Event.FaultInjected f) {
                injected.put(f.fault(), f);
            } else if (event instanceof Event.FaultHealed h) {
                healed.put(h.fault(), h);
            } else if (event instanceof Event.Recovered r) {
                recovered.put(r.step(), r);
            } else if (event instanceof Event.Checkpointed c) {
                checkpoints.put(c.step(), c);
            }
            // StepLoss and StepCommitted are not timeline items: report.json and the dashboard show them
        }
    }

    /** Writes every step still buffered, the fault markers and the metadata, and closes the file. */
    @Override
    public void close() throws IOException {
        synchronized (this) {
            if (closed) return;
            closed = true;
        }
        writer.shutdown();
        try {
            if (!writer.awaitTermination(1, TimeUnit.HOURS)) throw new IOException("trace writer did not finish");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while finishing the trace", e);
        }
        if (failure != null) {
            json.close();
            throw failure;
        }
        double lastTs = 0;
        for (List<Double> l : lanes.values()) for (double end : l) lastTs = Math.max(lastTs, end);
        lastTs = writeFaults(lastTs);
        json.writeEndArray();
        json.writeStringField("displayTimeUnit", "ms");
        json.writeObjectFieldStart("metadata");
        json.writeStringField("scenario", info.name());
        json.writeStringField("schedule", info.schedule());
        json.writeNumberField("pipeline", info.pipeline());
        json.writeNumberField("data", info.data());
        json.writeNumberField("tensor", info.tensor());
        json.writeNumberField("virtualStages", info.virtualStages());
        json.writeNumberField("microBatches", info.microBatches());
        json.writeNumberField("microBatchSize", info.microBatchSize());
        json.writeNumberField("devices", info.devices());
        json.writeStringField("clock", info.clock());
        json.writeStringField("timeUnit", "microseconds of emulated run time");
        json.writeNumberField("lastSliceEndMicros", lastTs);
        json.writeEndObject();
        json.writeEndObject();
        json.close();
    }

    // ---------------------------------------------------------------- faults

    /** A fault's active window, {@code [ts, end]} in µs. */
    private record FaultItem(Event.FaultInjected fault, double end, boolean healed) {}

    /** A global instant: an injection, heal or detection. */
    private record InstantItem(String name, String detail) {}

    /**
     * Writes the faults process (see the class comment) sorted by time, and returns the trace's last slice end
     * including its slices. Writes nothing when the run had no fault, recovery or checkpoint.
     */
    private double writeFaults(double lastTs) throws IOException {
        if (injected.isEmpty() && healed.isEmpty() && recovered.isEmpty() && checkpoints.isEmpty()) return lastTs;
        int pid = info.data() * info.pipeline() + 1;
        metadata(pid, 0, "process_name", "name", "faults");
        metadata(pid, 0, "process_sort_index", "sort_index", 0);
        double end = lastTs;
        for (Event.FaultInjected f : injected.values()) end = Math.max(end, micros(f.runSeconds()));
        for (Event.FaultHealed h : healed.values()) end = Math.max(end, micros(h.runSeconds()));
        for (Event.Recovered r : recovered.values()) end = Math.max(end, micros(r.recoveredAtSeconds()));
        for (Event.Checkpointed c : checkpoints.values()) end = Math.max(end, micros(c.runSeconds()));

        List<Pending> items = new ArrayList<>();
        for (Event.FaultInjected f : injected.values()) {
            double ts = micros(f.runSeconds());
            Event.FaultHealed h = healed.get(f.fault());
            double until = end;
            if (h != null) {
                until = micros(h.runSeconds());
                items.add(new Pending(until, 0, seq++, new InstantItem("heal " + f.kind() + " " + f.target(), f.description())));
            } else {
                // never healed: its effect lasted until the recoveries it caused ended, or to the end of the trace
                for (Event.Recovered r : recovered.values()) if (r.fault() == f.fault()) until = micros(r.recoveredAtSeconds());
            }
            items.add(new Pending(ts, 1, seq++, new FaultItem(f, Math.max(ts, until), h != null)));
            items.add(new Pending(ts, 2, seq++, new InstantItem("inject " + f.kind() + " " + f.target(), f.description())));
        }
        for (Event.Recovered r : recovered.values()) {
            items.add(new Pending(micros(r.failedAtSeconds()), 1, seq++, r));
            items.add(new Pending(micros(r.detectedAtSeconds()), 2, seq++, new InstantItem("detect attempt " + r.step(),
                    r.reason().lines().findFirst().orElse(""))));
        }
        for (Event.Checkpointed c : checkpoints.values()) items.add(new Pending(micros(c.runSeconds() - c.seconds()), 1, seq++, c));
        items.sort(ORDER);
        for (Pending p : items) {
            if (p.item() instanceof FaultItem f) {
                int tid = lane(pid, FAULTS, "faults", p.ts(), f.end());
                slice(pid, tid, f.fault().kind() + " " + f.fault().target(), "fault", p.ts(), f.end());
                json.writeObjectFieldStart("args");
                json.writeNumberField("fault", f.fault().fault());
                json.writeStringField("description", f.fault().description());
                json.writeBooleanField("healed", f.healed());
                json.writeEndObject();
                json.writeEndObject();
            } else if (p.item() instanceof Event.Recovered r) {
                double to = Math.max(p.ts(), micros(r.recoveredAtSeconds()));
                int tid = lane(pid, RECOVERY, "recovery", p.ts(), to);
                slice(pid, tid, "recovery of attempt " + r.step(), "recovery", p.ts(), to);
                json.writeObjectFieldStart("args");
                json.writeNumberField("fault", r.fault());
                json.writeStringField("reason", r.reason());
                json.writeNumberField("detectedAtSeconds", r.detectedAtSeconds());
                json.writeNumberField("resumedFromStep", r.resumedFromStep());
                json.writeNumberField("replayedSteps", r.replayedSteps());
                json.writeNumberField("lostWorkSeconds", r.lostWorkSeconds());
                json.writeEndObject();
                json.writeEndObject();
            } else if (p.item() instanceof Event.Checkpointed c) {
                double to = Math.max(p.ts(), micros(c.runSeconds()));
                int tid = lane(pid, CHECKPOINTS, "checkpoints", p.ts(), to);
                slice(pid, tid, "checkpoint after step " + c.trainingStep(), "checkpoint", p.ts(), to);
                json.writeObjectFieldStart("args");
                json.writeNumberField("attempt", c.step());
                json.writeNumberField("bytes", c.bytes());
                json.writeEndObject();
                json.writeEndObject();
            } else if (p.item() instanceof InstantItem i) {
                instant(p.ts(), i.name(), "fault", i.detail());
            }
        }
        return end;
    }

    // ---------------------------------------------------------------- steps

    /** Hands a step's records to the writer thread, which writes them sorted by time; the emitting thread only queues. */
    private void hand(double offset, int step, List<StageRecord> stages, List<LinkRecord> links) {
        writer.execute(() -> {
            if (failure != null) return;
            try {
                writeStep(offset, step, stages, links);
            } catch (IOException | RuntimeException e) {
                failure = e instanceof IOException io ? io : new IOException(e);
            }
        });
    }

    /** A compute action of (replica, rank). */
    private record ActionItem(int step, int replica, int rank, StageRecord.Action action) {}

    /** A memory change of (replica, rank). */
    private record MemoryItem(int replica, int rank, StageRecord.MemoryChange change) {}

    /** A credit wait of (replica, rank). */
    private record StallItem(int replica, int rank, StageRecord.CreditStall stall) {}

    /** An all-reduce of a stage of {@code replica}. */
    private record AllReduceItem(int replica, StageRecord.AllReduce allReduce) {}

    /** An out-of-memory moment of (replica, rank). */
    private record OutOfMemoryItem(int replica, int rank, StageRecord.OutOfMemory moment) {}

    /** A message on a link. */
    private record TransferItem(LinkRecord link, LinkRecord.Transfer transfer) {}

    /** A queue-depth step of a link, derived from a transfer. */
    private record QueueChange(TransferItem transfer, int delta) {}

    private void writeStep(double offset, int step, List<StageRecord> stages, List<LinkRecord> links) throws IOException {
        List<Pending> items = new ArrayList<>();
        for (StageRecord s : stages) {
            for (StageRecord.Action a : s.actions()) {
                items.add(new Pending(micros(offset + a.startSeconds()), 2, seq++, new ActionItem(step, s.replica(), s.rank(), a)));
            }
            for (StageRecord.MemoryChange m : s.memory()) {
                items.add(new Pending(micros(offset + m.atSeconds()), 1, seq++, new MemoryItem(s.replica(), s.rank(), m)));
            }
            for (StageRecord.CreditStall c : s.stalls()) {
                items.add(new Pending(micros(offset + c.startSeconds()), 2, seq++, new StallItem(s.replica(), s.rank(), c)));
            }
            for (StageRecord.AllReduce a : s.allReduces()) {
                items.add(new Pending(micros(offset + a.startSeconds()), 2, seq++, new AllReduceItem(s.replica(), a)));
            }
            for (StageRecord.OutOfMemory o : s.outOfMemory()) {
                items.add(new Pending(micros(offset + o.atSeconds()), 3, seq++, new OutOfMemoryItem(s.replica(), s.rank(), o)));
            }
        }
        for (LinkRecord l : links) {
            for (LinkRecord.Transfer t : l.transfers()) {
                TransferItem item = new TransferItem(l, t);
                items.add(new Pending(micros(offset + t.startSeconds()), 2, seq++, item));
                if (t.startSeconds() > t.readySeconds()) {
                    // queue depth: +1 when ready, -1 when it leaves
                    items.add(new Pending(micros(offset + t.readySeconds()), 1, seq++, new QueueChange(item, +1)));
                    items.add(new Pending(micros(offset + t.startSeconds()), 0, seq++, new QueueChange(item, -1)));
                }
            }
        }
        items.sort(ORDER);
        Map<Long, Integer> queue = new HashMap<>();
        for (Pending p : items) write(p, offset, queue);
    }

    private void write(Pending p, double offset, Map<Long, Integer> queue) throws IOException {
        Object e = p.item();
        if (e instanceof ActionItem item) {
            StageRecord.Action a = item.action();
            int pid = pid(info, item.replica(), item.rank());
            // with several model stages per rank (interleaved, the V schedules) the slice names its stage
            String name = a.phase() == Phase.OPT ? "OPT" : a.phase().name() + " mb" + a.microBatch()
                    + (info.virtualStages() > 1 ? " s" + a.stage() : "");
            double ts = p.ts();
            double end = micros(offset + a.endSeconds());
            int tid = lane(pid, COMPUTE, "compute", ts, end);
            slice(pid, tid, name, category(a.phase()), ts, end);
            json.writeObjectFieldStart("args");
            json.writeNumberField("stage", a.stage());
            json.writeNumberField("microBatch", a.microBatch());
            json.writeNumberField("step", item.step());
            json.writeEndObject();
            json.writeEndObject();
        } else if (e instanceof TransferItem t) {
            writeTransfer(t, p.ts(), micros(offset + t.transfer().endSeconds()));
        } else if (e instanceof QueueChange q) {
            LinkRecord l = q.transfer().link();
            int pid = pid(info, l.replica(), l.fromRank());
            long key = ((long) pid << 32) | (l.toRank() & 0xffffffffL);
            int depth = queue.merge(key, q.delta(), Integer::sum);
            counter(pid, "queue → " + l.toRank(), p.ts(), "transfers", depth);
        } else if (e instanceof StallItem c) {
            int pid = pid(info, c.replica(), c.rank());
            double end = micros(offset + c.stall().endSeconds());
            int tid = lane(pid, STALL, "credit stall", p.ts(), end);
            slice(pid, tid, "stall → " + c.stall().toRank(), "stall", p.ts(), end);
            json.writeEndObject();
        } else if (e instanceof AllReduceItem item) {
            StageRecord.AllReduce a = item.allReduce();
            // a model stage lives on rank stage mod p (interleaved schedules put stage s on rank s mod p)
            int pid = pid(info, item.replica(), a.stage() % info.pipeline());
            double end = micros(offset + a.endSeconds());
            int tid = lane(pid, ALLREDUCE, "allreduce", p.ts(), end);
            slice(pid, tid, "allreduce stage " + a.stage(), "allreduce", p.ts(), end);
            json.writeObjectFieldStart("args");
            json.writeNumberField("bytes", a.bytes());
            json.writeEndObject();
            json.writeEndObject();
        } else if (e instanceof MemoryItem m) {
            counter(pid(info, m.replica(), m.rank()), "memory", p.ts(), "bytes", m.change().bytes());
        } else if (e instanceof OutOfMemoryItem o) {
            instant(p.ts(), "out of memory", "oom", "replica " + o.replica() + " rank " + o.rank() + ": "
                    + o.moment().bytes() + " of " + o.moment().capacityBytes() + " bytes");
        }
    }

    /**
     * A transmission as a slice on the sender's track and one on the receiver's, joined by a flow arrow. One that a
     * fault dropped never reached the receiver: it is drawn on the sender's track only, named and marked dropped.
     */
    private void writeTransfer(TransferItem item, double ts, double end) throws IOException {
        LinkRecord l = item.link();
        LinkRecord.Transfer t = item.transfer();
        int from = pid(info, l.replica(), l.fromRank());
        int to = pid(info, l.replica(), l.toRank());
        String what = t.kind() == TransferKind.ALLREDUCE ? "allreduce"
                : (t.kind() == TransferKind.GRADIENT ? "B" : "F") + " mb" + t.microBatch();
        String mark = t.delivered() ? "" : " (" + t.outcome().label() + ")";
        int sendTid = lane(from, SEND + (l.toRank() << PEER_SHIFT), "send → " + l.toRank(), ts, end);
        slice(from, sendTid, what + " → " + l.toRank() + mark, "transfer", ts, end);
        transferArgs(t);
        if (t.outcome() == TransferOutcome.DROPPED) return;
        long id = nextFlowId++;
        flow("s", from, sendTid, ts, id);
        int recvTid = lane(to, RECV + (l.fromRank() << PEER_SHIFT), "recv ← " + l.fromRank(), ts, end);
        slice(to, recvTid, what + " ← " + l.fromRank() + mark, "transfer", ts, end);
        transferArgs(t);
        flow("f", to, recvTid, ts, id);
    }

    private void transferArgs(LinkRecord.Transfer t) throws IOException {
        json.writeObjectFieldStart("args");
        json.writeStringField("kind", t.kind().label());
        json.writeNumberField("bytes", t.bytes());
        json.writeNumberField("stage", t.stage());
        json.writeNumberField("microBatch", t.microBatch());
        json.writeNumberField("readySeconds", t.readySeconds());
        // only under a fault, so that a fault-free trace is what it was
        if (!t.delivered()) json.writeStringField("outcome", t.outcome().label());
        json.writeEndObject();
        json.writeEndObject();
    }

    // ---------------------------------------------------------------- lanes and records

    /**
     * The first lane of this (pid, kind) whose last slice ended by {@code ts}, or a new one; names a new lane's
     * thread. Lanes are what keeps overlapping transfers of one link from breaking nesting.
     */
    private int lane(int pid, int base, String name, double ts, double end) throws IOException {
        long key = ((long) pid << 32) | base;
        List<Double> ends = lanes.computeIfAbsent(key, k -> new ArrayList<>());
        for (int i = 0; i < ends.size(); i++) {
            if (ends.get(i) <= ts) {
                ends.set(i, end);
                return base + i;
            }
        }
        if (ends.size() == 1 << LANE_BITS) {
            throw new IllegalStateException("more than " + (1 << LANE_BITS) + " overlapping slices on one track of pid "
                    + pid + " (" + name + ")");
        }
        ends.add(end);
        int n = ends.size() - 1;
        threadName(pid, base + n, n == 0 ? name : name + " (" + (n + 1) + ")", base + n);
        return base + n;
    }

    private void threadName(int pid, int tid, String name, int sortIndex) throws IOException {
        long key = ((long) pid << 32) | tid;
        if (namedThreads.putIfAbsent(key, true) != null) return;
        metadata(pid, tid, "thread_name", "name", name);
        metadata(pid, tid, "thread_sort_index", "sort_index", sortIndex);
    }

    private void metadata(int pid, int tid, String name, String arg, Object value) throws IOException {
        json.writeStartObject();
        json.writeStringField("ph", "M");
        json.writeStringField("name", name);
        json.writeNumberField("pid", pid);
        json.writeNumberField("tid", tid);
        json.writeObjectFieldStart("args");
        if (value instanceof Integer i) json.writeNumberField(arg, i);
        else json.writeStringField(arg, value.toString());
        json.writeEndObject();
        json.writeEndObject();
    }

    /** Starts an {@code X} record; the caller may add {@code args} and must end the object. */
    private void slice(int pid, int tid, String name, String cat, double ts, double end) throws IOException {
        json.writeStartObject();
        json.writeStringField("ph", "X");
        json.writeStringField("name", name);
        json.writeStringField("cat", cat);
        json.writeNumberField("pid", pid);
        json.writeNumberField("tid", tid);
        json.writeNumberField("ts", ts);
        json.writeNumberField("dur", Math.max(0, round(end - ts)));
    }

    private void flow(String ph, int pid, int tid, double ts, long id) throws IOException {
        json.writeStartObject();
        json.writeStringField("ph", ph);
        json.writeStringField("name", "transfer");
        json.writeStringField("cat", "transfer");
        json.writeNumberField("id", id);
        json.writeNumberField("pid", pid);
        json.writeNumberField("tid", tid);
        json.writeNumberField("ts", ts);
        if (ph.equals("f")) json.writeStringField("bp", "e");
        json.writeEndObject();
    }

    private void counter(int pid, String name, double ts, String series, long value) throws IOException {
        json.writeStartObject();
        json.writeStringField("ph", "C");
        json.writeStringField("name", name);
        json.writeNumberField("pid", pid);
        json.writeNumberField("tid", 0);
        json.writeNumberField("ts", ts);
        json.writeObjectFieldStart("args");
        json.writeNumberField(series, value);
        json.writeEndObject();
        json.writeEndObject();
    }

    private void instant(double ts, String name, String cat, String detail) throws IOException {
        json.writeStartObject();
        json.writeStringField("ph", "i");
        json.writeStringField("s", "g");
        json.writeStringField("name", name);
        json.writeStringField("cat", cat);
        json.writeNumberField("pid", 1);
        json.writeNumberField("tid", 0);
        json.writeNumberField("ts", ts);
        json.writeObjectFieldStart("args");
        json.writeStringField("detail", detail);
        json.writeEndObject();
        json.writeEndObject();
    }

    static String category(Phase phase) {
        return switch (phase) {
            case F -> "forward";
            case B -> "backward";
            case W -> "weight";
            case R -> "recompute";
            case OPT -> "optimizer";
        };
    }

    /** Emulated seconds to microseconds, rounded to the nanosecond so that equal times give equal numbers. */
    static double micros(double seconds) {
        return round(seconds * 1e6);
    }

    private static double round(double micros) {
        return Math.round(micros * 1000.0) / 1000.0;
    }
}
