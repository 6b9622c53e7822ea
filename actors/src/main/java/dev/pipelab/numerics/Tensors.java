package dev.pipelab.numerics;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Small helpers over EJML matrices; every sum over a list is a left fold in list order, so a canonical list
 * order gives canonical bits.
 */
public final class Tensors {

    private Tensors() {}

    /** Element-wise sum of equally-shaped gradient lists, folded left in list order: ((g0 + g1) + g2) + ... */
    public static List<DMatrixRMaj> sumInOrder(List<List<DMatrixRMaj>> grads) {
        if (grads.isEmpty()) throw new IllegalArgumentException("nothing to sum");
        List<DMatrixRMaj> acc = copyAll(grads.get(0));
        for (int i = 1; i < grads.size(); i++) {
            List<DMatrixRMaj> g = grads.get(i);
            if (g.size() != acc.size()) {
                throw new IllegalArgumentException("gradient list " + i + " has " + g.size() + " tensors, expected " + acc.size());
            }
            for (int k = 0; k < acc.size(); k++) CommonOps_DDRM.addEquals(acc.get(k), g.get(k));
        }
        return acc;
    }

    /** Deep copies. */
    public static List<DMatrixRMaj> copyAll(List<DMatrixRMaj> ms) {
        List<DMatrixRMaj> out = new ArrayList<>(ms.size());
        for (DMatrixRMaj m : ms) out.add(m.copy());
        return out;
    }

    /** Whether two matrices have the same shape and the same raw bits in every element. */
    public static boolean bitEqual(DMatrixRMaj a, DMatrixRMaj b) {
        if (a.numRows != b.numRows || a.numCols != b.numCols) return false;
        int n = a.getNumElements();
        for (int i = 0; i < n; i++) {
            if (Double.doubleToRawLongBits(a.data[i]) != Double.doubleToRawLongBits(b.data[i])) return false;
        }
        return true;
    }

    /** The concatenation of the tensors' elements, row-major, in list order. */
    public static double[] flatten(List<DMatrixRMaj> ms) {
        int n = 0;
        for (DMatrixRMaj m : ms) n += m.getNumElements();
        double[] out = new double[n];
        int at = 0;
        for (DMatrixRMaj m : ms) {
            System.arraycopy(m.data, 0, out, at, m.getNumElements());
            at += m.getNumElements();
        }
        return out;
    }

    /** The inverse of {@link #flatten}: tensors shaped like {@code shapes}, filled from {@code flat}. */
    public static List<DMatrixRMaj> unflatten(double[] flat, List<DMatrixRMaj> shapes) {
        List<DMatrixRMaj> out = new ArrayList<>(shapes.size());
        int at = 0;
        for (DMatrixRMaj s : shapes) {
            DMatrixRMaj m = new DMatrixRMaj(s.numRows, s.numCols);
            System.arraycopy(flat, at, m.data, 0, m.getNumElements());
            at += m.getNumElements();
            out.add(m);
        }
        if (at != flat.length) throw new IllegalArgumentException("flat vector has " + flat.length + " elements, shapes need " + at);
        return out;
    }

    /** A {@code rows × cols} matrix uniform in [-bound, bound). */
    static DMatrixRMaj uniform(int rows, int cols, double bound, SplittableRandom rng) {
        DMatrixRMaj m = new DMatrixRMaj(rows, cols);
        for (int i = 0; i < m.data.length; i++) m.data[i] = (2 * rng.nextDouble() - 1) * bound;
        return m;
    }

    /** Stafford's mix13 finaliser (as in SplittableRandom): decorrelates seeds that differ in a few bits. */
    static long mix(long seed, long index) {
        long z = seed ^ (index * 0xBF58476D1CE4E5B9L + 0x632BE59BD9B4E019L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
