package dev.pipelab.scenario;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Where each value of one scenario came from: every key path maps to the position it was written at in the
 * file, or to the {@code --set} override that replaced it; {@link #errorAt} turns a path and a message into a
 * located {@link ScenarioError}.
 *
 * <p>Paths use dots and {@code [i]} for list items ({@code costs.forwardSeconds[2]}); the whole file is
 * {@code ""} or {@code (root)}.
 */
public final class ScenarioSource {

    /** A 1-based position in the file. */
    record Mark(int line, int column) {}

    private final String name;
    private final Path folder;
    private final Map<String, Mark> values;
    private final Map<String, Mark> keys;
    private final Map<String, String> overrides = new LinkedHashMap<>();

    ScenarioSource(String name, Path folder, Map<String, Mark> values, Map<String, Mark> keys) {
        this.name = Objects.requireNonNull(name, "name");
        this.folder = Objects.requireNonNull(folder, "folder");
        this.values = new HashMap<>(values);
        this.keys = new HashMap<>(keys);
    }

    /** The file as the user named it; the prefix of every error line. */
    public String name() {
        return name;
    }

    /** The absolute folder the file's relative paths ({@code training.scheduleFile}) are resolved against. */
    public Path folder() {
        return folder;
    }

    /** The {@code --set} texts that replaced values, by the path they replaced. */
    public Map<String, String> overrides() {
        return Map.copyOf(overrides);
    }

    /**
     * An error about the value at {@code path}, located at that value when it was written in the file, else at
     * its nearest written parent; a value that came from {@code --set} is unlocated and the message says so.
     */
    public ScenarioError errorAt(String path, String message) {
        return error(path, path, false, message);
    }

    /**
     * An error reported on {@code path} but caused by {@code origin} (a key inside it, or a value below it):
     * located at origin's key ({@code atKey}) or value.
     */
    ScenarioError error(String path, String origin, boolean atKey, String message) {
        String p = normal(path);
        String o = normal(origin);
        Optional<String> set = overrideOf(o);
        if (set.isPresent()) {
            return new ScenarioError(name, 0, 0, p, message + " (from --set " + set.get() + ")");
        }
        Mark mark = atKey ? keys.get(o) : null;
        String at = o;
        while (mark == null) {
            mark = values.get(at);
            if (mark == null) {
                if (at.isEmpty()) {
                    break;
                }
                at = parent(at);
            }
        }
        return mark == null
                ? new ScenarioError(name, 0, 0, p, message)
                : new ScenarioError(name, mark.line(), mark.column(), p, message);
    }

    /** Records that {@code path} now holds a value from {@code --set text}; positions below it are stale. */
    void override(String path, String text) {
        String p = normal(path);
        overrides.put(p, text);
        for (Map<String, Mark> m : List.of(values, keys)) {
            for (String k : new ArrayList<>(m.keySet())) {
                if (k.equals(p) || isBelow(k, p)) {
                    m.remove(k);
                }
            }
        }
    }

    /**
     * Records that the list at {@code path} moved to {@code path.key} (a short form written out long): the positions and
     * overrides of its entries move with it, so errors about them still point at the text.
     */
    void nest(String path, String key) {
        String p = normal(path);
        String moved = child(p, key);
        for (Map<String, ?> m : List.of(values, keys, overrides)) {
            rename(m, p, moved);
        }
        Mark list = values.get(p);
        if (list != null) values.put(moved, list);
    }

    private static <V> void rename(Map<String, V> map, String from, String to) {
        for (String k : new ArrayList<>(map.keySet())) {
            if (k.startsWith(from + "[")) map.put(to + k.substring(from.length()), map.remove(k));
        }
    }

    private Optional<String> overrideOf(String path) {
        for (String at = path; ; at = parent(at)) {
            String set = overrides.get(at);
            if (set != null) {
                return Optional.of(set);
            }
            if (at.isEmpty()) {
                return Optional.empty();
            }
        }
    }

    private static boolean isBelow(String path, String ancestor) {
        return ancestor.isEmpty()
                || path.startsWith(ancestor) && path.length() > ancestor.length()
                        && (path.charAt(ancestor.length()) == '.' || path.charAt(ancestor.length()) == '[');
    }

    static String normal(String path) {
        return path == null || path.equals(ScenarioError.ROOT) ? "" : path;
    }

    /** The parent of a non-empty path: {@code a.b[2]} -> {@code a.b} -> {@code a} -> {@code ""}. */
    static String parent(String path) {
        int cut = Math.max(path.lastIndexOf('.'), path.lastIndexOf('['));
        return cut < 0 ? "" : path.substring(0, cut);
    }

    /** The path of {@code key} in the mapping at {@code path}. */
    static String child(String path, String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    /** The path of item {@code index} in the list at {@code path}. */
    static String item(String path, int index) {
        return path + "[" + index + "]";
    }
}
