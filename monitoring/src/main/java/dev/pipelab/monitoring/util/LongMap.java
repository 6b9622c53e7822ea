package dev.pipelab.monitoring.util;

import java.util.Arrays;

/**
 * Values keyed by a primitive {@code long}, by open addressing with linear probing. Why: the dashboard state and the
 * metrics look a link up per batch on the event thread, and a {@code HashMap<Long, V>} would box a key for every
 * lookup. Invariant: not
 * thread-safe (its owner's lock guards it); values are never null (null marks a free slot); at most half the slots are
 * used, so a probe ends soon.
 */
public final class LongMap<V> {

    /** Receives each entry of {@link #forEach}. */
    public interface Visitor<V> {
        void visit(long key, V value);
    }

    private long[] keys = new long[16];
    private Object[] values = new Object[16];
    private int size;

    /** The value of {@code key}, or null. */
    @SuppressWarnings("unchecked")
    public V get(long key) {
        int mask = keys.length - 1;
        for (int i = slot(key, mask); ; i = (i + 1) & mask) {
            Object v = values[i];
            if (v == null) return null;
            if (keys[i] == key) return (V) v;
        }
    }

    /** Maps {@code key} to {@code value} (not null), replacing what it held. */
    public void put(long key, V value) {
        if (value == null) throw new NullPointerException("value");
        if (2 * (size + 1) > keys.length) grow();
        insert(key, value);
    }

    public int size() {
        return size;
    }

    public void clear() {
        Arrays.fill(values, null);
        size = 0;
    }

    /** Every entry, in no particular order. */
    @SuppressWarnings("unchecked")
    public void forEach(Visitor<? super V> visitor) {
        for (int i = 0; i < values.length; i++) {
            if (values[i] != null) visitor.visit(keys[i], (V) values[i]);
        }
    }

    private void insert(long key, Object value) {
        int mask = keys.length - 1;
        int i = slot(key, mask);
        while (values[i] != null && keys[i] != key) i = (i + 1) & mask;
        if (values[i] == null) size++;
        keys[i] = key;
        values[i] = value;
    }

    private void grow() {
        long[] oldKeys = keys;
        Object[] oldValues = values;
        keys = new long[oldKeys.length * 2];
        values = new Object[oldValues.length * 2];
        size = 0;
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldValues[i] != null) insert(oldKeys[i], oldValues[i]);
        }
    }

    /** Fibonacci hashing: keys built from small ints (ranks, ids) differ in few low bits, and must spread anyway. */
    private static int slot(long key, int mask) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32)) & mask;
    }
}
