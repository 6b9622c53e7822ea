package dev.pipelab.monitoring;

import java.util.Arrays;
import java.util.List;

/**
 * What the batches of one step fold into for {@link RunAggregate}: per (replica, rank) its actions in span order with
 * their sums and its memory, per link its transfers and credit stalls in order with their sums, and the step's
 * all-reduces in order. Invariant: immutable (but for {@link RankSide}'s cache of one derived sum, kept under the
 * aggregate's lock), which is what lets steps share blocks; every number is the one the aggregate used to compute from
 * its lists of span objects, in the same order of additions, so a fold answers bit for bit as the spans did.
 *
 * <p>Why the spans themselves stay (as sorted primitive columns) and not only their sums: a batch may arrive after its
 * step was folded, and the sums are floating-point additions in span order, so a span that sorts in the middle changes
 * the rounding of every addition after it. {@link #with} therefore merges late batches into the columns and sums
 * again. Why that costs little memory in practice: {@link #with} shares each block, and each side, with the
 * neighbouring step's when their contents are equal, and the steps of an emulated run repeat (see
 * {@link RunAggregate}), so a long run keeps one step's columns plus a few references per step.
 */
final class StepFold {

    static final StepFold EMPTY = new StepFold(RankSide.EMPTY, LinkSide.EMPTY, AllReduces.EMPTY, 0.0);

    private static final int F = Phase.F.ordinal();
    private static final int B = Phase.B.ordinal();
    private static final int W = Phase.W.ordinal();
    private static final int OPT = Phase.OPT.ordinal();
    private static final int PHASES = Phase.values().length;

    /** Rank of each {@link LinkActivity#KINDS} entry in String order: transfers used to be sorted by kind name. */
    private static final int[] KIND_ORDER = kindOrder(LinkActivity.KINDS);

    final RankSide ranks;
    final LinkSide links;
    final AllReduces allReduces;
    /** The latest action end, {@code Math.max} from 0.0: the time of a step that has not ended. */
    final double lastEnd;

    private StepFold(RankSide ranks, LinkSide links, AllReduces allReduces, double lastEnd) {
        this.ranks = ranks;
        this.links = links;
        this.allReduces = allReduces;
        this.lastEnd = lastEnd;
    }

    /**
     * This fold with {@code rankBatches[0 .. rankCount)} and {@code linkBatches[0 .. linkCount)} added, each list in
     * arrival order (which decides ties, as the lists of spans did). {@code neighbour}, another step's fold or null,
     * is only a source of equal blocks to share.
     */
    StepFold with(RankActivity[] rankBatches, int rankCount, LinkActivity[] linkBatches, int linkCount, StepFold neighbour) {
        StepFold hint = neighbour != null ? neighbour : EMPTY;
        double last = lastEnd;
        for (int b = 0; b < rankCount; b++) {
            RankActivity r = rankBatches[b];
            for (int i = 0, n = r.actions(); i < n; i++) last = Math.max(last, r.end(i));
        }
        return new StepFold(ranks.with(rankBatches, rankCount, hint.ranks),
                links.with(rankBatches, rankCount, linkBatches, linkCount, hint.links),
                allReduces.with(rankBatches, rankCount, hint.allReduces), last);
    }

    /** Every span this fold keeps, for tests of sharing: blocks seen before (by identity) are not counted again. */
    long retainedSpans(java.util.Set<Object> seen) {
        long n = 0;
        for (ActionBlock a : ranks.actions) if (a != null && seen.add(a)) n += a.n;
        for (TransferBlock t : links.transfers) if (t != null && seen.add(t)) n += t.n;
        for (StallBlock s : links.stalls) if (s != null && seen.add(s)) n += s.n;
        if (seen.add(allReduces)) n += allReduces.n;
        return n;
    }

    // ------------------------------------------------------------------------------------------------ rank side

    /**
     * Every (replica, rank) with actions or memory changes in the step, sorted by replica then rank. Invariant:
     * {@code actions[i]} is null when the key had only memory changes; {@code memorySeen[i]} is false when it had
     * none, and then the memory numbers are unused.
     */
    static final class RankSide {
        static final RankSide EMPTY = new RankSide(new int[0], new int[0], new ActionBlock[0], new boolean[0],
                new double[0], new long[0], new long[0]);

        final int n;
        final int[] replica;
        final int[] rank;
        final ActionBlock[] actions;
        final boolean[] memorySeen;
        /** Time of the latest change so far (ties: the later arrival), its bytes, and the most bytes of any change. */
        final double[] memoryAt;
        final long[] memoryLast;
        final long[] memoryPeak;

        /** {@link #busyOver}'s result and the shape it was for; a cache under the aggregate's lock. */
        private int busyData = -1;
        private int busyPipeline = -1;
        private double busyTotal;

        private RankSide(int[] replica, int[] rank, ActionBlock[] actions, boolean[] memorySeen, double[] memoryAt,
                         long[] memoryLast, long[] memoryPeak) {
            this.n = replica.length;
            this.replica = replica;
            this.rank = rank;
            this.actions = actions;
            this.memorySeen = memorySeen;
            this.memoryAt = memoryAt;
            this.memoryLast = memoryLast;
            this.memoryPeak = memoryPeak;
        }

        /** The index of {@code (replica, rank)}, or -1. */
        int find(int rep, int rk) {
            int lo = 0;
            int hi = n - 1;
            while (lo <= hi) {
                int mid = (lo + hi) >>> 1;
                int c = compare(replica[mid], rank[mid], rep, rk);
                if (c < 0) lo = mid + 1;
                else if (c > 0) hi = mid - 1;
                else return mid;
            }
            return -1;
        }

        ActionBlock actionsOf(int rep, int rk) {
            int i = find(rep, rk);
            return i < 0 ? null : actions[i];
        }

        /**
         * Busy seconds of replicas {@code 0 .. data-1} and ranks {@code 0 .. pipeline-1}, added in that order from 0,
         * a rank without actions adding 0.0: the step's busy seconds exactly as they were summed over span lists.
         */
        double busyOver(int data, int pipeline) {
            if (busyData != data || busyPipeline != pipeline) {
                double busy = 0;
                for (int x = 0; x < data; x++) {
                    for (int r = 0; r < pipeline; r++) {
                        ActionBlock a = actionsOf(x, r);
                        busy += a == null ? 0.0 : a.busy;
                    }
                }
                busyTotal = busy;
                busyData = data;
                busyPipeline = pipeline;
            }
            return busyTotal;
        }

        RankSide with(RankActivity[] batches, int count, RankSide hint) {
            int touching = 0;
            for (int b = 0; b < count; b++) if (batches[b].actions() > 0 || batches[b].memoryChanges() > 0) touching++;
            if (touching == 0) return this;
            RankActivity[] mine = new RankActivity[touching];
            touching = 0;
            for (int b = 0; b < count; b++) {
                if (batches[b].actions() > 0 || batches[b].memoryChanges() > 0) mine[touching++] = batches[b];
            }
            // group the batches by key; the sort is stable, so each group stays in arrival order
            int[] order = IndexSort.sortedOrNull(mine.length,
                    (a, b) -> compare(mine[a].replica(), mine[a].rank(), mine[b].replica(), mine[b].rank()));
            RankActivity[] grouped = permute(mine, order);
            int groups = 0;
            int[] groupStart = new int[grouped.length + 1];
            for (int i = 0; i < grouped.length; i++) {
                if (i == 0 || compare(grouped[i - 1].replica(), grouped[i - 1].rank(), grouped[i].replica(), grouped[i].rank()) != 0) {
                    groupStart[groups++] = i;
                }
            }
            groupStart[groups] = grouped.length;

            // the union of the old keys and the groups' keys, both sorted: a merge walk
            int cap = n + groups;
            int[] rep = new int[cap];
            int[] rk = new int[cap];
            ActionBlock[] act = new ActionBlock[cap];
            boolean[] seen = new boolean[cap];
            double[] at = new double[cap];
            long[] last = new long[cap];
            long[] peak = new long[cap];
            int k = 0;
            int o = 0;
            for (int g = 0; g < groups; g++) {
                RankActivity first = grouped[groupStart[g]];
                int gr = first.replica();
                int gk = first.rank();
                while (o < n && compare(replica[o], rank[o], gr, gk) < 0) {
                    copy(o, rep, rk, act, seen, at, last, peak, k++);
                    o++;
                }
                boolean had = o < n && compare(replica[o], rank[o], gr, gk) == 0;
                ActionBlock block = had ? actions[o] : null;
                boolean memSeen = had && memorySeen[o];
                double memAt = had && memSeen ? memoryAt[o] : Double.NEGATIVE_INFINITY;
                long memLast = had && memSeen ? memoryLast[o] : 0;
                long memPeak = had && memSeen ? memoryPeak[o] : Long.MIN_VALUE;
                int newActions = 0;
                for (int i = groupStart[g]; i < groupStart[g + 1]; i++) {
                    RankActivity r = grouped[i];
                    newActions += r.actions();
                    // the latest change by time wins, ties by arrival; the peak is the most bytes of any change
                    for (int j = 0, m = r.memoryChanges(); j < m; j++) {
                        memSeen = true;
                        double t = r.memoryAt(j);
                        long bytes = r.memoryBytes(j);
                        if (t >= memAt) {
                            memAt = t;
                            memLast = bytes;
                        }
                        memPeak = Math.max(memPeak, bytes);
                    }
                }
                if (newActions > 0) {
                    ActionBlock neighbours = hint.actionsOf(gr, gk);
                    ActionBlock whole = block == null && groupStart[g + 1] - groupStart[g] == 1
                            ? ActionBlock.of(grouped[groupStart[g]], neighbours) : null;
                    if (whole != null) {
                        block = whole == neighbours ? whole : whole.sharedWith(neighbours);
                    } else {
                        block = ActionBlock.merged(block, grouped, groupStart[g], groupStart[g + 1], newActions);
                        block = block.sharedWith(neighbours);
                    }
                }
                rep[k] = gr;
                rk[k] = gk;
                act[k] = block;
                seen[k] = memSeen;
                at[k] = memAt;
                last[k] = memLast;
                peak[k] = memPeak;
                k++;
                if (had) o++;
            }
            while (o < n) {
                copy(o, rep, rk, act, seen, at, last, peak, k++);
                o++;
            }
            RankSide out = new RankSide(Arrays.copyOf(rep, k), Arrays.copyOf(rk, k), Arrays.copyOf(act, k),
                    Arrays.copyOf(seen, k), Arrays.copyOf(at, k), Arrays.copyOf(last, k), Arrays.copyOf(peak, k));
            return out.sharedWith(hint);
        }

        private void copy(int from, int[] rep, int[] rk, ActionBlock[] act, boolean[] seen, double[] at, long[] last,
                          long[] peak, int to) {
            rep[to] = replica[from];
            rk[to] = rank[from];
            act[to] = actions[from];
            seen[to] = memorySeen[from];
            at[to] = memoryAt[from];
            last[to] = memoryLast[from];
            peak[to] = memoryPeak[from];
        }

        /** {@code other} when it holds the same keys, the same (shared) blocks and the same memory; else this. */
        private RankSide sharedWith(RankSide other) {
            if (other == this || other.n != n || !Arrays.equals(replica, other.replica) || !Arrays.equals(rank, other.rank)
                    || !Arrays.equals(memorySeen, other.memorySeen) || !sameBits(memoryAt, other.memoryAt)
                    || !Arrays.equals(memoryLast, other.memoryLast) || !Arrays.equals(memoryPeak, other.memoryPeak)) {
                return this;
            }
            for (int i = 0; i < n; i++) if (actions[i] != other.actions[i]) return this;
            return other;
        }
    }

    /**
     * One rank's actions of a step in span order: start, end, phase, stage, micro-batch, ties in arrival order (a
     * stable sort, as {@code List.sort} was). Invariant: the sums below are those of the sorted spans.
     */
    static final class ActionBlock {
        final int n;
        final byte[] phase;
        final int[] stage;
        final int[] microBatch;
        final double[] start;
        final double[] end;
        final double[] duration;
        /** Per phase ordinal: 0.0 plus each duration of that phase, in span order. */
        final double[] busyByPhase;
        /** The evaluator's order: 0.0 plus the optimizer's durations, then every other duration, in span order. */
        final double busy;
        final int peakInFlight;

        private ActionBlock(byte[] phase, int[] stage, int[] microBatch, double[] start, double[] end, double[] duration) {
            this.n = phase.length;
            this.phase = phase;
            this.stage = stage;
            this.microBatch = microBatch;
            this.start = start;
            this.end = end;
            this.duration = duration;
            double[] byPhase = new double[PHASES];
            for (int i = 0; i < n; i++) byPhase[phase[i]] += duration[i];
            this.busyByPhase = byPhase;
            double b = 0;
            for (int i = 0; i < n; i++) if (phase[i] == OPT) b += duration[i];
            for (int i = 0; i < n; i++) if (phase[i] != OPT) b += duration[i];
            this.busy = b;
            this.peakInFlight = peakInFlight(n, phase, stage, microBatch);
        }

        /**
         * The block of a rank whose step came as the one batch {@code r}, without copying: {@code neighbour} itself when
         * it was built from the very same columns (batches share columns equal to the previous step's, so a steady run
         * folds each rank in O(1)), else {@code r}'s columns when they are already in span order; null when they are not
         * (then {@link #merged} sorts a copy).
         */
        static ActionBlock of(RankActivity r, ActionBlock neighbour) {
            byte[] ph = r.phaseColumn();
            int[] stg = r.stageColumn();
            int[] mb = r.microBatchColumn();
            double[] s = r.startColumn();
            double[] e = r.endColumn();
            double[] d = r.durationColumn();
            if (neighbour != null && neighbour.phase == ph && neighbour.stage == stg && neighbour.microBatch == mb
                    && neighbour.start == s && neighbour.end == e && neighbour.duration == d) {
                return neighbour;
            }
            return IndexSort.isSorted(ph.length, order(ph, stg, mb, s, e)) ? new ActionBlock(ph, stg, mb, s, e, d) : null;
        }

        /** Span order: start, end, phase, stage, micro-batch. */
        private static IndexSort.RowOrder order(byte[] ph, int[] stg, int[] mb, double[] s, double[] e) {
            return (a, b) -> {
                int c = Double.compare(s[a], s[b]);
                if (c != 0) return c;
                c = Double.compare(e[a], e[b]);
                if (c != 0) return c;
                c = Integer.compare(ph[a], ph[b]);
                if (c != 0) return c;
                c = Integer.compare(stg[a], stg[b]);
                if (c != 0) return c;
                return Integer.compare(mb[a], mb[b]);
            };
        }

        /** {@code old}'s spans (may be null) then those of {@code batches[from, to)}, in that order, sorted. */
        static ActionBlock merged(ActionBlock old, RankActivity[] batches, int from, int to, int added) {
            int base = old == null ? 0 : old.n;
            int n = base + added;
            byte[] ph = new byte[n];
            int[] stg = new int[n];
            int[] mb = new int[n];
            double[] s = new double[n];
            double[] e = new double[n];
            double[] d = new double[n];
            if (old != null) {
                System.arraycopy(old.phase, 0, ph, 0, base);
                System.arraycopy(old.stage, 0, stg, 0, base);
                System.arraycopy(old.microBatch, 0, mb, 0, base);
                System.arraycopy(old.start, 0, s, 0, base);
                System.arraycopy(old.end, 0, e, 0, base);
                System.arraycopy(old.duration, 0, d, 0, base);
            }
            int k = base;
            for (int b = from; b < to; b++) {
                RankActivity r = batches[b];
                for (int i = 0, m = r.actions(); i < m; i++, k++) {
                    ph[k] = (byte) r.phase(i).ordinal();
                    stg[k] = r.stage(i);
                    mb[k] = r.microBatch(i);
                    s[k] = r.start(i);
                    e[k] = r.end(i);
                    d[k] = r.duration(i);
                }
            }
            // the old spans are sorted and precede the new ones, so a stable sort of the concatenation orders ties
            // exactly as a stable sort of every span in arrival order would
            int[] rows = IndexSort.sortedOrNull(n, order(ph, stg, mb, s, e));
            if (rows == null) return new ActionBlock(ph, stg, mb, s, e, d);
            return new ActionBlock(permute(ph, rows), permute(stg, rows), permute(mb, rows), permute(s, rows),
                    permute(e, rows), permute(d, rows));
        }

        ActionBlock sharedWith(ActionBlock other) {
            if (other == null || other == this || other.n != n || !Arrays.equals(phase, other.phase)
                    || !Arrays.equals(stage, other.stage) || !Arrays.equals(microBatch, other.microBatch)
                    || !sameBits(start, other.start) || !sameBits(end, other.end) || !sameBits(duration, other.duration)) {
                return this;
            }
            return other;
        }
    }

    /**
     * Replays actions in the given order: +1 at each F, -1 at the last backward of that (stage, micro-batch), which is
     * its W when the rank has any W for it, else its B. The peak is taken after each span, before its decrement,
     * exactly as the evaluator walks a rank's actions.
     */
    static int peakInFlight(int n, byte[] phase, int[] stage, int[] microBatch) {
        int ws = 0;
        for (int i = 0; i < n; i++) if (phase[i] == W) ws++;
        long[] split = new long[ws];
        ws = 0;
        for (int i = 0; i < n; i++) if (phase[i] == W) split[ws++] = pair(stage[i], microBatch[i]);
        Arrays.sort(split);
        int inFlight = 0;
        int peak = 0;
        for (int i = 0; i < n; i++) {
            if (phase[i] == F) inFlight++;
            peak = Math.max(peak, inFlight);
            boolean isSplit = ws > 0 && Arrays.binarySearch(split, pair(stage[i], microBatch[i])) >= 0;
            boolean last = isSplit ? phase[i] == W : phase[i] == B;
            if (last) inFlight--;
        }
        return peak;
    }

    private static long pair(int stage, int microBatch) {
        return ((long) stage << 32) | (microBatch & 0xffffffffL);
    }

    // ------------------------------------------------------------------------------------------------ link side

    /**
     * Every link that carried or stalled in the step, sorted by replica, from, to. Invariant: at least one of
     * {@code transfers[i]} and {@code stalls[i]} is non-null.
     */
    static final class LinkSide {
        static final LinkSide EMPTY = new LinkSide(new int[0], new int[0], new int[0], new TransferBlock[0], new StallBlock[0]);

        final int n;
        final int[] replica;
        final int[] from;
        final int[] to;
        final TransferBlock[] transfers;
        final StallBlock[] stalls;

        private LinkSide(int[] replica, int[] from, int[] to, TransferBlock[] transfers, StallBlock[] stalls) {
            this.n = replica.length;
            this.replica = replica;
            this.from = from;
            this.to = to;
            this.transfers = transfers;
            this.stalls = stalls;
        }

        int find(int rep, int f, int t) {
            int lo = 0;
            int hi = n - 1;
            while (lo <= hi) {
                int mid = (lo + hi) >>> 1;
                int c = compare(replica[mid], from[mid], to[mid], rep, f, t);
                if (c < 0) lo = mid + 1;
                else if (c > 0) hi = mid - 1;
                else return mid;
            }
            return -1;
        }

        LinkStats stats(int i) {
            TransferBlock t = transfers[i];
            StallBlock s = stalls[i];
            return new LinkStats(replica[i], from[i], to[i], t == null ? 0 : t.bytes, t == null ? 0.0 : t.busy,
                    t == null ? 0 : t.n, s == null ? 0.0 : s.stall, t == null ? 0 : t.maxQueueDepth);
        }

        LinkSide with(RankActivity[] rankBatches, int rankCount, LinkActivity[] linkBatches, int linkCount, LinkSide hint) {
            // transfers: batches grouped by link, each group in arrival order
            int carrying = 0;
            for (int b = 0; b < linkCount; b++) if (linkBatches[b].transfers() > 0) carrying++;
            LinkActivity[] mine = new LinkActivity[carrying];
            carrying = 0;
            for (int b = 0; b < linkCount; b++) if (linkBatches[b].transfers() > 0) mine[carrying++] = linkBatches[b];
            LinkActivity[] grouped = permute(mine, IndexSort.sortedOrNull(mine.length, (a, b) -> compare(
                    mine[a].replica(), mine[a].fromRank(), mine[a].toRank(), mine[b].replica(), mine[b].fromRank(), mine[b].toRank())));
            // stalls: one row each, by link (their order within a link does not matter: they are sorted again)
            int stallCount = 0;
            for (int b = 0; b < rankCount; b++) stallCount += rankBatches[b].stalls();
            if (grouped.length == 0 && stallCount == 0) return this;
            int[] sRep = new int[stallCount];
            int[] sFrom = new int[stallCount];
            int[] sTo = new int[stallCount];
            double[] sStart = new double[stallCount];
            double[] sEnd = new double[stallCount];
            int k = 0;
            for (int b = 0; b < rankCount; b++) {
                RankActivity r = rankBatches[b];
                for (int i = 0, m = r.stalls(); i < m; i++, k++) {
                    sRep[k] = r.replica();
                    sFrom[k] = r.rank();
                    sTo[k] = r.stallTo(i);
                    sStart[k] = r.stallStart(i);
                    sEnd[k] = r.stallEnd(i);
                }
            }
            int[] stallRows = IndexSort.sortedOrNull(stallCount,
                    (a, b) -> compare(sRep[a], sFrom[a], sTo[a], sRep[b], sFrom[b], sTo[b]));
            if (stallRows == null) {
                stallRows = new int[stallCount];
                for (int i = 0; i < stallCount; i++) stallRows[i] = i;
            }

            // merge walk over three sorted key sequences: old links, transfer groups, stall rows
            int cap = n + grouped.length + stallCount;
            int[] rep = new int[cap];
            int[] fr = new int[cap];
            int[] tt = new int[cap];
            TransferBlock[] tb = new TransferBlock[cap];
            StallBlock[] sb = new StallBlock[cap];
            int out = 0;
            int o = 0;
            int g = 0;
            int s = 0;
            while (o < n || g < grouped.length || s < stallCount) {
                // the smallest key among the three heads
                int kr = Integer.MAX_VALUE;
                int kf = Integer.MAX_VALUE;
                int kt = Integer.MAX_VALUE;
                boolean any = false;
                if (o < n) {
                    kr = replica[o];
                    kf = from[o];
                    kt = to[o];
                    any = true;
                }
                if (g < grouped.length) {
                    LinkActivity l = grouped[g];
                    if (!any || compare(l.replica(), l.fromRank(), l.toRank(), kr, kf, kt) < 0) {
                        kr = l.replica();
                        kf = l.fromRank();
                        kt = l.toRank();
                        any = true;
                    }
                }
                if (s < stallCount) {
                    int row = stallRows[s];
                    if (!any || compare(sRep[row], sFrom[row], sTo[row], kr, kf, kt) < 0) {
                        kr = sRep[row];
                        kf = sFrom[row];
                        kt = sTo[row];
                    }
                }
                TransferBlock transfer = null;
                StallBlock stall = null;
                if (o < n && compare(replica[o], from[o], to[o], kr, kf, kt) == 0) {
                    transfer = transfers[o];
                    stall = stalls[o];
                    o++;
                }
                int gEnd = g;
                while (gEnd < grouped.length
                        && compare(grouped[gEnd].replica(), grouped[gEnd].fromRank(), grouped[gEnd].toRank(), kr, kf, kt) == 0) {
                    gEnd++;
                }
                if (gEnd > g) {
                    int h = hint.find(kr, kf, kt);
                    TransferBlock neighbours = h < 0 ? null : hint.transfers[h];
                    TransferBlock whole = transfer == null && gEnd - g == 1 ? TransferBlock.of(grouped[g], neighbours) : null;
                    if (whole != null) {
                        transfer = whole == neighbours ? whole : whole.sharedWith(neighbours);
                    } else {
                        transfer = TransferBlock.merged(transfer, grouped, g, gEnd);
                        transfer = transfer.sharedWith(neighbours);
                    }
                    g = gEnd;
                }
                int sEndRow = s;
                while (sEndRow < stallCount && compare(sRep[stallRows[sEndRow]], sFrom[stallRows[sEndRow]],
                        sTo[stallRows[sEndRow]], kr, kf, kt) == 0) {
                    sEndRow++;
                }
                if (sEndRow > s) {
                    stall = StallBlock.merged(stall, stallRows, s, sEndRow, sStart, sEnd);
                    int h = hint.find(kr, kf, kt);
                    stall = stall.sharedWith(h < 0 ? null : hint.stalls[h]);
                    s = sEndRow;
                }
                rep[out] = kr;
                fr[out] = kf;
                tt[out] = kt;
                tb[out] = transfer;
                sb[out] = stall;
                out++;
            }
            LinkSide side = new LinkSide(Arrays.copyOf(rep, out), Arrays.copyOf(fr, out), Arrays.copyOf(tt, out),
                    Arrays.copyOf(tb, out), Arrays.copyOf(sb, out));
            return side.sharedWith(hint);
        }

        private LinkSide sharedWith(LinkSide other) {
            if (other == this || other.n != n || !Arrays.equals(replica, other.replica) || !Arrays.equals(from, other.from)
                    || !Arrays.equals(to, other.to)) {
                return this;
            }
            for (int i = 0; i < n; i++) if (transfers[i] != other.transfers[i] || stalls[i] != other.stalls[i]) return this;
            return other;
        }
    }

    /**
     * One link's transfers of a step in order of start, end, ready, kind name, stage, micro-batch, bytes (every field,
     * so tied rows are equal and their order cannot matter). Invariant: the sums below are those of the sorted rows.
     */
    static final class TransferBlock {
        final int n;
        final byte[] kind;
        final int[] stage;
        final int[] microBatch;
        final long[] byteCounts;
        final double[] ready;
        final double[] start;
        final double[] end;
        final long bytes;
        /** 0.0 plus each {@code end - start}, in order. */
        final double busy;
        final int maxQueueDepth;

        private TransferBlock(byte[] kind, int[] stage, int[] microBatch, long[] byteCounts, double[] ready, double[] start,
                              double[] end) {
            this.n = kind.length;
            this.kind = kind;
            this.stage = stage;
            this.microBatch = microBatch;
            this.byteCounts = byteCounts;
            this.ready = ready;
            this.start = start;
            this.end = end;
            long total = 0;
            double b = 0;
            for (int i = 0; i < n; i++) {
                total += byteCounts[i];
                b += end[i] - start[i];
            }
            this.bytes = total;
            this.busy = b;
            this.maxQueueDepth = maxQueueDepth(n, ready, start);
        }

        /** As {@link ActionBlock#of}: {@code neighbour} when built from the same columns, else {@code l}'s when sorted, else null. */
        static TransferBlock of(LinkActivity l, TransferBlock neighbour) {
            byte[] kd = l.kindColumn();
            int[] stg = l.stageColumn();
            int[] mb = l.microBatchColumn();
            long[] by = l.bytesColumn();
            double[] rd = l.readyColumn();
            double[] s = l.startColumn();
            double[] e = l.endColumn();
            if (neighbour != null && neighbour.kind == kd && neighbour.stage == stg && neighbour.microBatch == mb
                    && neighbour.byteCounts == by && neighbour.ready == rd && neighbour.start == s && neighbour.end == e) {
                return neighbour;
            }
            return IndexSort.isSorted(kd.length, order(kd, stg, mb, by, rd, s, e))
                    ? new TransferBlock(kd, stg, mb, by, rd, s, e) : null;
        }

        /** Transfer order: start, end, ready, kind name, stage, micro-batch, bytes. */
        private static IndexSort.RowOrder order(byte[] kd, int[] stg, int[] mb, long[] by, double[] rd, double[] s,
                                                double[] e) {
            return (a, b) -> {
                int c = Double.compare(s[a], s[b]);
                if (c != 0) return c;
                c = Double.compare(e[a], e[b]);
                if (c != 0) return c;
                c = Double.compare(rd[a], rd[b]);
                if (c != 0) return c;
                c = Integer.compare(KIND_ORDER[kd[a]], KIND_ORDER[kd[b]]);
                if (c != 0) return c;
                c = Integer.compare(stg[a], stg[b]);
                if (c != 0) return c;
                c = Integer.compare(mb[a], mb[b]);
                if (c != 0) return c;
                return Long.compare(by[a], by[b]);
            };
        }

        static TransferBlock merged(TransferBlock old, LinkActivity[] batches, int from, int to) {
            int base = old == null ? 0 : old.n;
            int n = base;
            for (int b = from; b < to; b++) n += batches[b].transfers();
            byte[] kd = new byte[n];
            int[] stg = new int[n];
            int[] mb = new int[n];
            long[] by = new long[n];
            double[] rd = new double[n];
            double[] s = new double[n];
            double[] e = new double[n];
            if (old != null) {
                System.arraycopy(old.kind, 0, kd, 0, base);
                System.arraycopy(old.stage, 0, stg, 0, base);
                System.arraycopy(old.microBatch, 0, mb, 0, base);
                System.arraycopy(old.byteCounts, 0, by, 0, base);
                System.arraycopy(old.ready, 0, rd, 0, base);
                System.arraycopy(old.start, 0, s, 0, base);
                System.arraycopy(old.end, 0, e, 0, base);
            }
            int k = base;
            for (int b = from; b < to; b++) {
                LinkActivity l = batches[b];
                for (int i = 0, m = l.transfers(); i < m; i++, k++) {
                    kd[k] = (byte) l.kindIndex(i);
                    stg[k] = l.stage(i);
                    mb[k] = l.microBatch(i);
                    by[k] = l.bytes(i);
                    rd[k] = l.ready(i);
                    s[k] = l.start(i);
                    e[k] = l.end(i);
                }
            }
            int[] rows = IndexSort.sortedOrNull(n, order(kd, stg, mb, by, rd, s, e));
            if (rows == null) return new TransferBlock(kd, stg, mb, by, rd, s, e);
            return new TransferBlock(permute(kd, rows), permute(stg, rows), permute(mb, rows), permute(by, rows),
                    permute(rd, rows), permute(s, rows), permute(e, rows));
        }

        TransferBlock sharedWith(TransferBlock other) {
            if (other == null || other == this || other.n != n || !Arrays.equals(kind, other.kind)
                    || !Arrays.equals(stage, other.stage) || !Arrays.equals(microBatch, other.microBatch)
                    || !Arrays.equals(byteCounts, other.byteCounts) || !sameBits(ready, other.ready)
                    || !sameBits(start, other.start) || !sameBits(end, other.end)) {
                return this;
            }
            return other;
        }
    }

    /**
     * The most transfers waiting at once: each waits in {@code [ready, start)} when {@code start > ready}; at equal
     * times a start is counted before a ready, so a transfer that leaves as another becomes ready does not stack on it.
     * Depends only on the multiset of intervals, not on the order of the rows.
     */
    static int maxQueueDepth(int n, double[] ready, double[] start) {
        int waiting = 0;
        for (int i = 0; i < n; i++) if (start[i] > ready[i]) waiting++;
        if (waiting == 0) return 0;
        double[] readies = new double[waiting];
        double[] starts = new double[waiting];
        waiting = 0;
        for (int i = 0; i < n; i++) {
            if (start[i] > ready[i]) {
                readies[waiting] = ready[i];
                starts[waiting] = start[i];
                waiting++;
            }
        }
        // Arrays.sort(double[]) orders as Double.compare does (-0.0 before 0.0, NaN last), as the points were sorted
        Arrays.sort(readies);
        Arrays.sort(starts);
        int depth = 0;
        int max = 0;
        int i = 0;
        int j = 0;
        while (i < waiting || j < waiting) {
            if (j < waiting && (i >= waiting || Double.compare(starts[j], readies[i]) <= 0)) {
                depth--;
                j++;
            } else {
                depth++;
                i++;
            }
            max = Math.max(max, depth);
        }
        return max;
    }

    /** One link's credit stalls of a step by start then end (every field, so tied rows are equal). */
    static final class StallBlock {
        final int n;
        final double[] start;
        final double[] end;
        /** 0.0 plus each {@code end - start}, in order. */
        final double stall;

        private StallBlock(double[] start, double[] end) {
            this.n = start.length;
            this.start = start;
            this.end = end;
            double s = 0;
            for (int i = 0; i < n; i++) s += end[i] - start[i];
            this.stall = s;
        }

        static StallBlock merged(StallBlock old, int[] rows, int from, int to, double[] starts, double[] ends) {
            int base = old == null ? 0 : old.n;
            int n = base + to - from;
            double[] s = new double[n];
            double[] e = new double[n];
            if (old != null) {
                System.arraycopy(old.start, 0, s, 0, base);
                System.arraycopy(old.end, 0, e, 0, base);
            }
            for (int i = from, k = base; i < to; i++, k++) {
                s[k] = starts[rows[i]];
                e[k] = ends[rows[i]];
            }
            int[] order = IndexSort.sortedOrNull(n, (a, b) -> {
                int c = Double.compare(s[a], s[b]);
                return c != 0 ? c : Double.compare(e[a], e[b]);
            });
            return order == null ? new StallBlock(s, e) : new StallBlock(permute(s, order), permute(e, order));
        }

        StallBlock sharedWith(StallBlock other) {
            if (other == null || other == this || other.n != n || !sameBits(start, other.start) || !sameBits(end, other.end)) {
                return this;
            }
            return other;
        }
    }

    // ------------------------------------------------------------------------------------------------ all-reduces

    /**
     * The step's all-reduces by stage, replica, start, end. Rows tied on those four differ at most in bytes, which
     * are summed as longs, so their order cannot matter.
     */
    static final class AllReduces {
        static final AllReduces EMPTY = new AllReduces(new int[0], new int[0], new double[0], new double[0], new long[0]);

        final int n;
        final int[] stage;
        final int[] replica;
        final double[] start;
        final double[] end;
        final long[] bytes;

        private AllReduces(int[] stage, int[] replica, double[] start, double[] end, long[] bytes) {
            this.n = stage.length;
            this.stage = stage;
            this.replica = replica;
            this.start = start;
            this.end = end;
            this.bytes = bytes;
        }

        AllReduces with(RankActivity[] batches, int count, AllReduces hint) {
            int added = 0;
            for (int b = 0; b < count; b++) added += batches[b].allReduces();
            if (added == 0) return this;
            int total = n + added;
            int[] stg = Arrays.copyOf(stage, total);
            int[] rep = Arrays.copyOf(replica, total);
            double[] s = Arrays.copyOf(start, total);
            double[] e = Arrays.copyOf(end, total);
            long[] by = Arrays.copyOf(bytes, total);
            int k = n;
            for (int b = 0; b < count; b++) {
                RankActivity r = batches[b];
                for (int i = 0, m = r.allReduces(); i < m; i++, k++) {
                    stg[k] = r.allReduceStage(i);
                    rep[k] = r.replica();
                    s[k] = r.allReduceStart(i);
                    e[k] = r.allReduceEnd(i);
                    by[k] = r.allReduceBytes(i);
                }
            }
            int[] rows = IndexSort.sortedOrNull(total, (a, b) -> {
                int c = Integer.compare(stg[a], stg[b]);
                if (c != 0) return c;
                c = Integer.compare(rep[a], rep[b]);
                if (c != 0) return c;
                c = Double.compare(s[a], s[b]);
                return c != 0 ? c : Double.compare(e[a], e[b]);
            });
            AllReduces out = rows == null ? new AllReduces(stg, rep, s, e, by)
                    : new AllReduces(permute(stg, rows), permute(rep, rows), permute(s, rows), permute(e, rows), permute(by, rows));
            return out.sharedWith(hint);
        }

        private AllReduces sharedWith(AllReduces other) {
            if (other == this || other.n != n || !Arrays.equals(stage, other.stage) || !Arrays.equals(replica, other.replica)
                    || !sameBits(start, other.start) || !sameBits(end, other.end) || !Arrays.equals(bytes, other.bytes)) {
                return this;
            }
            return other;
        }
    }

    // ------------------------------------------------------------------------------------------------ helpers

    static int compare(int a1, int b1, int a2, int b2) {
        int c = Integer.compare(a1, a2);
        return c != 0 ? c : Integer.compare(b1, b2);
    }

    static int compare(int a1, int b1, int c1, int a2, int b2, int c2) {
        int c = Integer.compare(a1, a2);
        if (c != 0) return c;
        c = Integer.compare(b1, b2);
        return c != 0 ? c : Integer.compare(c1, c2);
    }

    /** Equal bit patterns: sharing must not swap one NaN or zero for another. */
    private static boolean sameBits(double[] a, double[] b) {
        if (a == b) return true;
        if (a.length != b.length) return false;
        for (int i = 0; i < a.length; i++) {
            if (Double.doubleToRawLongBits(a[i]) != Double.doubleToRawLongBits(b[i])) return false;
        }
        return true;
    }

    private static int[] kindOrder(List<String> kinds) {
        int[] out = new int[kinds.size()];
        for (int i = 0; i < out.length; i++) {
            for (String other : kinds) if (other.compareTo(kinds.get(i)) < 0) out[i]++;
        }
        return out;
    }

    private static <T> T[] permute(T[] a, int[] rows) {
        if (rows == null) return a;
        T[] out = Arrays.copyOf(a, a.length);
        for (int i = 0; i < rows.length; i++) out[i] = a[rows[i]];
        return out;
    }

    private static byte[] permute(byte[] a, int[] rows) {
        byte[] out = new byte[rows.length];
        for (int i = 0; i < rows.length; i++) out[i] = a[rows[i]];
        return out;
    }

    private static int[] permute(int[] a, int[] rows) {
        int[] out = new int[rows.length];
        for (int i = 0; i < rows.length; i++) out[i] = a[rows[i]];
        return out;
    }

    private static long[] permute(long[] a, int[] rows) {
        long[] out = new long[rows.length];
        for (int i = 0; i < rows.length; i++) out[i] = a[rows[i]];
        return out;
    }

    private static double[] permute(double[] a, int[] rows) {
        double[] out = new double[rows.length];
        for (int i = 0; i < rows.length; i++) out[i] = a[rows[i]];
        return out;
    }
}
