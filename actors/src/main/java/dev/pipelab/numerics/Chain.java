package dev.pipelab.numerics;

import org.ejml.data.DMatrixRMaj;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;

/**
 * Layers applied one after another. Invariant: params and weight gradients are the children's, concatenated
 * in child order; the backward visits the children in reverse.
 */
public final class Chain implements Layer {

    private final String name;
    private final List<Layer> layers;

    public Chain(String name, List<Layer> layers) {
        if (layers.isEmpty()) throw new IllegalArgumentException(name + ": a chain needs at least one layer");
        this.name = name;
        this.layers = List.copyOf(layers);
    }

    @Override public String name() { return name; }

    public List<Layer> layers() { return layers; }

    @Override
    public List<Param> params() {
        List<Param> out = new ArrayList<>();
        for (Layer l : layers) out.addAll(l.params());
        return out;
    }

    private record Fwd(List<Forward> parts) implements Forward {
        @Override public DMatrixRMaj output() { return parts.get(parts.size() - 1).output(); }
    }

    /** {@code parts} in child order (filled from the back). */
    private record Bwd(List<Backward> parts) implements Backward {
        @Override public DMatrixRMaj inputGradient() { return parts.get(0).inputGradient(); }
    }

    @Override
    public Forward forward(DMatrixRMaj x) {
        List<Forward> parts = new ArrayList<>(layers.size());
        DMatrixRMaj h = x;
        for (Layer l : layers) {
            Forward f = l.forward(h);
            parts.add(f);
            h = f.output();
        }
        return new Fwd(parts);
    }

    @Override
    public Backward backwardInput(Forward forward, DMatrixRMaj dY) {
        List<Forward> fs = ((Fwd) forward).parts();
        Backward[] parts = new Backward[layers.size()];
        DMatrixRMaj g = dY;
        for (int i = layers.size() - 1; i >= 0; i--) {
            parts[i] = layers.get(i).backwardInput(fs.get(i), g);
            g = parts[i].inputGradient();
        }
        return new Bwd(List.of(parts));
    }

    @Override
    public List<DMatrixRMaj> backwardWeight(Forward forward, Backward backward) {
        List<Forward> fs = ((Fwd) forward).parts();
        List<Backward> bs = ((Bwd) backward).parts();
        List<DMatrixRMaj> out = new ArrayList<>();
        for (int i = 0; i < layers.size(); i++) out.addAll(layers.get(i).backwardWeight(fs.get(i), bs.get(i)));
        return out;
    }

    @Override
    public Forward shed(Forward forward) {
        return eachLayer(forward, Layer::shed);
    }

    @Override
    public Forward restore(Forward forward) {
        return eachLayer(forward, Layer::restore);
    }

    /** The chain's forward state with {@code step} applied to each layer's part, in layer order. */
    private Forward eachLayer(Forward forward, BiFunction<Layer, Forward, Forward> step) {
        List<Forward> fs = ((Fwd) forward).parts();
        List<Forward> out = new ArrayList<>(fs.size());
        for (int i = 0; i < layers.size(); i++) out.add(step.apply(layers.get(i), fs.get(i)));
        return new Fwd(out);
    }

    @Override
    public long recomputations() {
        long n = 0;
        for (Layer l : layers) n += l.recomputations();
        return n;
    }
}
