package dev.pipelab.monitoring.trace;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.pipelab.monitoring.Event;
import dev.pipelab.monitoring.EventSink;
import dev.pipelab.monitoring.Phase;
import dev.pipelab.monitoring.RunInfo;

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
 * Streams a run's events as a Chrome trace-event JSON object (Perfetto, chrome://tracing). Invariant: within every
 * (pid, tid) track the written {@code X} slices never partially overlap and their timestamps never decrease, because
 * each step's events are written sorted when its {@code StepEnded} arrives and every slice goes to the first lane
 * (thread) of its kind whose previous slice has ended.
 *
 * <p>Layout: one process per (replica, rank), {@code pid = replica·p + rank + 1}, named {@code replica R rank K};
 * threads {@code compute}, {@code send → K}, {@code recv ← K}, {@code allreduce} and {@code credit stall}, each
 * split into lanes ({@code send → 1 (2)}) only when slices of one kind overlap (link latency lets two transfers of a
 * FIFO link be in flight at once). Slices are named like {@code F mb3} or {@code OPT}, categorised per phase
 * ({@code forward}, {@code backward}, {@code weight}, {@code recompute}, {@code optimizer}, {@code transfer},
 * {@code allreduce}, {@code stall}); {@code ts}/{@code dur} are microseconds of emulated run time (the step's
 * {@code runSeconds} plus the step-local time). A flow arrow ({@code s}/{@code f}, {@code bp:"e"}) joins each send
 * slice to its receive slice; counters ({@code C}) show memory per rank and queue depth per outgoing link; global
 * instants mark out-of-memory events and {@link #fault faults}.
 *
 * <p>Use it as an {@link EventSink} during a run (thread-safe; it holds one step's events in memory, not the run,
 * and writes on a thread of its own, so an emitter never waits for the disk)
 * and {@link #close()} at the end, or write a recorded stream in any order at once with {@link #write}. As a live
 * sink it expects what the runtime guarantees: a step's {@code StepStarted} before its other events and its
 * {@code StepEnded} after them (a straggler is still written, in a lane of its own, but its counters may then step
 * back in time).
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

    private static final Comparator<Pending> ORDER = Comparator.comparingDouble(Pending::ts)
            .thenComparingInt(Pending::kindOrder).thenComparingLong(Pending::seq);

    /** One trace item waiting for its step's run offset: a sort key and how to write it. */
    private record Pending(double ts, int kindOrder, long seq, Object item) {}

    private final RunInfo info;
    private final JsonGenerator json;
    private final Map<Integer, Double> stepRunSeconds = new HashMap<>();
    private final TreeMap<Integer, List<Event>> buffered = new TreeMap<>();
    /** Per (pid, track kind): the end (µs) of the last slice of each lane. */
    private final Map<Long, List<Double>> lanes = new HashMap<>();
    private final Map<Long, Boolean> namedThreads = new HashMap<>();
    private final List<double[]> faultTimes = new ArrayList<>();
    private final List<String[]> faultNames = new ArrayList<>();
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
                metadata(pid, 0, "process_name", "name", "replica " + replica + " rank " + rank);
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
        ordered.sort(Comparator.comparingInt((Event e) -> e instanceof Event.StepStarted s ? s.step() : stepOf(e))
                .thenComparingInt(e -> e instanceof Event.StepStarted ? 0 : e instanceof Event.StepEnded ? 2 : 1));
        for (Event e : ordered) emit(e);
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
                return;
            }
            if (event instanceof Event.StepLoss) return; // not a timeline item: report.json and the dashboard show it
            int step = stepOf(event);
            buffered.computeIfAbsent(step, k -> new ArrayList<>()).add(event);
            if (event instanceof Event.StepEnded e) {
                // a StepEnded without a StepStarted still places its step: it ends at runSeconds
                stepRunSeconds.putIfAbsent(e.step(), e.runSeconds() - e.stepSeconds());
                flushThrough(step);
            }
        }
    }

    /**
     * Marks a fault (injection or heal) as a global instant at {@code runSeconds} of the run; written at
     * {@link #close()}, after every slice, so it never disturbs a track's order.
     */
    public synchronized void fault(double runSeconds, String kind, String target) {
        if (closed) throw new IllegalStateException("trace already closed");
        faultTimes.add(new double[] {runSeconds});
        faultNames.add(new String[] {kind, target});
    }

    /** Writes every step still buffered, the fault markers and the metadata, and closes the file. */
    @Override
    public void close() throws IOException {
        List<String[]> faults;
        List<double[]> faultAt;
        synchronized (this) {
            if (closed) return;
            closed = true;
            if (!buffered.isEmpty()) flushThrough(buffered.lastKey());
            faults = new ArrayList<>(faultNames);
            faultAt = new ArrayList<>(faultTimes);
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
        for (int i = 0; i < faults.size(); i++) {
            String[] n = faults.get(i);
            instant(micros(faultAt.get(i)[0]), "fault " + n[0], "fault", n[1]);
        }
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

    // ---------------------------------------------------------------- steps

    private static int stepOf(Event e) {
        if (e instanceof Event.Batch b) return b.step();
        if (e instanceof Event.StepEnded s) return s.step();
        if (e instanceof Event.OutOfMemory o) return o.step();
        if (e instanceof Event.StepLoss l) return l.step();
        throw new IllegalArgumentException("unknown event " + e);
    }

    /**
     * Hands the buffered steps up to {@code step} to the writer thread, which writes each sorted by start time; the
     * emitting thread only moves a list.
     */
    private void flushThrough(int step) {
        while (!buffered.isEmpty() && buffered.firstKey() <= step) {
            Map.Entry<Integer, List<Event>> entry = buffered.pollFirstEntry();
            double offset = stepRunSeconds.getOrDefault(entry.getKey(), 0.0);
            List<Event> events = entry.getValue();
            writer.execute(() -> {
                if (failure != null) return;
                try {
                    writeStep(offset, events);
                } catch (IOException | RuntimeException e) {
                    failure = e instanceof IOException io ? io : new IOException(e);
                }
            });
        }
    }

    private void writeStep(double offset, List<Event> events) throws IOException {
        List<Pending> items = new ArrayList<>(events.size() * 2);
        for (Object e : dev.pipelab.monitoring.Events.expanded(events)) {
            if (e instanceof Event.ActionSpan a) {
                items.add(new Pending(micros(offset + a.startSeconds()), 2, seq++, e));
            } else if (e instanceof Event.TransferSpan t) {
                items.add(new Pending(micros(offset + t.startSeconds()), 2, seq++, e));
                if (t.startSeconds() > t.readySeconds()) {
                    // queue depth: +1 when ready, -1 when it leaves
                    items.add(new Pending(micros(offset + t.readySeconds()), 1, seq++, new QueueChange(t, +1)));
                    items.add(new Pending(micros(offset + t.startSeconds()), 0, seq++, new QueueChange(t, -1)));
                }
            } else if (e instanceof Event.CreditStall c) {
                items.add(new Pending(micros(offset + c.startSeconds()), 2, seq++, e));
            } else if (e instanceof Event.AllReduceSpan a) {
                items.add(new Pending(micros(offset + a.startSeconds()), 2, seq++, e));
            } else if (e instanceof Event.MemoryChanged m) {
                items.add(new Pending(micros(offset + m.atSeconds()), 1, seq++, e));
            } else if (e instanceof Event.OutOfMemory o) {
                items.add(new Pending(micros(offset + o.atSeconds()), 3, seq++, e));
            }
        }
        items.sort(ORDER);
        Map<Long, Integer> queue = new HashMap<>();
        for (Pending p : items) write(p, offset, queue);
    }

    /** A queue-depth step of a link, derived from a transfer; never leaves this class. */
    private record QueueChange(Event.TransferSpan transfer, int delta) {}

    private void write(Pending p, double offset, Map<Long, Integer> queue) throws IOException {
        Object e = p.item();
        if (e instanceof Event.ActionSpan a) {
            int pid = pid(info, a.replica(), a.rank());
            String name = a.phase() == Phase.OPT ? "OPT" : a.phase().name() + " mb" + a.microBatch();
            double ts = p.ts();
            double end = micros(offset + a.endSeconds());
            int tid = lane(pid, COMPUTE, "compute", ts, end);
            slice(pid, tid, name, category(a.phase()), ts, end);
            json.writeObjectFieldStart("args");
            json.writeNumberField("stage", a.stage());
            json.writeNumberField("microBatch", a.microBatch());
            json.writeNumberField("step", a.step());
            json.writeEndObject();
            json.writeEndObject();
        } else if (e instanceof Event.TransferSpan t) {
            writeTransfer(t, p.ts(), micros(offset + t.endSeconds()));
        } else if (e instanceof QueueChange q) {
            Event.TransferSpan t = q.transfer();
            int pid = pid(info, t.replica(), t.fromRank());
            long key = ((long) pid << 32) | (t.toRank() & 0xffffffffL);
            int depth = queue.merge(key, q.delta(), Integer::sum);
            counter(pid, "queue → " + t.toRank(), p.ts(), "transfers", depth);
        } else if (e instanceof Event.CreditStall c) {
            int pid = pid(info, c.replica(), c.fromRank());
            double end = micros(offset + c.endSeconds());
            int tid = lane(pid, STALL, "credit stall", p.ts(), end);
            slice(pid, tid, "stall → " + c.toRank(), "stall", p.ts(), end);
            json.writeEndObject();
        } else if (e instanceof Event.AllReduceSpan a) {
            // a model stage lives on rank stage mod p (interleaved schedules put stage s on rank s mod p)
            int pid = pid(info, a.replica(), a.stage() % info.pipeline());
            double end = micros(offset + a.endSeconds());
            int tid = lane(pid, ALLREDUCE, "allreduce", p.ts(), end);
            slice(pid, tid, "allreduce stage " + a.stage(), "allreduce", p.ts(), end);
            json.writeObjectFieldStart("args");
            json.writeNumberField("bytes", a.bytes());
            json.writeEndObject();
            json.writeEndObject();
        } else if (e instanceof Event.MemoryChanged m) {
            counter(pid(info, m.replica(), m.rank()), "memory", p.ts(), "bytes", m.bytes());
        } else if (e instanceof Event.OutOfMemory o) {
            instant(p.ts(), "out of memory", "oom", "replica " + o.replica() + " rank " + o.rank() + ": " + o.bytes()
                    + " of " + o.capacityBytes() + " bytes");
        }
    }

    private void writeTransfer(Event.TransferSpan t, double ts, double end) throws IOException {
        int from = pid(info, t.replica(), t.fromRank());
        int to = pid(info, t.replica(), t.toRank());
        String what = t.kind().equals("allreduce") ? "allreduce"
                : (t.kind().equals("gradient") ? "B" : "F") + " mb" + t.microBatch();
        long id = nextFlowId++;
        int sendTid = lane(from, SEND + (t.toRank() << PEER_SHIFT), "send → " + t.toRank(), ts, end);
        slice(from, sendTid, what + " → " + t.toRank(), "transfer", ts, end);
        transferArgs(t);
        flow("s", from, sendTid, ts, id);
        int recvTid = lane(to, RECV + (t.fromRank() << PEER_SHIFT), "recv ← " + t.fromRank(), ts, end);
        slice(to, recvTid, what + " ← " + t.fromRank(), "transfer", ts, end);
        transferArgs(t);
        flow("f", to, recvTid, ts, id);
    }

    private void transferArgs(Event.TransferSpan t) throws IOException {
        json.writeObjectFieldStart("args");
        json.writeStringField("kind", t.kind());
        json.writeNumberField("bytes", t.bytes());
        json.writeNumberField("stage", t.stage());
        json.writeNumberField("microBatch", t.microBatch());
        json.writeNumberField("readySeconds", t.readySeconds());
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
