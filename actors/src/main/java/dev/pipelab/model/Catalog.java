package dev.pipelab.model;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Specs by name, for the preset catalogs. Invariant: names are unique (adding a name twice fails while the
 * catalog is built) and {@link #names()} is sorted.
 */
final class Catalog<T> {

    private final Function<T, String> nameOf;
    private final Map<String, T> byName = new TreeMap<>();

    Catalog(Function<T, String> nameOf) {
        this.nameOf = nameOf;
    }

    void add(T spec) {
        String name = nameOf.apply(spec);
        if (byName.put(name, spec) != null) throw new IllegalStateException("duplicate preset " + name);
    }

    /** The spec named {@code name} (exact match), or empty. */
    Optional<T> find(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    /** All names, sorted. */
    List<String> names() {
        return List.copyOf(byName.keySet());
    }
}
