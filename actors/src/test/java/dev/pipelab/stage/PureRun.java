package dev.pipelab.stage;

import dev.pipelab.link.LinkState;
import dev.pipelab.model.LinkSpec;
import dev.pipelab.schedule.Network;
import dev.pipelab.schedule.Schedule;
import dev.pipelab.schedule.StageCost;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Drives {@link StageState}s of d replicas without actors: links are {@link LinkState}s, messages wait in a bag
 * delivered in a seeded random order (per-link FIFO is kept at send time, as the Link actor keeps it).
 */
final class PureRun {

    final StageState[][] states;
    /** Per replica and rank: each ring message in the order its link carried it, as {stage, bytes, ready, start, arrival}. */
    final List<List<double[]>> ringCarried = new ArrayList<>();
    final List<String> stuck = new ArrayList<>();

    PureRun(Schedule schedule, List<StageCost> costs, Network network, int buffer, int d, long seed) {
        int p = schedule.ranks();
        List<StageProgram> programs = StageProgram.all(schedule, costs);
        states = new StageState[d][p];
        LinkState[][][] links = new LinkState[d][p][p];
        LinkState[][] ring = new LinkState[d][p];
        for (int x = 0; x < d; x++) {
            for (int r = 0; r < p; r++) {
                states[x][r] = new StageState(programs.get(r), buffer, Long.MAX_VALUE);
                states[x][r].beginStep(0, List.of());
                ring[x][r] = new LinkState(LinkSpec.FREE);
                for (int q = 0; q < p; q++) if (q != r) links[x][r][q] = new LinkState(network.link(r, q));
                ringCarried.add(new ArrayList<>());
            }
        }
        List<Runnable> bag = new ArrayList<>();
        Random random = new Random(seed);
        boolean progress = true;
        while (progress) {
            progress = false;
            for (int x = 0; x < d; x++) {
                for (int r = 0; r < p; r++) {
                    StageState s = states[x][r];
                    while (s.startNext(Double.NEGATIVE_INFINITY)) {
                        s.finishRunning();
                        progress = true;
                    }
                    for (StageState.Effect e : s.drain()) {
                        final int fx = x;
                        final int fr = r;
                        if (e instanceof StageState.Send send) {
                            LinkState.Transit t = links[x][r][send.toRank()].send(send.bytes(), send.ready(), Double.NEGATIVE_INFINITY);
                            bag.add(() -> states[fx][send.toRank()].delivered(send.toPosition(), t.arrival()));
                        } else if (e instanceof StageState.Grant g) {
                            bag.add(() -> states[fx][g.senderRank()].granted(fr, g.seq(), g.at()));
                        } else if (e instanceof StageState.RingSend rs) {
                            LinkState.Transit t = ring[x][r].send(rs.link(), rs.bytes(), rs.ready(), Double.NEGATIVE_INFINITY);
                            ringCarried.get(x * p + r).add(new double[] {rs.stage(), rs.bytes(), rs.ready(), t.start(), t.arrival()});
                            int right = (x + 1) % d;
                            bag.add(() -> states[right][fr].ringChunk(rs.stage(), rs.index(), t.arrival()));
                        }
                    }
                }
            }
            if (!bag.isEmpty()) {
                Collections.shuffle(bag, random);
                List<Runnable> now = new ArrayList<>(bag);
                bag.clear();
                now.forEach(Runnable::run);
                progress = true;
            }
        }
        for (StageState[] row : states) for (StageState s : row) stuck.addAll(s.stuck());
    }
}
