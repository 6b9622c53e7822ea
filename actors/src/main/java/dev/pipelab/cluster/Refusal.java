package dev.pipelab.cluster;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A node that was not let in, or a node that could not get in, as read from one log message of Pekko or of
 * {@link TlsEngine}. Invariant: {@link #parse} recognises only the messages named by {@link Kind} and gives back the
 * peer and the reason they carry, never a guess.
 *
 * @param peer   the other node: an address ({@code pekko://pipelab@h:p}), a {@code host:port}, or a certificate
 * @param reason why, as the message said it
 */
public record Refusal(Kind kind, String peer, String reason) {

    /** Which side saw what. */
    public enum Kind {
        /** This node (a seed) refused a node of another cluster name or pipelab version (the Compatibility check). */
        JOIN_REFUSED,
        /** This node refused a connecting peer whose certificate its trust store does not accept. */
        PEER_CERTIFICATE_REFUSED,
        /** This node refused the certificate of the node it connected to (its seed, say). */
        SEED_CERTIFICATE_REFUSED,
        /** A TLS handshake with the node this one connected to failed, e.g. on the peer's alert that it refused ours. */
        HANDSHAKE_FAILED,
        /** The node this one connected to closed the connection: over TLS, what a refused client certificate looks like. */
        CONNECTION_CLOSED
    }

    // Pekko's ClusterDaemon: "Found incompatible settings when [ADDR] tried to join: MESSAGES. Self version [...], ..."
    private static final Pattern INCOMPATIBLE = Pattern.compile(
            "Found incompatible settings when \\[([^\\]]+)\\] tried to join: (.*?)\\. Self version \\[", Pattern.DOTALL);
    private static final Pattern CLIENT = Pattern.compile(Pattern.quote(TlsEngine.CLIENT_REFUSED) + " (\\S+) (.*)", Pattern.DOTALL);
    // Pekko's Artery TCP: "[outbound connection to [ADDR], control stream] Upstream failed, cause: StreamTcpException:
    // The connection actor has terminated. Stopping now."
    // Artery TCP's outbound streams and their Association: "[outbound connection to [ADDR], message stream] Upstream
    // failed, cause: SSLHandshakeException: Received fatal alert: certificate_unknown", "Outbound message stream to
    // [ADDR] failed. Restarting it. javax.net.ssl.SSLHandshakeException: ..."
    private static final Pattern HANDSHAKE = Pattern.compile(
            "(?:outbound connection to|stream to) \\[([^\\]]+)\\].*?SSLHandshakeException: ([^\\n]*)", Pattern.DOTALL);
    private static final Pattern CLOSED = Pattern.compile(
            "outbound connection to \\[([^\\]]+)\\].*The connection actor has terminated", Pattern.DOTALL);

    /** The refusal {@code message} tells of, or empty when it tells of none. */
    public static Optional<Refusal> parse(String message) {
        Matcher m = INCOMPATIBLE.matcher(message);
        if (m.find()) return Optional.of(new Refusal(Kind.JOIN_REFUSED, m.group(1), m.group(2)));
        if (message.startsWith(TlsEngine.SERVER_REFUSED)) {
            String rest = message.substring(TlsEngine.SERVER_REFUSED.length()).strip();
            int colon = rest.indexOf("]: ");
            return Optional.of(colon < 0 ? new Refusal(Kind.PEER_CERTIFICATE_REFUSED, "(unknown)", rest)
                    : new Refusal(Kind.PEER_CERTIFICATE_REFUSED, rest.substring(0, colon + 1), rest.substring(colon + 3)));
        }
        m = CLIENT.matcher(message);
        if (m.lookingAt()) return Optional.of(new Refusal(Kind.SEED_CERTIFICATE_REFUSED, m.group(1), m.group(2)));
        m = HANDSHAKE.matcher(message);
        if (m.find()) return Optional.of(new Refusal(Kind.HANDSHAKE_FAILED, m.group(1), m.group(2).strip()));
        m = CLOSED.matcher(message);
        if (m.find()) return Optional.of(new Refusal(Kind.CONNECTION_CLOSED, m.group(1), "the connection was closed"));
        return Optional.empty();
    }

    /** What a seed prints: {@code refused pekko://pipelab@127.0.0.1:25521: pipelab version 0.0.9 differs from ...}. */
    public String line() {
        return switch (kind) {
            case JOIN_REFUSED -> "refused " + peer + ": " + reason;
            case PEER_CERTIFICATE_REFUSED -> "refused a TLS peer with certificate " + peer + ": " + reason;
            case SEED_CERTIFICATE_REFUSED -> "refused the TLS certificate of " + peer + ": " + reason;
            case HANDSHAKE_FAILED -> "TLS handshake with " + peer + " failed: " + reason;
            case CONNECTION_CLOSED -> peer + " closed the connection";
        };
    }
}
