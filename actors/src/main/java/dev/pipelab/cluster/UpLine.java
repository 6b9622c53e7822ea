package dev.pipelab.cluster;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one line {@code pipelab node} prints on stdout once it is a member {@code Up}:
 * {@code pipelab node: up <role> pekko://pipelab@HOST:PORT slots=K version=V}. Invariant: {@link #toString()}
 * gives back exactly the line that {@link #parse} accepts.
 */
public record UpLine(String role, String address, String host, int port, int slots, String version) {

    /** What every up line starts with; anything else a node prints is not its up line. */
    public static final String PREFIX = "pipelab node: up ";

    private static final Pattern LINE = Pattern.compile(
            Pattern.quote(PREFIX) + "(\\S+) (pekko://[^@\\s]+@(\\S+):(\\d+)) slots=(\\d+) version=(\\S+)");

    public UpLine {
        if (role.isBlank() || version.isBlank()) throw new IllegalArgumentException("role and version must not be blank");
        if (port < 1 || port > 65535) throw new IllegalArgumentException("port must be in 1..65535, got " + port);
        if (slots < 1) throw new IllegalArgumentException("slots must be >= 1, got " + slots);
    }

    /** The up line in {@code line}, or empty when the line is something else (a log line, a partial write). */
    public static Optional<UpLine> parse(String line) {
        Matcher m = LINE.matcher(line.strip());
        if (!m.matches()) return Optional.empty();
        try {
            return Optional.of(new UpLine(m.group(1), m.group(2), m.group(3), Integer.parseInt(m.group(4)),
                    Integer.parseInt(m.group(5)), m.group(6)));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    @Override
    public String toString() {
        return PREFIX + role + " " + address + " slots=" + slots + " version=" + version;
    }
}
