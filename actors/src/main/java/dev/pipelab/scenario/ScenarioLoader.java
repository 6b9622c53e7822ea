package dev.pipelab.scenario;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;

/**
 * Turns a scenario file (YAML, or JSON by its {@code .json} extension or a leading <code>{</code>) plus the CLI's
 * {@code --set} overrides into a valid {@link Scenario}, or throws one {@link ScenarioException} listing every
 * problem at once, each located in the file; no other exception escapes for a bad file.
 *
 * <p>Steps: read the text into a tree with positions; apply the overrides; validate against
 * {@code scenario.schema.json}; check the cross-field rules; bind with defaults.
 */
public final class ScenarioLoader {

    private ScenarioLoader() {}

    /** Loads a file without overrides. */
    public static Scenario load(Path file) {
        return load(file, List.of());
    }

    /** Loads a file with {@code --set key.path=value} overrides, applied in order. */
    public static Scenario load(Path file, List<String> sets) {
        return loadWithSource(file, sets).scenario();
    }

    /** Loads a file and keeps where each value was written, for errors found after loading. */
    public static LoadedScenario loadWithSource(Path file, List<String> sets) {
        Objects.requireNonNull(file, "file");
        String name = file.toString();
        String text;
        if (Files.isDirectory(file)) {
            throw fail(name, "cannot read the file: it is a folder");
        }
        try {
            text = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(Files.readAllBytes(file))).toString();
        } catch (NoSuchFileException e) {
            throw fail(name, "cannot read the file: it does not exist");
        } catch (AccessDeniedException e) {
            throw fail(name, "cannot read the file: permission denied");
        } catch (CharacterCodingException e) {
            throw fail(name, "cannot read the file: it is not UTF-8 text");
        } catch (IOException | SecurityException e) {
            throw fail(name, "cannot read the file: " + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : " " + e.getMessage()));
        }
        return parse(text, name, folderOf(file), sets);
    }

    /** Parses scenario text as if read from {@code sourceName} (whose folder resolves relative paths). */
    public static Scenario parse(String text, String sourceName, List<String> sets) {
        return parseWithSource(text, sourceName, sets).scenario();
    }

    /** {@link #parse} keeping where each value was written. */
    public static LoadedScenario parseWithSource(String text, String sourceName, List<String> sets) {
        Path folder;
        try {
            folder = folderOf(Path.of(sourceName));
        } catch (InvalidPathException e) {
            folder = Path.of("").toAbsolutePath();
        }
        return parse(text, sourceName, folder, sets);
    }

    /** The override the CLI's {@code --device NAME} stands for: {@code hardware.device=NAME}. */
    public static String deviceSet(String name) {
        return Overrides.deviceSet(name);
    }

    private static LoadedScenario parse(String text, String sourceName, Path folder, List<String> sets) {
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(sourceName, "sourceName");
        if (text.startsWith("\uFEFF")) {
            text = text.substring(1); // a byte-order mark some editors write
        }
        List<String> overrides = List.copyOf(sets);
        TreeReader.Result read = TreeReader.readFile(text, sourceName);
        ScenarioSource source = new ScenarioSource(sourceName, folder, read.values(), read.keys());
        List<ScenarioError> errors = new ArrayList<>(read.errors());
        ObjectNode tree = read.tree().map(t -> (ObjectNode) t).orElseGet(() -> JsonNodeFactory.instance.objectNode());
        errors.addAll(Overrides.apply(tree, overrides, source));
        if (read.tree().isEmpty()) {
            throw failure(errors, overrides);
        }
        List<ScenarioError> checked = new ArrayList<>(SchemaCheck.check(tree, source));
        checked.addAll(CrossCheck.check(tree, source));
        checked.removeIf(e -> read.unusable().contains(ScenarioSource.normal(e.path()))); // already reported
        errors.addAll(checked);
        if (!errors.isEmpty()) {
            throw failure(errors, overrides);
        }
        Binder.Result bound = Binder.bind(tree, source, baseName(sourceName));
        if (bound.scenario().isEmpty()) {
            throw failure(bound.errors(), overrides);
        }
        return new LoadedScenario(bound.scenario().get(), source);
    }

    /**
     * Every error once: located ones in file order, then the unlocated ones, those caused by an override in the
     * order the overrides were given.
     */
    private static ScenarioException failure(List<ScenarioError> errors, List<String> sets) {
        List<ScenarioError> sorted = new ArrayList<>(new LinkedHashSet<>(errors));
        sorted.sort(Comparator.comparingInt((ScenarioError e) -> e.line() == 0 ? Integer.MAX_VALUE : e.line())
                .thenComparingInt(ScenarioError::column)
                .thenComparingInt(e -> e.line() == 0 ? setIndex(e, sets) : 0)
                .thenComparing(e -> e.line() == 0 ? "" : e.path()));
        return new ScenarioException(sorted);
    }

    /** The position of the override an unlocated error names (-1 for none: file-level errors first). */
    private static int setIndex(ScenarioError e, List<String> sets) {
        for (int i = sets.size() - 1; i >= 0; i--) {
            String text = sets.get(i);
            if (e.path().equals("--set " + text) || e.message().endsWith("(from --set " + text + ")")) {
                return i;
            }
        }
        return -1;
    }

    private static ScenarioException fail(String source, String message) {
        return new ScenarioException(List.of(new ScenarioError(source, 0, 0, ScenarioError.ROOT, message)));
    }

    private static Path folderOf(Path file) {
        Path parent = file.toAbsolutePath().normalize().getParent();
        return parent == null ? Path.of("").toAbsolutePath() : parent;
    }

    /** {@code scenarios/llama2-70b.yaml} -> {@code llama2-70b}. */
    static String baseName(String sourceName) {
        String base = sourceName.replace('\\', '/');
        base = base.substring(base.lastIndexOf('/') + 1);
        int dot = base.lastIndexOf('.');
        base = dot > 0 ? base.substring(0, dot) : base;
        return base.isEmpty() ? "scenario" : base;
    }
}
