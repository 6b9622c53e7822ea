package dev.pipelab.fault;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads one fault from either of its written forms, every problem named by its key and none thrown: the command line's
 * {@code KIND TARGET at=STEP[+SECONDS] [for=SECONDS] [heal=STEP[+SECONDS]] [PARAM=VALUE] [seed=N]}
 * ({@code link.loss 0/1->2 at=3+0.5 for=2 probability=0.05}), and an entry of a scenario's {@code faults:} list as a map
 * (the same map is the JSON body of {@code POST /api/faults}). Both forms obey the same rules: a known kind, a written
 * target ({@link FaultTarget}), a step and seconds {@code >= 0}, a duration or a heal but not both and neither for an
 * instant kind, the kind's own parameter within its range ({@link FaultKind.Parameter#range()}). Whether the target
 * exists in a run is {@link FaultCheck}'s question, not this one's. {@link Fault#describe()} is read back to an equal
 * fault.
 */
public final class FaultSyntax {

    /** A fault, or every problem of its entry (never both). */
    public record Parsed(Optional<Fault> fault, List<FaultProblem> problems) {
        public Parsed {
            problems = List.copyOf(problems);
            if (fault.isPresent() == !problems.isEmpty()) throw new IllegalArgumentException("a fault or its problems, not both");
        }
    }

    /** The command-line form, as error messages show it. */
    public static final String FORM = "KIND TARGET at=STEP[+SECONDS] [for=SECONDS] [heal=STEP[+SECONDS]] [PARAM=VALUE] [seed=N]";

    /** The written targets, as error messages list them. */
    public static final String TARGETS = "R/K (a stage), R/A->B (a link), ring:R/K, node:N, one, all, percent:N";

    /** The keys of a scenario entry, in the order the docs list them. */
    public static final List<String> KEYS = List.of("kind", "target", "atStep", "atSeconds", "durationSeconds", "heal",
            "factor", "fraction", "seconds", "probability", "seed");

    /** Every kind's parameter name: each is a key of an entry, allowed only for its own kinds. */
    private static final Set<String> PARAMETERS = Set.copyOf(Arrays.stream(FaultKind.values())
            .flatMap(k -> k.parameter().stream()).map(FaultKind.Parameter::name).toList());
    private static final Pattern STAGE = Pattern.compile("(\\d{1,9})/(\\d{1,9})");
    private static final Pattern LINK = Pattern.compile("(\\d{1,9})/(\\d{1,9})->(\\d{1,9})");
    private static final Pattern RING = Pattern.compile("ring:(\\d{1,9})/(\\d{1,9})");
    private static final Pattern NODE = Pattern.compile("node:(\\d{1,9})");
    private static final Pattern PERCENT = Pattern.compile("percent:(\\d{1,9})");
    private static final Pattern INTEGER = Pattern.compile("[+-]?\\d{1,19}");
    private static final Pattern DECIMAL = Pattern.compile("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?");

    /** The names the two forms give the same things. */
    private record Keys(String atStep, String duration, String heal) {}

    private static final Keys MAP_KEYS = new Keys("atStep", "durationSeconds", "heal");
    private static final Keys OPTION_KEYS = new Keys("at", "for", "heal");

    private FaultSyntax() {}

    /**
     * The option key a scenario key is written as on the command line ({@code atStep} is {@code at}, {@code durationSeconds}
     * is {@code for}), so that a problem {@link FaultCheck} finds in a {@code --fault} names what the user wrote.
     */
    public static String optionKey(String key) {
        return switch (key) {
            case "atStep", "atSeconds" -> "at";
            case "durationSeconds" -> "for";
            default -> key.startsWith("heal.") ? "heal" : key;
        };
    }

    /** Reads {@code text}, the value of {@code --fault}; {@code where} names the option ({@code --fault #2}). */
    public static Parsed parse(String text, String where) {
        Draft d = new Draft(where);
        String[] words = text.strip().split("\\s+");
        if (text.isBlank()) {
            d.problem("kind", "is missing: the form is " + FORM);
            return d.finish(OPTION_KEYS);
        }
        d.kind = kind(words[0], d);
        int next = 1;
        if (words.length < 2 || words[1].contains("=")) {
            d.problem("target", "is missing after the kind: one of " + TARGETS);
        } else {
            d.target = target(words[1], d);
            next = 2;
        }
        Set<String> seen = new HashSet<>();
        for (int i = next; i < words.length; i++) {
            String w = words[i];
            int eq = w.indexOf('=');
            if (eq <= 0) {
                d.problem(w, "must be KEY=VALUE (the form is " + FORM + ")");
                continue;
            }
            String key = w.substring(0, eq);
            String value = w.substring(eq + 1);
            if (!seen.add(key)) {
                d.problem(key, "is given twice");
                continue;
            }
            switch (key) {
                case "at" -> d.at = point(value, "at", d);
                case "heal" -> d.heal = point(value, "heal", d);
                case "for" -> d.duration = decimal(value, "for", true, d).stream().boxed().findFirst().orElse(null);
                case "seed" -> {
                    Optional<Long> seed = INTEGER.matcher(value).matches() ? parseLong(value) : Optional.empty();
                    if (seed.isPresent()) d.seed = seed.get();
                    else d.problem("seed", "must be an integer, got '" + value + "'");
                }
                default -> {
                    if (parameterKey(key, d, "is not an option of ")) {
                        // its range is checked with the other rules, so a negative probability reads "must be in (0, 1]"
                        d.value = decimal(value, key, false, d).stream().boxed().findFirst().orElse(null);
                    }
                }
            }
        }
        if (!seen.contains("at")) d.problem("at", "is required: at=STEP or at=STEP+SECONDS");
        return d.finish(OPTION_KEYS);
    }

    /**
     * Reads a scenario entry (or a request body) as a map of its keys to strings, numbers, booleans and maps, as a
     * YAML or JSON reader gives them; {@code where} names the entry ({@code faults[2]}, or empty for a body).
     */
    public static Parsed fromMap(Map<String, ?> entry, String where) {
        Draft d = new Draft(where);
        Object kind = entry.get("kind");
        if (kind == null) {
            d.problem("kind", entry.containsKey("kind") ? "must be one of " + FaultKind.keys() + ", got an empty value"
                    : "is required (one of " + FaultKind.keys() + ")");
        } else if (kind instanceof String k) {
            d.kind = kind(k, d);
        } else {
            d.problem("kind", "must be one of " + FaultKind.keys() + ", got " + describe(kind));
        }
        for (String key : entry.keySet()) {
            if (PARAMETERS.contains(key)) {
                parameterKey(key, d, "is not a key of ");
            } else if (!KEYS.contains(key)) {
                d.problem(key, "is not a key of a fault (allowed: " + String.join(", ", KEYS) + ")");
            }
        }
        Object target = entry.get("target");
        if (target == null) {
            d.problem("target", "is required (" + TARGETS + ", or {percent: N})");
        } else if (target instanceof String t) {
            d.target = target(t, d);
        } else if (target instanceof Map<?, ?> m && m.size() == 1 && m.containsKey("percent")) {
            OptionalLong n = whole(m.get("percent"));
            if (n.isPresent() && n.getAsLong() >= 1 && n.getAsLong() <= 100) {
                d.target = new FaultTarget.Choice(FaultTarget.Choice.Mode.PERCENT, (int) n.getAsLong());
            } else {
                d.problem("target.percent", "must be an integer within 1..100, got " + describe(m.get("percent")));
            }
        } else {
            d.problem("target", "must be one of " + TARGETS + ", or {percent: N}, got " + describe(target));
        }
        if (!entry.containsKey("atStep")) {
            d.problem("atStep", "is required (the training step the fault is injected in, from 0)");
        }
        int atStep = step(entry, "atStep", "atStep", d);
        double atSeconds = seconds(entry, "atSeconds", "atSeconds", d);
        if (atStep >= 0 && !Double.isNaN(atSeconds)) d.at = new Point(atStep, atSeconds);
        if (entry.containsKey("durationSeconds")) {
            double s = seconds(entry, "durationSeconds", "durationSeconds", d);
            if (!Double.isNaN(s)) d.duration = s;
        }
        if (entry.containsKey("heal")) {
            if (entry.get("heal") instanceof Map<?, ?> heal) {
                for (Object key : heal.keySet()) {
                    if (!"atStep".equals(key) && !"atSeconds".equals(key)) {
                        d.problem("heal." + key, "is not a key of a heal (allowed: atStep, atSeconds)");
                    }
                }
                if (!heal.containsKey("atStep")) d.problem("heal.atStep", "is required (the training step the fault heals in)");
                int healStep = step(heal, "atStep", "heal.atStep", d);
                double healSeconds = seconds(heal, "atSeconds", "heal.atSeconds", d);
                if (healStep >= 0 && !Double.isNaN(healSeconds)) d.heal = new Point(healStep, healSeconds);
            } else {
                d.problem("heal", "must be a mapping {atStep: N, atSeconds: S}, got " + describe(entry.get("heal")));
            }
        }
        if (d.kind != null) {
            d.kind.parameter().filter(p -> entry.containsKey(p.name())).ifPresent(p -> {
                OptionalDouble v = number(entry.get(p.name()));
                if (v.isPresent()) d.value = v.getAsDouble();
                else d.problem(p.name(), "must be a number, got " + describe(entry.get(p.name())));
            });
        }
        if (entry.containsKey("seed")) {
            OptionalLong seed = whole(entry.get("seed"));
            if (seed.isPresent()) d.seed = seed.getAsLong();
            else d.problem("seed", "must be an integer between " + Long.MIN_VALUE + " and " + Long.MAX_VALUE + ", got "
                    + describe(entry.get("seed")));
        }
        return d.finish(MAP_KEYS);
    }

    /** Reads a written target ({@link #TARGETS}); empty when it is not one. */
    public static Optional<FaultTarget> target(String text) {
        Draft d = new Draft("");
        FaultTarget t = target(text, d);
        return Optional.ofNullable(t);
    }

    // ---- the parts ----

    /** A point in a run: {@code seconds} of emulated time into the first start of training step {@code step}. */
    private record Point(int step, double seconds) {
        @Override public String toString() {
            return "step " + step + (seconds > 0 ? " + " + written(seconds) + " s" : "");
        }
    }

    /** What one entry said so far, and what was wrong with it. */
    private static final class Draft {
        final String where;
        final List<FaultProblem> problems = new ArrayList<>();
        final Set<String> reported = new LinkedHashSet<>();
        FaultKind kind;
        FaultTarget target;
        Point at;
        Point heal;
        Double duration;
        Double value;
        long seed;

        Draft(String where) {
            this.where = where;
        }

        void problem(String key, String message) {
            if (reported.add(key)) problems.add(new FaultProblem(where, key, message));
        }

        /** The rules between keys, then the fault when nothing was wrong. */
        Parsed finish(Keys keys) {
            if (kind != null && kind.instant()) {
                if (duration != null) problem(keys.duration(), kind.key() + " happens at an instant: it takes no " + keys.duration());
                if (heal != null) problem(keys.heal(), kind.key() + " happens at an instant: it takes no " + keys.heal());
            } else if (duration != null && heal != null) {
                problem(keys.heal(), "cannot be given with " + keys.duration() + ": give one of the two");
            }
            if (kind != null && value != null) {
                FaultKind.Parameter p = kind.parameter().orElseThrow();
                if (!p.allows(value)) problem(p.name(), "must be " + p.range() + " for " + kind.key() + ", got " + written(value));
            }
            if (at != null && heal != null && (heal.step() < at.step() || heal.step() == at.step() && heal.seconds() < at.seconds())) {
                problem(keys.heal(), "must not come before the injection at " + at + ", got " + heal);
            }
            if (!problems.isEmpty()) return new Parsed(Optional.empty(), problems);
            double v = value != null ? value : kind.parameter().map(FaultKind.Parameter::defaultValue).orElse(0.0);
            double lasts = duration != null && !kind.instant() ? duration : Double.POSITIVE_INFINITY;
            Fault f = heal != null && !kind.instant()
                    ? new Fault(kind, target, at.step(), at.seconds(), Double.POSITIVE_INFINITY, heal.step(), heal.seconds(), v, seed, where)
                    : Fault.of(kind, target, at.step(), at.seconds(), lasts, v, seed, where);
            return new Parsed(Optional.of(f), List.of());
        }
    }

    private static FaultKind kind(String text, Draft d) {
        Optional<FaultKind> k = FaultKind.of(text);
        if (k.isEmpty()) d.problem("kind", "must be one of " + FaultKind.keys() + ", got '" + text + "'");
        return k.orElse(null);
    }

    /**
     * Whether {@code key}, a parameter's name, is the parameter of the entry's kind; reports it when not. With the kind
     * unknown the key is taken (its kind was reported).
     */
    private static boolean parameterKey(String key, Draft d, String notOf) {
        if (d.kind == null) {
            if (!PARAMETERS.contains(key)) d.problem(key, notOf + "a fault");
            return PARAMETERS.contains(key);
        }
        Optional<FaultKind.Parameter> p = d.kind.parameter();
        if (p.isPresent() && p.get().name().equals(key)) return true;
        d.problem(key, notOf + d.kind.key() + (p.isPresent() ? " (its parameter is " + p.get().name() + ")" : " (it has no parameter)"));
        return false;
    }

    private static FaultTarget target(String text, Draft d) {
        Matcher m;
        if (text.equals("one")) return new FaultTarget.Choice(FaultTarget.Choice.Mode.ONE, 0);
        if (text.equals("all")) return new FaultTarget.Choice(FaultTarget.Choice.Mode.ALL, 0);
        if ((m = STAGE.matcher(text)).matches()) return new FaultTarget.Stage(num(m, 1), num(m, 2));
        if ((m = LINK.matcher(text)).matches()) return new FaultTarget.Link(num(m, 1), num(m, 2), num(m, 3));
        if ((m = RING.matcher(text)).matches()) return new FaultTarget.Ring(num(m, 1), num(m, 2));
        if ((m = NODE.matcher(text)).matches()) return new FaultTarget.Node(num(m, 1));
        if ((m = PERCENT.matcher(text)).matches()) {
            int n = num(m, 1);
            if (n >= 1 && n <= 100) return new FaultTarget.Choice(FaultTarget.Choice.Mode.PERCENT, n);
            d.problem("target", "percent must be within 1..100, got " + n);
            return null;
        }
        d.problem("target", "must be one of " + TARGETS + ", got '" + text + "'");
        return null;
    }

    private static int num(Matcher m, int group) {
        return Integer.parseInt(m.group(group));
    }

    /** {@code STEP[+SECONDS]}: a step >= 0 and seconds >= 0 into it. */
    private static Point point(String text, String key, Draft d) {
        int plus = text.indexOf('+');
        String step = plus < 0 ? text : text.substring(0, plus);
        String seconds = plus < 0 ? "0" : text.substring(plus + 1);
        Optional<Long> s = step.matches("\\d{1,10}") ? parseLong(step) : Optional.empty();
        boolean secondsOk = DECIMAL.matcher(seconds).matches() && !seconds.startsWith("-") && Double.isFinite(Double.parseDouble(seconds));
        if (s.isEmpty() || s.get() > Integer.MAX_VALUE || !secondsOk) {
            d.problem(key, "must be STEP or STEP+SECONDS (a step from 0, emulated seconds >= 0 into it), got '" + text + "'");
            return null;
        }
        return new Point(s.get().intValue(), Double.parseDouble(seconds) + 0.0);
    }

    /** A finite decimal number (>= 0 when {@code nonNegative}), as {@code for=} and a parameter take it. */
    private static OptionalDouble decimal(String text, String key, boolean nonNegative, Draft d) {
        if (DECIMAL.matcher(text).matches()) {
            double v = Double.parseDouble(text);
            if (Double.isFinite(v) && (v >= 0 || !nonNegative)) return OptionalDouble.of(v + 0.0);
            if (Double.isFinite(v)) {
                d.problem(key, "must be >= 0, got " + text);
                return OptionalDouble.empty();
            }
        }
        d.problem(key, "must be a number, got '" + text + "'");
        return OptionalDouble.empty();
    }

    private static Optional<Long> parseLong(String text) {
        try {
            return Optional.of(Long.parseLong(text.startsWith("+") ? text.substring(1) : text));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** A map's step: an integer 0..2^31-1, or -1 (reported) when absent or wrong. */
    private static int step(Map<?, ?> map, String key, String path, Draft d) {
        if (!map.containsKey(key)) return -1;
        Object v = map.get(key);
        OptionalLong n = whole(v);
        if (n.isEmpty()) {
            d.problem(path, "must be an integer, got " + describe(v));
        } else if (n.getAsLong() < 0) {
            d.problem(path, "must be >= 0, got " + n.getAsLong());
        } else if (n.getAsLong() > Integer.MAX_VALUE) {
            d.problem(path, "must be <= " + Integer.MAX_VALUE + ", got " + n.getAsLong());
        } else {
            return (int) n.getAsLong();
        }
        return -1;
    }

    /** A map's seconds: a number >= 0 (0 when absent), or NaN (reported) when wrong. */
    private static double seconds(Map<?, ?> map, String key, String path, Draft d) {
        if (!map.containsKey(key)) return 0;
        Object v = map.get(key);
        OptionalDouble n = number(v);
        if (n.isEmpty()) {
            d.problem(path, "must be a number, got " + describe(v));
            return Double.NaN;
        }
        if (n.getAsDouble() < 0) {
            d.problem(path, "must be >= 0, got " + written(n.getAsDouble()));
            return Double.NaN;
        }
        return n.getAsDouble() + 0.0;
    }

    /** A finite number. */
    private static OptionalDouble number(Object v) {
        if (v instanceof Number n && !(v instanceof BigDecimal b && b.abs().compareTo(BigDecimal.valueOf(Double.MAX_VALUE)) > 0)) {
            double d = n.doubleValue();
            return Double.isFinite(d) ? OptionalDouble.of(d) : OptionalDouble.empty();
        }
        return OptionalDouble.empty();
    }

    /** A whole number within a long ({@code 8} or {@code 8.0}). */
    private static OptionalLong whole(Object v) {
        if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) {
            return OptionalLong.of(((Number) v).longValue());
        }
        if (v instanceof BigInteger b) return b.bitLength() < 64 ? OptionalLong.of(b.longValue()) : OptionalLong.empty();
        if (v instanceof Number n) {
            double d = n.doubleValue();
            if (Double.isFinite(d) && d == Math.rint(d) && Math.abs(d) < 0x1p63) return OptionalLong.of((long) d);
        }
        return OptionalLong.empty();
    }

    /** A value as an error shows it: strings in double quotes, numbers as written, a mapping or a list by its kind. */
    static String describe(Object v) {
        if (v == null) return "an empty value";
        if (v instanceof String s) return "\"" + s + "\"";
        if (v instanceof Map<?, ?>) return "a mapping";
        if (v instanceof List<?> || v instanceof Object[]) return "a list";
        if (v instanceof Double || v instanceof Float) return written(((Number) v).doubleValue());
        if (v instanceof BigDecimal b) return b.stripTrailingZeros().toPlainString();
        return String.valueOf(v);
    }

    /** A number without a spurious {@code .0}. */
    static String written(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? String.valueOf((long) v) : String.valueOf(v);
    }
}
