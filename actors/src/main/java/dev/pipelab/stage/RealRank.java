package dev.pipelab.stage;

import dev.pipelab.clock.Stopwatch;
import dev.pipelab.numerics.Batch;
import dev.pipelab.numerics.DataSource;
import dev.pipelab.numerics.OptimizerState;
import dev.pipelab.numerics.Param;
import dev.pipelab.numerics.RingExchange;
import dev.pipelab.numerics.StageRunner;
import dev.pipelab.numerics.StageShard;
import dev.pipelab.numerics.TensorCodec;
import dev.pipelab.numerics.Tensors;
import dev.pipelab.numerics.WeightsFile;
import dev.pipelab.protocol.Payload;
import dev.pipelab.schedule.Action;
import org.ejml.data.DMatrixRMaj;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The real numerics of one rank of one replica: the shards of its model stages (chunk order), one
 * {@link StageRunner} per shard per step, the tensors that arrived for its actions, the messages its actions
 * produced, its all-reduce exchanges and optimizer states. Invariant: it computes exactly what
 * {@code PipelineExecutor} computes for the same rank (the same calls on the same bits), so the actor runtime
 * reproduces the sequential reference; it never decides <em>when</em> — {@link StageState} does.
 *
 * <p>{@link #run} and {@link #optimize} return the measured wall seconds of the computation, which the
 * {@link StageState} uses as the action's duration.
 */
public final class RealRank implements StageState.Work {

    private static final DMatrixRMaj NONE = new DMatrixRMaj(0, 0);

    private final RealSetup real;
    private final StageProgram program;
    private final int replica;
    private final int replicas;
    private final int stages;
    private final int m;
    private final boolean splitBackward;
    private final DataSource data;
    private final List<StageShard> shards = new ArrayList<>();
    private final List<OptimizerState> optimizers = new ArrayList<>();
    private final List<StageRunner> runners = new ArrayList<>();
    private final List<RingExchange> rings = new ArrayList<>();
    private final Map<Integer, byte[]> inputs = new HashMap<>();
    private final Map<Long, byte[]> outbox = new HashMap<>();
    private int step = -1;

    public RealRank(RealSetup real, StageProgram program, int replica, int replicas, boolean splitBackward) {
        this.real = real;
        this.program = program;
        this.replica = replica;
        this.replicas = replicas;
        this.stages = program.ranks() * program.chunks();
        this.m = program.microBatches();
        this.splitBackward = splitBackward;
        this.data = real.data();
        List<StageShard> all = real.model().shards(real.model().partition(stages));
        for (int c = 0; c < program.chunks(); c++) {
            shards.add(all.get(program.stageOfChunk(c)));
            optimizers.add(new OptimizerState(real.optimizerSpec()));
        }
    }

    /** Fresh runners and exchanges for step {@code step}. */
    public void beginStep(int step) {
        this.step = step;
        runners.clear();
        rings.clear();
        inputs.clear();
        outbox.clear();
        for (StageShard s : shards) {
            runners.add(new StageRunner(s, real.recompute(), splitBackward, m, replicas));
            if (replicas > 1) rings.add(new RingExchange(replica, replicas, real.canonical()));
        }
    }

    /** The tensor (encoded) for the action at {@code position} arrived. */
    public void input(int position, byte[] payload) {
        if (payload.length == 0) throw new IllegalStateException("rank " + program.rank() + ": no tensor for action #" + position);
        inputs.put(position, payload);
    }

    /** The encoded output of the action that sends message {@code seq} to {@code toRank}; taken once. */
    public byte[] takeOutput(int toRank, int seq) {
        byte[] out = outbox.remove(((long) toRank << 32) | seq);
        if (out == null) throw new IllegalStateException("rank " + program.rank() + ": no output for message " + seq + " to rank " + toRank);
        return out;
    }

    @Override
    public double run(int position) {
        return Stopwatch.seconds(() -> compute(position));
    }

    private void compute(int j) {
        Action a = program.action(j);
        int s = a.stage();
        int mb = a.microBatch();
        StageRunner runner = runners.get(program.chunkOf(s));
        DMatrixRMaj out = null;
        switch (a.kind()) {
            case F -> {
                Batch batch = s == 0 || s == stages - 1
                        ? data.microBatch(DataSource.index(step, replica, mb, m, replicas)) : null;
                DMatrixRMaj input = s == 0 ? batch.inputs() : TensorCodec.decode(take(j));
                DMatrixRMaj y = runner.forward(mb, input, s == stages - 1 ? batch.targets() : NONE);
                if (s < stages - 1) out = y;
            }
            case B -> {
                DMatrixRMaj dY = s < stages - 1 ? TensorCodec.decode(take(j)) : NONE;
                DMatrixRMaj dX = runner.backward(mb, dY);
                if (s > 0) out = dX;
            }
            case R -> runner.recompute(mb);
            case W -> runner.weight(mb);
        }
        if (out == null) return;
        byte[] bytes = TensorCodec.encode(out);
        int to = program.outRank(j);
        if (to == program.rank()) inputs.put(program.outPosition(j), bytes);
        else outbox.put(((long) to << 32) | program.outSeq(j), bytes);
    }

    private byte[] take(int position) {
        byte[] b = inputs.remove(position);
        if (b == null) throw new IllegalStateException("rank " + program.rank() + ": action #" + position + " "
                + program.action(position) + " started without its tensor");
        return b;
    }

    /** Ring message {@code index} of {@code stage}'s all-reduce arrived from the left replica. */
    public void ringReceived(int stage, int index, byte[] payload) {
        rings.get(program.chunkOf(stage)).receive(index, TensorCodec.decodeVector(payload));
    }

    /** The payload of ring message {@code index} of {@code stage}'s all-reduce (index 0 hands in the gradients). */
    public byte[] ringPayload(int stage, int index) {
        int c = program.chunkOf(stage);
        RingExchange ring = rings.get(c);
        if (index == 0) ring.own(Tensors.flatten(runners.get(c).gradientSum()));
        return TensorCodec.encodeVector(ring.send(index));
    }

    @Override
    public double optimize() {
        return Stopwatch.seconds(() -> {
            for (int c = 0; c < shards.size(); c++) {
                List<DMatrixRMaj> own = runners.get(c).gradientSum();
                List<DMatrixRMaj> grads = replicas == 1 ? own : Tensors.unflatten(rings.get(c).result(), own);
                optimizers.get(c).step(shards.get(c).params(), grads);
            }
        });
    }

    /** Whether this rank computes the loss (it holds the last model stage). */
    public boolean hasLoss() {
        return program.data().stages().contains(stages - 1);
    }

    /** The last stage's per-micro-batch losses of the step (empty on other ranks). */
    public List<Double> losses() {
        if (!hasLoss()) return List.of();
        double[] l = runners.get(program.chunkOf(stages - 1)).losses();
        List<Double> out = new ArrayList<>(l.length);
        for (double x : l) out.add(x);
        return out;
    }

    /** Each of this rank's model stages' weights as a {@link WeightsFile}, chunk order. */
    public List<byte[]> weights() {
        List<byte[]> out = new ArrayList<>();
        for (StageShard s : shards) out.add(WeightsFile.encode(s.params()));
        return out;
    }

    /**
     * A checkpoint of the rank: per model stage (chunk order) one {@link WeightsFile} holding its parameters and then
     * its optimizer state ({@link OptimizerState#snapshot}); {@link #restore} of it continues bit-identically.
     */
    public List<byte[]> checkpoint() {
        List<byte[]> out = new ArrayList<>();
        for (int c = 0; c < shards.size(); c++) {
            List<Param> all = new ArrayList<>(shards.get(c).params());
            all.addAll(optimizers.get(c).snapshot(shards.get(c).params()));
            out.add(WeightsFile.encode(all));
        }
        return out;
    }

    /** Puts the rank back to {@code checkpoint} ({@link #checkpoint}'s form); an empty list means the initial model. */
    public void restore(List<Payload> checkpoint) {
        if (checkpoint.isEmpty()) {
            List<StageShard> all = real.model().shards(real.model().partition(stages));
            for (int c = 0; c < shards.size(); c++) {
                WeightsFile.copyInto(shards.get(c).params(), all.get(program.stageOfChunk(c)).params());
                optimizers.set(c, new OptimizerState(real.optimizerSpec()));
            }
            return;
        }
        if (checkpoint.size() != shards.size()) {
            throw new IllegalArgumentException("checkpoint has " + checkpoint.size() + " model stages, the rank " + shards.size());
        }
        for (int c = 0; c < shards.size(); c++) {
            List<Param> saved;
            try {
                saved = WeightsFile.decode(checkpoint.get(c).bytes(), "checkpoint of model stage " + program.stageOfChunk(c));
            } catch (WeightsFile.WeightsFormatException e) {
                throw new IllegalArgumentException(e.getMessage(), e);
            }
            List<Param> optimizer = saved.stream().filter(p -> p.name().startsWith("optimizer.")).toList();
            WeightsFile.copyInto(shards.get(c).params(), saved);
            optimizers.set(c, OptimizerState.restore(real.optimizerSpec(), optimizer));
        }
    }

    /** All params of the rank, chunk order. */
    public List<Param> params() {
        List<Param> out = new ArrayList<>();
        for (StageShard s : shards) out.addAll(s.params());
        return out;
    }
}
