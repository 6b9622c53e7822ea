package dev.pipelab.cluster;

import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.remote.artery.tcp.ConfigSSLEngineProvider;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;
import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Arrays;

/**
 * Pekko's {@link ConfigSSLEngineProvider} (same config, {@code pekko.remote.artery.ssl.config-ssl-engine}) that also
 * says which certificate it refused. Pekko itself only logs a failed handshake at DEBUG, so a node with another CA's
 * certificate would just never join, silently. Invariant: every certificate the trust store rejects is logged once as
 * a warning that starts with {@link #SERVER_REFUSED} (a peer connected to this node) or {@link #CLIENT_REFUSED} (this
 * node connected to a peer), which {@link Refusal#parse} reads back; the decision itself is the JDK's, unchanged.
 */
public final class TlsEngine extends ConfigSSLEngineProvider {

    /** Start of the warning when a connecting peer's certificate is refused (this node is the server). */
    public static final String SERVER_REFUSED = "pipelab TLS: refused a peer's certificate";

    /** Start of the warning when the certificate of the node this one connects to is refused (this node is the client). */
    public static final String CLIENT_REFUSED = "pipelab TLS: refused the certificate of";

    /** Pekko creates the provider by reflection with the ActorSystem (pekko.remote.artery.ssl.ssl-engine-provider). */
    public TlsEngine(ActorSystem system) {
        super(system);
    }

    @Override
    public TrustManager[] trustManagers() {
        return Arrays.stream(super.trustManagers())
                .map(t -> t instanceof X509ExtendedTrustManager x ? new Reporting(x) : t)
                .toArray(TrustManager[]::new);
    }

    /** A certificate as a person can check it against make-keys.sh's output: subject and issuer. */
    static String describe(X509Certificate[] chain) {
        if (chain == null || chain.length == 0) return "(no certificate)";
        X509Certificate leaf = chain[0];
        return "[" + leaf.getSubjectX500Principal().getName() + "] issued by [" + leaf.getIssuerX500Principal().getName() + "]";
    }

    /** The JDK's trust manager, which logs what it rejects; SSLEngine handshakes call the engine variants. */
    private final class Reporting extends X509ExtendedTrustManager {
        private final X509ExtendedTrustManager trust;

        Reporting(X509ExtendedTrustManager trust) {
            this.trust = trust;
        }

        private CertificateException refusedPeer(X509Certificate[] chain, CertificateException e) {
            log().warning(SERVER_REFUSED + " " + describe(chain) + ": not signed by this cluster's CA (" + e.getMessage() + ")");
            return e;
        }

        private CertificateException refusedServer(String peer, X509Certificate[] chain, CertificateException e) {
            log().warning(CLIENT_REFUSED + " " + peer + " " + describe(chain) + ": not signed by a CA in this node's trust store ("
                    + e.getMessage() + ")");
            return e;
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            try {
                trust.checkClientTrusted(chain, authType, engine);
            } catch (CertificateException e) {
                throw refusedPeer(chain, e);
            }
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            try {
                trust.checkServerTrusted(chain, authType, engine);
            } catch (CertificateException e) {
                // a client engine carries the host and port it connects to (Artery: the peer's canonical address)
                throw refusedServer(engine == null ? "(unknown)" : engine.getPeerHost() + ":" + engine.getPeerPort(), chain, e);
            }
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            try {
                trust.checkClientTrusted(chain, authType, socket);
            } catch (CertificateException e) {
                throw refusedPeer(chain, e);
            }
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            try {
                trust.checkServerTrusted(chain, authType, socket);
            } catch (CertificateException e) {
                throw refusedServer(socket == null ? "(unknown)" : String.valueOf(socket.getRemoteSocketAddress()), chain, e);
            }
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            try {
                trust.checkClientTrusted(chain, authType);
            } catch (CertificateException e) {
                throw refusedPeer(chain, e);
            }
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            try {
                trust.checkServerTrusted(chain, authType);
            } catch (CertificateException e) {
                throw refusedServer("(unknown)", chain, e);
            }
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return trust.getAcceptedIssuers();
        }
    }
}
