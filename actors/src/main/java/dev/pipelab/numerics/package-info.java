/**
 * Real numerics for pipelab: small real models (an MLP and a tiny decoder-only transformer) whose layers are
 * sharded onto pipeline stages and trained through a {@link dev.pipelab.schedule.Schedule}, bit-identical to
 * {@link dev.pipelab.numerics.SequentialTrainer}, the one-thread reference.
 *
 * <p>Why bit-identical is possible: every floating-point operation is a function of its operands only (Java 17
 * floating point is strict, JEP 306; transcendental functions go through {@link java.lang.StrictMath}; EJML's
 * dense kernels are single-threaded and choose their loop order from the shapes only), and every sum whose
 * order could depend on the schedule is taken in a canonical order: per-micro-batch gradient buffers are added
 * in micro-batch index order, replicas in replica order. So the same operations run on the same operands in
 * the same order, whichever schedule, recomputation policy or partition is used.
 *
 * <p>Loss scaling, exactly: a micro-batch of b samples with T loss terms each (T = sequence length for the
 * transformer, 1 for the MLP; MSE also averages over its C outputs) has loss {@code l = sum(terms) / (b·T)}.
 * The step loss is {@code (sum over replicas r in order, micro-batches i in order, of l(r,i)) / (m·d)}. The
 * loss gradient seeded into each micro-batch's backward is the per-term gradient times
 * {@code 1.0 / ((double) m · d · b · T)} (one double, computed the same way everywhere), so the plain sum of
 * all micro-batch gradients over all replicas is the gradient of the step loss: no division after the
 * all-reduce.
 *
 * <p>Precision: {@code double} ({@code DMatrixRMaj}). Bit-exactness holds in either precision since it comes
 * from operation order, not from precision; double keeps central finite-difference gradient checks meaningful
 * (float's 1e-7 ε would swamp them) and toy tensors are small, so the float variant buys nothing here.
 *
 * <p>No Pekko here (architecture test): the actor runtime calls {@link dev.pipelab.numerics.StageShard},
 * {@link dev.pipelab.numerics.StageStash}, {@link dev.pipelab.numerics.GradientBuffers},
 * {@link dev.pipelab.numerics.GradientAllReduce}, {@link dev.pipelab.numerics.OptimizerState},
 * {@link dev.pipelab.numerics.DataSource}, {@link dev.pipelab.numerics.TensorCodec} and
 * {@link dev.pipelab.numerics.WeightsFile}.
 */
package dev.pipelab.numerics;
