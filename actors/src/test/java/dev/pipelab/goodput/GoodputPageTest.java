package dev.pipelab.goodput;

import dev.pipelab.fault.RandomFaults;
import dev.pipelab.fault.RecoverySpec;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

import static org.assertj.core.api.Assertions.assertThat;

/** The page stays light and well-formed however long the run: 54 days with thousands of interruptions. */
class GoodputPageTest {

    static final String SVG = "http://www.w3.org/2000/svg";

    static Document parse(String page) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        return f.newDocumentBuilder().parse(new ByteArrayInputStream(page.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void fiftyFourDaysOfFrequentFailuresMakeALightPage() throws Exception {
        // 10 s steps for 54 days (466,560 steps) failing every 6 minutes: about 13,000 interruptions, each recovered
        // from in 42 s (no node leaves for repair)
        RandomFaults often = new RandomFaults(11, 1.0, Optional.of(0.1), 2, List.of(
                new RandomFaults.Rate(RandomFaults.Kind.GPU, Double.NaN, 0.6, Double.NaN, 0),
                new RandomFaults.Rate(RandomFaults.Kind.HOST, Double.NaN, 0.2, Double.NaN, 0),
                new RandomFaults.Rate(RandomFaults.Kind.UNKNOWN, Double.NaN, 0.2, Double.NaN, 0)), Optional.empty());
        Goodput.Input in = new Goodput.Input(10, 4_000_000_000L, 1000, new RecoverySpec(4, 2e9, 10, 30, 0.2, 1800, 1_000_000, false), often, 2, 4, 2,
                8, Long.MAX_VALUE, 54 * 86400.0);
        List<GoodputReport.SweepRow> rows = new ArrayList<>();
        for (int every : new int[] {2, 4, 8}) rows.add(GoodputReport.SweepRow.of(Goodput.emulate(in.withCheckpointEvery(every), Goodput.Progress.NONE)));
        GoodputReport report = new GoodputReport("often", Goodput.emulate(in, Goodput.Progress.NONE), rows, OptionalLong.empty());
        assertThat(report.result().interruptions().size()).isGreaterThan(10_000);

        String summary = GoodputText.render(report);
        String page = GoodputPage.render(report, summary);
        assertThat(page.length()).isLessThan(300_000);
        Document doc = parse(page);
        assertThat(doc.getElementsByTagNameNS(SVG, "svg").getLength()).isEqualTo(2);
        // self-contained: nothing to fetch (the only URIs are the XML namespaces)
        assertThat(page).doesNotContain("src=", "href=", "<script", "@import");
        org.w3c.dom.Element curve = (org.w3c.dom.Element) doc.getElementsByTagNameNS(SVG, "svg").item(1);
        assertThat(curve.getAttribute("id")).isEqualTo("curve");
        // the Young/Daly optimum is a dashed line in the curve, labelled with its steps
        assertThat(curve.getTextContent()).contains("Young/Daly " + GoodputText.plain(report.youngDaly().steps()) + " steps",
                "best: every " + report.best().orElseThrow().checkpointEverySteps() + " steps");
        assertThat(curve.getElementsByTagNameNS(SVG, "line").getLength()).isGreaterThan(0);
        boolean dashed = false;
        for (int k = 0; k < curve.getElementsByTagNameNS(SVG, "line").getLength(); k++) {
            dashed |= ((org.w3c.dom.Element) curve.getElementsByTagNameNS(SVG, "line").item(k)).hasAttribute("stroke-dasharray");
        }
        assertThat(dashed).isTrue();
        // every kind in the legend and in the dots
        for (String kind : List.of("gpu", "host", "unknown")) assertThat(page).contains(">" + kind + "</text>", "<title>" + kind);
    }
}
