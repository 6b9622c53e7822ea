package dev.pipelab.cluster;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The refusals read back from log messages as Pekko 1.7.0 and TlsEngine wrote them in a real run (docs/cluster.md). */
class RefusalTest {

    @Test
    void aSeedsIncompatibleJoinNamesTheNodeAndOurReasons() {
        String logged = "Cluster Node [pekko://pipelab@127.0.0.1:27530] - Found incompatible settings when "
                + "[pekko://pipelab@127.0.0.1:27532] tried to join: pipelab version 0.0.9 differs from this cluster's dev. "
                + "Self version [1.7.0], Joining version [1.7.0].";
        Refusal r = Refusal.parse(logged).orElseThrow();
        assertThat(r).isEqualTo(new Refusal(Refusal.Kind.JOIN_REFUSED, "pekko://pipelab@127.0.0.1:27532",
                "pipelab version 0.0.9 differs from this cluster's dev"));
        assertThat(r.line()).isEqualTo("refused pekko://pipelab@127.0.0.1:27532: pipelab version 0.0.9 differs from this cluster's dev");
    }

    @Test
    void bothReasonsOfOneJoinStayTogether() {
        String logged = "Cluster Node [pekko://pipelab@127.0.0.1:1] - Found incompatible settings when [pekko://pipelab@127.0.0.1:2] "
                + "tried to join: cluster name a differs from this cluster's b, pipelab version 0.1.0.2 differs from this "
                + "cluster's 0.1.0. Self version [1.7.0], Joining version [1.7.0].";
        assertThat(Refusal.parse(logged).orElseThrow().reason())
                .isEqualTo("cluster name a differs from this cluster's b, pipelab version 0.1.0.2 differs from this cluster's 0.1.0");
    }

    @Test
    void aRefusedPeerCertificateNamesItsSubjectAndIssuer() {
        String logged = TlsEngine.SERVER_REFUSED + " [CN=intruder,O=pipelab] issued by [CN=pipelab cluster CA]: not signed by "
                + "this cluster's CA (PKIX path validation failed: java.security.cert.CertPathValidatorException: signature check failed)";
        Refusal r = Refusal.parse(logged).orElseThrow();
        assertThat(r.kind()).isEqualTo(Refusal.Kind.PEER_CERTIFICATE_REFUSED);
        assertThat(r.line()).isEqualTo("refused a TLS peer with certificate [CN=intruder,O=pipelab] issued by [CN=pipelab cluster CA]: "
                + "not signed by this cluster's CA (PKIX path validation failed: java.security.cert.CertPathValidatorException: "
                + "signature check failed)");
    }

    @Test
    void aRefusedSeedCertificateNamesTheSeed() {
        String logged = TlsEngine.CLIENT_REFUSED + " 127.0.0.1:27520 [CN=node-0,O=pipelab] issued by [CN=pipelab cluster CA]: "
                + "not signed by a CA in this node's trust store (PKIX path validation failed)";
        assertThat(Refusal.parse(logged)).hasValue(new Refusal(Refusal.Kind.SEED_CERTIFICATE_REFUSED, "127.0.0.1:27520",
                "[CN=node-0,O=pipelab] issued by [CN=pipelab cluster CA]: not signed by a CA in this node's trust store "
                        + "(PKIX path validation failed)"));
    }

    @Test
    void aFailedHandshakeOfAnOutboundStreamNamesTheSeedAndTheAlert() {
        for (String logged : new String[] {
                "[outbound connection to [pekko://pipelab@127.0.0.1:27520], control stream] Upstream failed, cause: "
                        + "SSLHandshakeException: Received fatal alert: certificate_unknown",
                "Outbound message stream to [pekko://pipelab@127.0.0.1:27520] failed. Restarting it. "
                        + "javax.net.ssl.SSLHandshakeException: Received fatal alert: certificate_unknown"}) {
            assertThat(Refusal.parse(logged)).as(logged).hasValue(new Refusal(Refusal.Kind.HANDSHAKE_FAILED,
                    "pekko://pipelab@127.0.0.1:27520", "Received fatal alert: certificate_unknown"));
        }
    }

    @Test
    void aClosedOutboundConnectionIsTold() {
        String logged = "[outbound connection to [pekko://pipelab@127.0.0.1:27520], message stream] Upstream failed, cause: "
                + "StreamTcpException: The connection actor has terminated. Stopping now.";
        assertThat(Refusal.parse(logged).map(Refusal::kind)).hasValue(Refusal.Kind.CONNECTION_CLOSED);
    }

    @Test
    void otherWarningsAreNoRefusal() {
        assertThat(Refusal.parse("Cluster Node [pekko://pipelab@127.0.0.1:27522] - Couldn't join seed nodes after [2] attempts, "
                + "will try again. seed-nodes=[pekko://pipelab@127.0.0.1:27520]")).isEmpty();
        assertThat(Refusal.parse("[outbound connection to [pekko://pipelab@127.0.0.1:25520], control stream] Upstream failed, "
                + "cause: StreamTcpException: Tcp command [Connect(127.0.0.1/<unresolved>:25520,None,List(),Some(5000 milliseconds),"
                + "true)] failed because of java.net.ConnectException: Connection refused")).isEmpty();
    }
}
