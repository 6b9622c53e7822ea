package dev.pipelab.monitoring.report;

import dev.pipelab.monitoring.Event;
import dev.pipelab.monitoring.MemoryInfo;
import dev.pipelab.monitoring.RunTelemetry;
import dev.pipelab.monitoring.WallClock;
import dev.pipelab.monitoring.synthetic.FaultyRun;
import dev.pipelab.monitoring.synthetic.SyntheticRun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class HtmlReportTest {

    @Test
    void aFaultyRunsFaultsPanelHasTheSummarysLines(@TempDir Path dir) throws Exception {
        SyntheticRun run = new SyntheticRun(2, 1, 2, 0.5, 0, 3);
        RunTelemetry telemetry = RunTelemetry.of(run.info(), FaultyRun.events(run.info()));
        RunReport report = RunReport.of(telemetry, new WallClock("t", 0));
        Path file = dir.resolve("report.html");
        HtmlReport.write(report, List.of(), file);
        var factory = DocumentBuilderFactory.newInstance();
        factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", false);
        Document doc = factory.newDocumentBuilder().parse(file.toFile());
        NodeList items = byId(doc, "faults").getElementsByTagName("li");
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < items.getLength(); i++) lines.add(items.item(i).getTextContent());
        assertThat(lines).isEqualTo(FaultLines.of(report).stream().map(String::strip).toList()).hasSize(6);
        assertThat(lines.get(4)).startsWith("goodput     50.0%");
    }

    @Test
    void selfContainedWellFormedPageWithOneTimelineRowPerRank(@TempDir Path dir) throws Exception {
        SyntheticRun run = new SyntheticRun(6, 2, 4, 0.5, 0.3, 3);
        List<Event> events = new ArrayList<>(run.steps(2));
        events.addAll(run.nextStep(b -> b.outOfMemory(1, 3, 3, 1.0, 90_000_000_000L, SyntheticRun.DEVICE_BYTES)));
        var info = run.info().with("virtual", 1, Optional.of(MemoryInfo.of(10, 20, 30, 40)));
        RunTelemetry telemetry = RunTelemetry.of(info, events);
        RunReport report = RunReport.of(telemetry, new WallClock("2026-11-28T03:00:00Z", 1.5));
        Path file = dir.resolve("report.html");
        HtmlReport.write(report, telemetry.lastSummary().orElseThrow().ended().stages(), file);
        String html = Files.readString(file);
        Files.createDirectories(Path.of("target"));
        Files.copy(file, Path.of("target", "report-sample.html"), StandardCopyOption.REPLACE_EXISTING);

        var factory = DocumentBuilderFactory.newInstance();
        factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", false);
        Document doc = factory.newDocumentBuilder().parse(new ByteArrayInputStream(html.getBytes(StandardCharsets.UTF_8)));

        Element timeline = byId(doc, "timeline");
        List<String> ranks = new ArrayList<>();
        NodeList groups = timeline.getElementsByTagName("g");
        for (int i = 0; i < groups.getLength(); i++) {
            Element g = (Element) groups.item(i);
            if (g.getAttribute("class").equals("row")) ranks.add(g.getAttribute("data-rank"));
        }
        assertThat(ranks).containsExactly("0", "1", "2", "3", "4", "5");
        // every rank of replica 0 drew its spans of the last step: F and B per micro-batch and the optimizer
        for (int i = 0; i < groups.getLength(); i++) {
            assertThat(((Element) groups.item(i)).getElementsByTagName("rect").getLength()).isEqualTo(1 + 4 + 4 + 1);
        }
        assertThat(byId(doc, "stages").getElementsByTagName("tr").getLength()).isEqualTo(1 + 6);
        assertThat(byId(doc, "memory").getElementsByTagName("g").getLength()).isEqualTo(6);
        assertThat(byId(doc, "steptime").getElementsByTagName("circle").getLength()).isEqualTo(3);
        assertThat(byId(doc, "throughput").getElementsByTagName("path").getLength()).isEqualTo(1);
        assertThat(html).doesNotContain("id=\"loss\""); // an emulated run has no loss to draw
        assertThat(byId(doc, "scenario").getTextContent()).isEqualTo("synthetic");
        assertThat(byId(doc, "plan").getTextContent()).contains("p=6 d=2").contains("12 devices");
        assertThat(byId(doc, "report-json").getTextContent()).contains("\"stepTimeSeconds\": " + report.stepTimeSeconds());
        assertThat(byId(doc, "faults").getTextContent()).contains("out of memory: step 2, rank 3 of replica 1 needs");

        assertThat(html).doesNotContain("http:").doesNotContain("https:").doesNotContain("//")
                .doesNotContain("src=").doesNotContain("href=").doesNotContain("url(").doesNotContain("@import");
    }

    @Test
    void aRealRunDrawsItsLossPerStep() throws Exception {
        SyntheticRun run = new SyntheticRun(2, 1, 2, 0.5, 0.2, 1);
        List<Event> events = new ArrayList<>(run.steps(3));
        double[] losses = {2.3026, 1.875, 0.5};
        for (int k = 0; k < losses.length; k++) events.add(new Event.StepLoss(k, losses[k]));
        RunTelemetry telemetry = RunTelemetry.of(run.info(), events);
        RunReport report = RunReport.of(telemetry, new WallClock("2026-11-28T03:00:00Z", 1));
        assertThat(report.loss()).containsExactly(2.3026, 1.875, 0.5);
        String html = HtmlReport.render(report, telemetry.lastSummary().orElseThrow().ended().stages());
        var factory = DocumentBuilderFactory.newInstance();
        factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", false);
        Document doc = factory.newDocumentBuilder().parse(new ByteArrayInputStream(html.getBytes(StandardCharsets.UTF_8)));
        Element loss = byId(doc, "loss");
        NodeList dots = loss.getElementsByTagName("circle");
        assertThat(dots.getLength()).isEqualTo(3);
        assertThat(dots.item(0).getTextContent()).isEqualTo("step 0: 2.303");
        assertThat(dots.item(2).getTextContent()).isEqualTo("step 2: 0.5000");
        // the highest loss is drawn highest (smallest y)
        double y0 = Double.parseDouble(((Element) dots.item(0)).getAttribute("cy"));
        double y2 = Double.parseDouble(((Element) dots.item(2)).getAttribute("cy"));
        assertThat(y0).isLessThan(y2);
    }

    @Test
    void aClusterRunNamesEachRanksNodes() throws Exception {
        SyntheticRun run = new SyntheticRun(2, 2, 2, 0.5, 0.2, 1);
        RunTelemetry telemetry = RunTelemetry.of(run.deployedOn(3), run.steps(1));
        RunReport report = RunReport.of(telemetry, new WallClock("t", 0));
        String html = HtmlReport.render(report, telemetry.lastSummary().orElseThrow().ended().stages());
        Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new ByteArrayInputStream(html.getBytes(StandardCharsets.UTF_8)));
        NodeList nodes = byId(doc, "stages").getElementsByTagName("td");
        List<String> cells = new ArrayList<>();
        for (int i = 0; i < nodes.getLength(); i++) {
            Element td = (Element) nodes.item(i);
            if (td.getAttribute("class").equals("node")) cells.add(td.getTextContent());
        }
        assertThat(cells).containsExactly("127.0.0.1:25521, 127.0.0.1:25523", "127.0.0.1:25522, 127.0.0.1:25521");
        NodeList titles = byId(doc, "timeline").getElementsByTagName("title");
        assertThat(titles.item(0).getTextContent()).isEqualTo("replica 0 rank 0 @ 127.0.0.1:25521");
        // the addresses in the embedded report.json do not read as references
        assertThat(html).contains("pekko:/&#8203;/pipelab@127.0.0.1:25522").doesNotContain("//");

        String embedded = HtmlReport.render(RunReport.of(RunTelemetry.of(run.info(), run.steps(1)), new WallClock("t", 0)), List.of());
        assertThat(embedded).doesNotContain("class=\"node\"").doesNotContain("127.0.0.1");
    }

    @Test
    void aRunWithoutStepsStillRenders() throws Exception {
        SyntheticRun run = new SyntheticRun(3, 1, 2, 1, 0, 1);
        String html = HtmlReport.render(RunReport.of(new RunTelemetry(run.info()), new WallClock("t//x", 0)), List.of());
        var factory = DocumentBuilderFactory.newInstance();
        Document doc = factory.newDocumentBuilder().parse(new ByteArrayInputStream(html.getBytes(StandardCharsets.UTF_8)));
        assertThat(byId(doc, "timeline").getElementsByTagName("g").getLength()).isEqualTo(3);
        assertThat(html).contains("no completed step").doesNotContain("//");
    }

    @Test
    void aRunThatFailedSaysSoInItsHeadlineNumbers() throws Exception {
        SyntheticRun run = new SyntheticRun(2, 1, 2, 1, 0, 1);
        RunReport report = RunReport.of(RunTelemetry.of(run.info(), run.steps(1)),
                RunReport.Outcome.failed("out of memory at step 1 <rank 1>\nmore"), new WallClock("t", 0));
        String html = HtmlReport.render(report, List.of());
        Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new ByteArrayInputStream(html.getBytes(StandardCharsets.UTF_8)));
        assertThat(byId(doc, "numbers").getTextContent()).contains("run failed", "out of memory at step 1 <rank 1>")
                .doesNotContain("more");
        assertThat(byId(doc, "report-json").getTextContent()).contains("\"status\": \"failed\"");
    }

    private static Element byId(Document doc, String id) {
        NodeList all = doc.getElementsByTagName("*");
        for (int i = 0; i < all.getLength(); i++) {
            Element e = (Element) all.item(i);
            if (e.getAttribute("id").equals(id)) return e;
        }
        throw new AssertionError("no element #" + id);
    }
}
