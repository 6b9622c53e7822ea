package dev.pipelab.plan;

import dev.pipelab.model.CostModel;

/**
 * The FLOPs of one step of a plan over all devices. Invariant: {@code hardwarePerStep() >= modelPerStep()} holds
 * exactly, because hardware FLOPs are model FLOPs plus a non-negative recomputation term, and IEEE-754 addition of a
 * non-negative number never rounds below the other operand. Rebuilding one figure from ratios of the others (such as
 * {@code model · hfu / mfu}) can land one unit in the last place below it.
 *
 * @param modelPerStep     forward plus backward of every layer and the output layer, once (for MFU)
 * @param recomputePerStep the forward work the recomputation policy runs again (0 without recomputation)
 */
public record PlanFlops(double modelPerStep, double recomputePerStep) {

    public PlanFlops {
        requireFinite("modelPerStep", modelPerStep);
        requireFinite("recomputePerStep", recomputePerStep);
    }

    /** The plan's FLOPs: per micro-batch over the tensor group, times m micro-batches, times d replicas. */
    public static PlanFlops of(Plan plan) {
        CostModel cm = plan.costModel();
        int t = plan.tensor();
        double perMicroBatch = t * (plan.model().layers()
                * (cm.layerForwardFlops() + cm.layerBackwardInputFlops() + cm.layerBackwardWeightFlops())
                + cm.outputLayerForwardFlops() + cm.outputLayerBackwardInputFlops() + cm.outputLayerBackwardWeightFlops());
        double model = perMicroBatch * plan.microBatches() * plan.data();
        double recompute = (double) t * plan.model().layers() * cm.layerRecomputeFlops(plan.recompute())
                * plan.microBatches() * plan.data();
        return new PlanFlops(model, recompute);
    }

    /** FLOPs the devices really execute in one step, recomputation included (for HFU). */
    public double hardwarePerStep() {
        return modelPerStep + recomputePerStep;
    }

    private static void requireFinite(String name, double value) {
        if (!(value >= 0) || Double.isInfinite(value)) {
            throw new IllegalArgumentException(name + " must be a finite number >= 0, got " + value);
        }
    }
}
