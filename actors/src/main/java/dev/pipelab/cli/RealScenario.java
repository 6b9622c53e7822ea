package dev.pipelab.cli;

import dev.pipelab.model.Recompute;
import dev.pipelab.numerics.Activation;
import dev.pipelab.numerics.Loss;
import dev.pipelab.numerics.RealModel;
import dev.pipelab.plan.Plan;
import dev.pipelab.scenario.Scenario;
import dev.pipelab.schedule.Action;
import dev.pipelab.schedule.Schedule;
import dev.pipelab.stage.RealSetup;

import java.util.List;

/**
 * A scenario's {@code real} section as the runtime's {@link RealSetup}. Invariant: the actor run and the
 * sequential reference ({@code pipelab run --sequential}) are built from the same setup, so their losses and
 * weights can be compared bit for bit.
 */
final class RealScenario {

    private RealScenario() {}

    /** The real setup of a scenario in real-numerics mode; a user error when it cannot be built. */
    static RealSetup setup(Scenario scenario, Plan plan) {
        Scenario.Real r = scenario.real().orElseThrow(() -> new UserException("training.numerics: real needs a real section"));
        try {
            RealModel model = r.kind().equals("mlp")
                    ? RealModel.mlp(r.inputs(), r.width(), r.layers(), r.outputs(), Activation.parse(r.activation()), r.layerNorm(),
                            Loss.parse(r.loss()), scenario.seed())
                    : RealModel.transformer(r.vocab(), r.sequenceLength(), r.width(), r.layers(), r.heads(),
                            Activation.parse(r.activation()), r.layerNorm(), scenario.seed());
            // the stash follows the policy only where the schedule has the R actions it needs (a custom grid may not)
            Recompute policy = hasRecompute(plan.schedule())
                    ? Recompute.parse(scenario.training().recompute()).orElse(Recompute.NONE) : Recompute.NONE;
            return new RealSetup(model, scenario.batch().microBatchSize(), r.dataSeed(), r.optimizer(), r.learningRate(),
                    r.momentum(), r.beta1(), r.beta2(), r.epsilon(), policy, r.allReduce().equals("canonical"));
        } catch (IllegalArgumentException e) {
            throw new UserException("real: " + e.getMessage());
        }
    }

    private static boolean hasRecompute(Schedule s) {
        for (List<Action> row : s.actionsByRank()) for (Action a : row) if (a.kind() == Action.Kind.R) return true;
        return false;
    }
}
