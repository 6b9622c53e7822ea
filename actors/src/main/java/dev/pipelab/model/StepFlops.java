package dev.pipelab.model;

/**
 * FLOPs of one training step for MFU. Invariant: model FLOPs count forward plus backward of every
 * layer and the output layer exactly once (no recomputation); hardware FLOPs add what the recompute
 * policy re-runs. Embedding lookups count 0.
 *
 * <p>For an MHA GELU model with f = 4h, {@link #modelFlops} equals Narayanan et al. 2021's
 * {@code 72·B·s·L·h²·(1 + s/(6h) + V/(12hL))} (the paper's eq. for F without recomputation; their
 * {@code 96·…} form includes full recomputation).
 */
public final class StepFlops {

    private StepFlops() {
    }

    /** Model FLOPs of one step over {@code samples} sequences (the global batch B). */
    public static double modelFlops(ModelSpec model, long samples) {
        return hardwareFlops(model, samples, Recompute.NONE);
    }

    /** Hardware FLOPs of one step: model FLOPs plus the recomputed forward work. */
    public static double hardwareFlops(ModelSpec model, long samples, Recompute recompute) {
        if (samples < 0) throw new IllegalArgumentException("samples must be >= 0, got " + samples);
        // Per sequence, whole model (b = 1, t = 1); every term is linear in b.
        CostModel c = new CostModel(model, 1, 1, false);
        double layer = c.layerForwardFlops() + c.layerBackwardInputFlops() + c.layerBackwardWeightFlops()
                + c.layerRecomputeFlops(recompute);
        double output = c.outputLayerForwardFlops() + c.outputLayerBackwardInputFlops()
                + c.outputLayerBackwardWeightFlops();
        return samples * (model.layers() * layer + output);
    }

    /**
     * Model FLOPs utilisation (Chowdhery et al. 2022, PaLM, Appendix B): model FLOPs achieved per second
     * over the peak of all devices, {@code modelFlops / (seconds · devices · peak)}.
     */
    public static double mfu(double modelFlopsPerStep, double stepSeconds, int devices, DeviceSpec device) {
        if (!(stepSeconds > 0)) throw new IllegalArgumentException("stepSeconds must be > 0, got " + stepSeconds);
        if (devices < 1) throw new IllegalArgumentException("devices must be >= 1, got " + devices);
        return modelFlopsPerStep / (stepSeconds * devices * device.peakFlopsPerSecond());
    }
}
