package dev.pipelab.monitoring.trace;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Structural checks of a Chrome trace-event file, for tests of real and synthetic runs. Invariant: an empty result
 * means the file is one valid JSON object with a {@code traceEvents} array, every {@code X} slice nests within its
 * (pid, tid) track (no partial overlaps), slice and counter timestamps never decrease per track, every flow start
 * has exactly one finish (and the reverse) lying inside a slice of its track, and, when busy times are given, the
 * compute slices of each pid add up to them.
 *
 * <p>It reads the file as a stream of events (one event tree at a time), so it works on traces of large runs.
 */
public final class TraceCheck {

    /** Slice categories that count as compute (busy) time. */
    public static final Set<String> COMPUTE_CATEGORIES = Set.of("forward", "backward", "weight", "recompute", "optimizer");

    /** Relative and absolute tolerance (µs) of the busy-time comparison and of nesting bounds. */
    private static final double EPSILON_MICROS = 1e-3;

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private TraceCheck() {}

    /** The problems of {@code file}, one line each; empty when the trace is sound. */
    public static List<String> check(Path file) {
        return check(file, Map.of());
    }

    /**
     * As {@link #check(Path)}, and for each pid in {@code busyMicrosByPid} the sum of {@code dur} of its compute
     * slices ({@link #COMPUTE_CATEGORIES}) must equal the given microseconds (within 1 ns per slice, or 1e-9 relative).
     */
    public static List<String> check(Path file, Map<Integer, Double> busyMicrosByPid) {
        List<String> problems = new ArrayList<>();
        Map<String, List<double[]>> open = new HashMap<>(); // per track: stack of [start, end]
        Map<String, Double> lastTs = new HashMap<>();
        Map<String, List<double[]>> slicesForFlows = new HashMap<>();
        Map<Long, List<String>> flowStarts = new TreeMap<>();
        Map<Long, List<String>> flowEnds = new TreeMap<>();
        List<Object[]> flowPoints = new ArrayList<>();
        Map<Integer, Double> busy = new HashMap<>();
        Map<Integer, Integer> slices = new HashMap<>();
        int index = 0;
        try (InputStream in = Files.newInputStream(file); JsonParser p = MAPPER.getFactory().createParser(in)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                problems.add("the trace is not a JSON object");
                return problems;
            }
            boolean sawEvents = false;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken t = p.nextToken();
                if (!field.equals("traceEvents")) {
                    p.skipChildren();
                    continue;
                }
                if (t != JsonToken.START_ARRAY) {
                    problems.add("traceEvents is not an array");
                    p.skipChildren();
                    continue;
                }
                sawEvents = true;
                while (p.nextToken() == JsonToken.START_OBJECT) {
                    JsonNode e = MAPPER.readTree(p);
                    event(index++, e, problems, open, lastTs, slicesForFlows, flowStarts, flowEnds, flowPoints, busy, slices);
                }
            }
            if (p.nextToken() != null) problems.add("text after the trace object");
            if (!sawEvents) problems.add("no traceEvents array");
        } catch (IOException e) {
            problems.add("not valid JSON: " + e.getMessage().lines().findFirst().orElse(""));
            return problems;
        }
        for (Map.Entry<Long, List<String>> s : flowStarts.entrySet()) {
            int ends = flowEnds.getOrDefault(s.getKey(), List.of()).size();
            if (ends != 1 || s.getValue().size() != 1) {
                problems.add("flow id " + s.getKey() + ": " + s.getValue().size() + " start(s), " + ends + " finish(es)");
            }
        }
        for (Long id : flowEnds.keySet()) {
            if (!flowStarts.containsKey(id)) problems.add("flow id " + id + ": finish without a start");
        }
        for (Object[] fp : flowPoints) {
            String track = (String) fp[0];
            double ts = (double) fp[1];
            boolean inside = false;
            for (double[] s : slicesForFlows.getOrDefault(track, List.of())) {
                if (s[0] - EPSILON_MICROS <= ts && ts <= s[1] + EPSILON_MICROS) {
                    inside = true;
                    break;
                }
            }
            if (!inside) problems.add("flow id " + fp[2] + " at ts " + ts + " on " + track + " lies in no slice");
        }
        for (Map.Entry<Integer, Double> expected : new TreeMap<>(busyMicrosByPid).entrySet()) {
            double got = busy.getOrDefault(expected.getKey(), 0.0);
            double want = expected.getValue();
            // each slice's ts and dur are rounded to the nanosecond, so allow 1 ns per slice
            double tolerance = Math.max(EPSILON_MICROS * Math.max(1, slices.getOrDefault(expected.getKey(), 0)),
                    1e-9 * Math.abs(want));
            if (Math.abs(got - want) > tolerance) {
                problems.add(String.format(Locale.ROOT, "pid %d: compute slices add up to %.3f µs, expected %.3f µs",
                        expected.getKey(), got, want));
            }
        }
        return problems;
    }

    private static void event(int index, JsonNode e, List<String> problems, Map<String, List<double[]>> open,
                              Map<String, Double> lastTs, Map<String, List<double[]>> slicesForFlows,
                              Map<Long, List<String>> flowStarts, Map<Long, List<String>> flowEnds,
                              List<Object[]> flowPoints, Map<Integer, Double> busy,
                              Map<Integer, Integer> slices) {
        String ph = e.path("ph").asText("");
        if (ph.isEmpty()) {
            problems.add("event " + index + ": no ph");
            return;
        }
        if (ph.equals("M")) return;
        if (!e.path("ts").isNumber()) {
            problems.add("event " + index + " (" + ph + "): no numeric ts");
            return;
        }
        double ts = e.get("ts").asDouble();
        String track = "pid " + e.path("pid").asText() + " tid " + e.path("tid").asText();
        switch (ph) {
            case "X" -> {
                if (!e.path("dur").isNumber() || e.get("dur").asDouble() < 0) {
                    problems.add("event " + index + " (X " + e.path("name").asText() + "): dur missing or negative");
                    return;
                }
                double end = ts + e.get("dur").asDouble();
                ordered(index, track, ts, lastTs, problems);
                List<double[]> stack = open.computeIfAbsent(track, k -> new ArrayList<>());
                while (!stack.isEmpty() && stack.get(stack.size() - 1)[1] <= ts + EPSILON_MICROS) stack.remove(stack.size() - 1);
                if (!stack.isEmpty() && end > stack.get(stack.size() - 1)[1] + EPSILON_MICROS) {
                    double[] parent = stack.get(stack.size() - 1);
                    problems.add(String.format(Locale.ROOT, "event %d (X %s) on %s: [%s, %s] partially overlaps [%s, %s]",
                            index, e.path("name").asText(), track, ts, end, parent[0], parent[1]));
                }
                stack.add(new double[] {ts, end});
                slicesForFlows.computeIfAbsent(track, k -> new ArrayList<>()).add(new double[] {ts, end});
                if (COMPUTE_CATEGORIES.contains(e.path("cat").asText())) {
                    busy.merge(e.path("pid").asInt(), e.get("dur").asDouble(), Double::sum);
                    slices.merge(e.path("pid").asInt(), 1, Integer::sum);
                }
            }
            case "s", "f" -> {
                if (!e.has("id")) {
                    problems.add("event " + index + " (" + ph + "): flow without id");
                    return;
                }
                long id = e.get("id").asLong();
                (ph.equals("s") ? flowStarts : flowEnds).computeIfAbsent(id, k -> new ArrayList<>()).add(track);
                flowPoints.add(new Object[] {track, ts, id});
            }
            case "C" -> ordered(index, "counter " + e.path("pid").asText() + " " + e.path("name").asText(), ts, lastTs,
                    problems);
            case "i", "I", "B", "E", "b", "e", "n" -> { }
            default -> problems.add("event " + index + ": unknown ph " + ph);
        }
    }

    private static void ordered(int index, String track, double ts, Map<String, Double> lastTs, List<String> problems) {
        Double last = lastTs.put(track, ts);
        if (last != null && ts < last) {
            problems.add("event " + index + " on " + track + ": ts " + ts + " before the previous " + last);
        }
    }
}
