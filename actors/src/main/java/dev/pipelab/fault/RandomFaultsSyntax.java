package dev.pipelab.fault;

import dev.pipelab.fault.RandomFaults.Kind;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.StringJoiner;

/**
 * Reads a scenario's {@code faults.random} section (docs/faults.md) into a {@link RandomFaults}, every problem named
 * by its key and none thrown. The rules: a known preset; a scale, rates, weights and times that are finite and
 * {@code >= 0} ({@code mtbfHours > 0}); {@code spares >= 0}; known kinds; without {@code mtbfHours} each kind in the
 * mix takes {@code perHour} and no {@code weight}, with it a {@code weight} and no {@code perHour}, the weights summing
 * to 1; and some rate at all. A preset fills every kind it counts (its rates, or under {@code mtbfHours} its mix as
 * weights); a kind written under {@code kinds} overrides the preset's values key by key.
 */
public final class RandomFaultsSyntax {

    /** The keys of {@code faults.random}, and of one kind under {@code kinds}, in the order the docs list them. */
    public static final List<String> KEYS = List.of("preset", "seed", "scale", "mtbfHours", "spares", "kinds");
    public static final List<String> KIND_KEYS = List.of("perHour", "weight", "detectSeconds", "repairHours");

    /** How far the weights may sum from 1 (they are usually written as decimal fractions). */
    public static final double WEIGHT_TOLERANCE = 1e-9;

    /** The rate model, or every problem of the section (never both). */
    public record Parsed(Optional<RandomFaults> faults, List<FaultProblem> problems) {
        public Parsed {
            problems = List.copyOf(problems);
            if (faults.isPresent() == !problems.isEmpty()) throw new IllegalArgumentException("the rates or their problems, not both");
        }
    }

    private RandomFaultsSyntax() {}

    /**
     * Reads the section as a map of its keys to numbers, strings and maps, as a YAML or JSON reader gives them;
     * {@code where} names it ({@code faults.random}); {@code scenarioSeed} is the seed when the section has none.
     */
    public static Parsed fromMap(Map<String, ?> section, String where, long scenarioSeed) {
        List<FaultProblem> problems = new ArrayList<>();
        Set<String> reported = new LinkedHashSet<>();
        Reporter r = (key, message) -> {
            if (reported.add(key)) problems.add(new FaultProblem(where, key, message));
        };
        for (String key : section.keySet()) {
            if (!KEYS.contains(key)) r.problem(key, "is not a key of faults.random (allowed: " + String.join(", ", KEYS) + ")");
        }
        Optional<FaultPresets.Preset> preset = Optional.empty();
        if (section.containsKey("preset")) {
            Object name = section.get("preset");
            preset = name instanceof String s ? FaultPresets.of(s) : Optional.empty();
            if (preset.isEmpty()) r.problem("preset", "must be one of " + FaultPresets.names() + ", got " + FaultSyntax.describe(name));
        }
        long seed = scenarioSeed;
        if (section.containsKey("seed")) {
            Object v = section.get("seed");
            if (v instanceof Integer || v instanceof Long) seed = ((Number) v).longValue();
            else if (v instanceof BigInteger b && b.bitLength() < 64) seed = b.longValue();
            else r.problem("seed", "must be an integer between " + Long.MIN_VALUE + " and " + Long.MAX_VALUE + ", got " + FaultSyntax.describe(v));
        }
        double scale = number(section, "scale", 1, false, r);
        double mtbf = section.containsKey("mtbfHours") ? number(section, "mtbfHours", Double.NaN, true, r) : Double.NaN;
        boolean byMtbf = section.containsKey("mtbfHours");
        int spares = 0;
        if (section.containsKey("spares")) {
            Object v = section.get("spares");
            if ((v instanceof Integer || v instanceof Long) && ((Number) v).longValue() >= 0 && ((Number) v).longValue() <= Integer.MAX_VALUE) {
                spares = ((Number) v).intValue();
            } else {
                r.problem("spares", "must be a whole number of nodes >= 0, got " + FaultSyntax.describe(v));
            }
        }

        // the preset's values first, then each written kind's keys over them
        Map<Kind, double[]> mix = new EnumMap<>(Kind.class); // perHour, weight, detectSeconds, repairSeconds
        Map<Kind, Set<String>> written = new EnumMap<>(Kind.class);
        preset.ifPresent(p -> {
            for (Kind k : p.kinds()) {
                mix.put(k, new double[] {byMtbf ? Double.NaN : p.perHour(k), byMtbf ? p.weight(k) : Double.NaN, Double.NaN, 0});
            }
        });
        Object kinds = section.get("kinds");
        if (kinds != null && !(kinds instanceof Map<?, ?>)) {
            r.problem("kinds", "must be a mapping of kinds (" + Kind.keys() + "), got " + FaultSyntax.describe(kinds));
        } else if (kinds instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) {
                String name = String.valueOf(e.getKey());
                String at = "kinds." + name;
                Optional<Kind> kind = Kind.of(name);
                if (kind.isEmpty()) {
                    r.problem(at, "is not a kind (known: " + Kind.keys() + ")");
                    continue;
                }
                if (!(e.getValue() instanceof Map<?, ?> entry)) {
                    r.problem(at, "must be a mapping of " + String.join(", ", KIND_KEYS) + ", got " + FaultSyntax.describe(e.getValue()));
                    continue;
                }
                double[] values = mix.computeIfAbsent(kind.get(), k -> new double[] {Double.NaN, Double.NaN, Double.NaN, 0});
                Set<String> keys = written.computeIfAbsent(kind.get(), k -> new LinkedHashSet<>());
                for (Object key : entry.keySet()) {
                    String name2 = String.valueOf(key);
                    int index = KIND_KEYS.indexOf(name2);
                    if (index < 0) {
                        r.problem(at + "." + name2, "is not a key of a kind (allowed: " + String.join(", ", KIND_KEYS) + ")");
                        continue;
                    }
                    keys.add(name2);
                    double v = number(entry, name2, Double.NaN, false, (k, message) -> r.problem(at + "." + k, message));
                    values[index] = index == 3 ? v * 3600.0 : v;
                }
                // a written rate replaces the preset's rate of the other form, so that the rules below see only the user's
                if (keys.contains("perHour")) values[1] = keys.contains("weight") ? values[1] : Double.NaN;
                if (keys.contains("weight")) values[0] = keys.contains("perHour") ? values[0] : Double.NaN;
            }
        }

        List<RandomFaults.Rate> rates = new ArrayList<>();
        boolean anyRate = false;
        double weights = 0;
        StringJoiner terms = new StringJoiner(" + ");
        for (Map.Entry<Kind, double[]> e : mix.entrySet()) {
            Kind k = e.getKey();
            double[] v = e.getValue();
            String at = "kinds." + k.key();
            Set<String> keys = written.getOrDefault(k, Set.of());
            if (byMtbf) {
                if (keys.contains("perHour")) {
                    r.problem(at + ".perHour", "cannot be given with mtbfHours: under a job MTBF each kind takes its weight "
                            + "(its share of the failures), or leave mtbfHours out");
                } else if (Double.isNaN(v[1])) {
                    r.problem(at, "needs a weight under mtbfHours (its share of the job's failures; the weights sum to 1)");
                } else {
                    weights += v[1];
                    terms.add(k.key() + " " + digits(v[1], 4));
                    anyRate |= v[1] > 0;
                }
            } else {
                if (keys.contains("weight")) {
                    r.problem(at + ".weight", "needs mtbfHours (the job's MTBF the weights split); without it give perHour");
                } else if (Double.isNaN(v[0])) {
                    r.problem(at, "needs perHour (interruptions per " + unit(k) + "-hour)"
                            + (preset.isPresent() ? ", the preset " + preset.get().name() + " has none for it" : ""));
                } else {
                    anyRate |= v[0] > 0;
                }
            }
            rates.add(new RandomFaults.Rate(k, byMtbf ? Double.NaN : v[0], byMtbf ? v[1] : Double.NaN, v[2], v[3]));
        }
        if (byMtbf && problems.isEmpty() && anyRate && Math.abs(weights - 1) > WEIGHT_TOLERANCE) {
            r.problem("kinds", "the weights must sum to 1, got " + digits(weights, 12) + " (" + terms + ")");
        }
        if (problems.isEmpty() && !anyRate) {
            r.problem("", "has no rate: give a preset (" + FaultPresets.names() + "), kinds with perHour, or mtbfHours and kinds "
                    + "with weights");
        }
        if (!problems.isEmpty()) return new Parsed(Optional.empty(), problems);
        return new Parsed(Optional.of(new RandomFaults(seed, scale, byMtbf ? Optional.of(mtbf) : Optional.empty(), spares, rates,
                preset.map(FaultPresets.Preset::name))), List.of());
    }

    private interface Reporter {
        void problem(String key, String message);
    }

    /** {@code v} to {@code n} significant digits, as the weights' sum shows them. */
    private static String digits(double v, int n) {
        return new BigDecimal(v).round(new MathContext(n)).stripTrailingZeros().toPlainString();
    }

    private static String unit(Kind k) {
        return switch (k.level()) {
            case DEVICE -> "device";
            case NODE -> "node";
            case JOB -> "job";
        };
    }

    /** A finite number {@code >= 0} ({@code > 0} when {@code positive}), or {@code fallback} when absent; NaN when reported. */
    private static double number(Map<?, ?> map, String key, double fallback, boolean positive, Reporter r) {
        if (!map.containsKey(key)) return fallback;
        Object v = map.get(key);
        if (!(v instanceof Number n) || !Double.isFinite(n.doubleValue())) {
            r.problem(key, "must be a finite number, got " + FaultSyntax.describe(v));
            return Double.NaN;
        }
        double d = n.doubleValue();
        if (positive ? !(d > 0) : !(d >= 0)) {
            r.problem(key, "must be " + (positive ? "> 0" : ">= 0") + ", got " + FaultSyntax.written(d));
            return Double.NaN;
        }
        return d + 0.0;
    }
}
