package dev.pipelab.monitoring.metrics;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A small parser of the Prometheus text exposition format (0.0.4) for tests. Invariant: every sample line is parsed
 * into name, labels and value, or the parse fails with the offending line; {@code # TYPE} lines give each family's
 * type. Public for the actors module's end-to-end tests (this module's test-jar).
 */
public final class PromText {

    public record Sample(String name, Map<String, String> labels, double value) {}

    final Map<String, String> types = new HashMap<>();
    final List<Sample> samples = new ArrayList<>();

    public static PromText parse(String text) {
        PromText out = new PromText();
        for (String line : text.split("\n")) {
            if (line.isBlank()) continue;
            if (line.startsWith("# TYPE ")) {
                String[] parts = line.substring(7).split(" ");
                out.types.put(parts[0], parts[1]);
                continue;
            }
            if (line.startsWith("#")) continue;
            out.samples.add(sample(line));
        }
        return out;
    }

    private static Sample sample(String line) {
        int i = 0;
        while (i < line.length() && (Character.isLetterOrDigit(line.charAt(i)) || line.charAt(i) == '_' || line.charAt(i) == ':')) i++;
        String name = line.substring(0, i);
        if (name.isEmpty()) throw new IllegalArgumentException("no metric name: " + line);
        Map<String, String> labels = new TreeMap<>();
        if (i < line.length() && line.charAt(i) == '{') {
            i++;
            while (line.charAt(i) != '}') {
                int eq = line.indexOf('=', i);
                String key = line.substring(i, eq);
                if (line.charAt(eq + 1) != '"') throw new IllegalArgumentException("label value not quoted: " + line);
                StringBuilder v = new StringBuilder();
                int j = eq + 2;
                for (; line.charAt(j) != '"'; j++) {
                    char c = line.charAt(j);
                    if (c == '\\') {
                        char n = line.charAt(++j);
                        v.append(n == 'n' ? '\n' : n);
                    } else {
                        v.append(c);
                    }
                }
                labels.put(key, v.toString());
                i = j + 1;
                if (line.charAt(i) == ',') i++;
            }
            i++;
        }
        String[] rest = line.substring(i).trim().split(" ");
        double value = switch (rest[0]) {
            case "+Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            case "NaN" -> Double.NaN;
            default -> Double.parseDouble(rest[0]);
        };
        return new Sample(name, new LinkedHashMap<>(labels), value);
    }

    /** Every sample, in the order of the text. */
    public List<Sample> samples() {
        return List.copyOf(samples);
    }

    /** Each family's {@code # TYPE}, by family name. */
    public Map<String, String> types() {
        return Map.copyOf(types);
    }

    /** The samples called {@code name}. */
    public List<Sample> named(String name) {
        return samples.stream().filter(s -> s.name().equals(name)).toList();
    }

    /** The value of the one sample {@code name} with exactly these labels. */
    public double value(String name, Map<String, String> labels) {
        List<Sample> found = samples.stream().filter(s -> s.name().equals(name) && s.labels().equals(labels)).toList();
        if (found.size() != 1) throw new IllegalArgumentException(found.size() + " samples " + name + labels);
        return found.get(0).value();
    }
}
