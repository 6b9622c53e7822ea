package dev.pipelab.stage;

import dev.pipelab.protocol.CborSerializable;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * What one rank of one replica did in one step, in step-local emulated seconds. Invariant: {@code starts} and
 * {@code ends} follow the rank's action list (position j is the j-th action of {@code schedule.actions(rank)}),
 * so they compare directly with {@code Timeline.start(rank, j)}.
 *
 * @param busySeconds          optimizer seconds plus every action's duration (the evaluator's sum order)
 * @param peakMemoryBytes      static bytes plus the peak of live activation bytes
 * @param peakInFlight         most micro-batches with F started and last backward not ended
 * @param allReduceStart       by chunk c (model stage {@code c·p + rank})
 * @param linkStallSeconds     by destination rank: time waited for credit alone
 * @param consumedOffsets      data-loader offsets consumed by stage 0's forwards, in execution order (rank 0 only)
 */
public record StageReport(int step, int replica, int rank, double[] starts, double[] ends, double busySeconds,
                          long peakMemoryBytes, int peakInFlight, double optimizerStart, double optimizerEnd,
                          double[] allReduceStart, double[] allReduceEnd, double[] linkStallSeconds,
                          List<Long> consumedOffsets) implements CborSerializable {

    public StageReport {
        consumedOffsets = List.copyOf(consumedOffsets);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StageReport r && step == r.step && replica == r.replica && rank == r.rank
                && Arrays.equals(starts, r.starts) && Arrays.equals(ends, r.ends)
                && Double.compare(busySeconds, r.busySeconds) == 0 && peakMemoryBytes == r.peakMemoryBytes
                && peakInFlight == r.peakInFlight && Double.compare(optimizerStart, r.optimizerStart) == 0
                && Double.compare(optimizerEnd, r.optimizerEnd) == 0 && Arrays.equals(allReduceStart, r.allReduceStart)
                && Arrays.equals(allReduceEnd, r.allReduceEnd) && Arrays.equals(linkStallSeconds, r.linkStallSeconds)
                && consumedOffsets.equals(r.consumedOffsets);
    }

    @Override
    public int hashCode() {
        return Objects.hash(step, replica, rank, Arrays.hashCode(starts), Arrays.hashCode(ends), busySeconds, peakMemoryBytes,
                peakInFlight, optimizerStart, optimizerEnd, Arrays.hashCode(allReduceEnd));
    }

    @Override
    public String toString() {
        return "StageReport[step=" + step + " replica=" + replica + " rank=" + rank + " starts=" + Arrays.toString(starts)
                + " ends=" + Arrays.toString(ends) + " busy=" + busySeconds + " peakMemory=" + peakMemoryBytes
                + " peakInFlight=" + peakInFlight + " opt=[" + optimizerStart + "," + optimizerEnd + "] allReduce="
                + Arrays.toString(allReduceStart) + "->" + Arrays.toString(allReduceEnd) + "]";
    }
}
