package dev.pipelab.numerics;

/** A deterministic optimizer's hyper-parameters; invariant: every field is finite and in its valid range. */
public sealed interface OptimizerSpec {

    /**
     * SGD with momentum in PyTorch's form ({@code torch.optim.SGD}, after Sutskever et al. 2013, eq. 1 with the
     * learning rate outside the buffer): {@code v = μ·v + g; w = w − lr·v}.
     */
    record Sgd(double learningRate, double momentum) implements OptimizerSpec {
        public Sgd {
            if (!(learningRate > 0) || !(momentum >= 0 && momentum < 1)) {
                throw new IllegalArgumentException("sgd needs learningRate > 0 and momentum in [0, 1), got " + learningRate + ", " + momentum);
            }
        }
    }

    /**
     * Adam (Kingma and Ba 2015, "Adam: A Method for Stochastic Optimization", Algorithm 1) with bias correction:
     * {@code m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²; w = w − lr·(m/(1−β1^t)) / (√(v/(1−β2^t)) + ε)}.
     */
    record Adam(double learningRate, double beta1, double beta2, double epsilon) implements OptimizerSpec {
        public Adam {
            if (!(learningRate > 0) || !(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1) || !(epsilon > 0)) {
                throw new IllegalArgumentException("adam needs learningRate > 0, beta1 and beta2 in [0, 1), epsilon > 0, got "
                        + learningRate + ", " + beta1 + ", " + beta2 + ", " + epsilon);
            }
        }

        /** Kingma and Ba's defaults with the given learning rate. */
        public static Adam of(double learningRate) {
            return new Adam(learningRate, 0.9, 0.999, 1e-8);
        }
    }
}
