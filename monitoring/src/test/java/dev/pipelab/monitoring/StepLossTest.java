package dev.pipelab.monitoring;

import dev.pipelab.monitoring.report.ReportJson;
import dev.pipelab.monitoring.report.RunReport;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pipelab.monitoring.dashboard.DashboardState;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Real-numerics runs emit {@link Event.StepLoss}: report.json lists the losses in step order as {@code loss}
 * (just before the run's {@code status} and {@code wallClock}), an emulated run's report has no such key, and the dashboard's snapshot
 * carries them.
 */
class StepLossTest {

    @Test
    void lossesReachReportJsonInStepOrderAndTheDashboard() throws Exception {
        List<Event> events = new ArrayList<>(TinyGPipe.events(3));
        events.add(new Event.StepLoss(2, 0.125));
        events.add(new Event.StepLoss(0, 2.75));
        events.add(new Event.StepLoss(1, 0.5000000000000001));
        String json = ReportJson.toJson(RunReport.of(RunTelemetry.of(TinyGPipe.info(), events), new WallClock("t", 0)));
        JsonNode r = new ObjectMapper().readTree(json);
        assertThat(r.path("loss").size()).isEqualTo(3);
        assertThat(r.path("loss").get(0).doubleValue()).isEqualTo(2.75);
        assertThat(r.path("loss").get(1).doubleValue()).isEqualTo(0.5000000000000001);
        assertThat(r.path("loss").get(2).doubleValue()).isEqualTo(0.125);
        List<String> keys = new ArrayList<>();
        r.fieldNames().forEachRemaining(keys::add);
        assertThat(keys.subList(keys.size() - 3, keys.size())).containsExactly("loss", "status", "wallClock");

        String emulated = ReportJson.toJson(RunReport.of(RunTelemetry.of(TinyGPipe.info(), TinyGPipe.events(3)), new WallClock("t", 0)));
        assertThat(new ObjectMapper().readTree(emulated).has("loss")).isFalse();

        DashboardState dashboard = new DashboardState(TinyGPipe.info());
        RunTelemetry telemetry = new RunTelemetry(TinyGPipe.info());
        telemetry.addListener(dashboard);
        for (Event e : events) telemetry.emit(e);
        JsonNode loss = dashboard.snapshot(0).path("loss");
        assertThat(loss.size()).isEqualTo(3);
        assertThat(loss.get(0).path("step").intValue()).isEqualTo(2);
        assertThat(loss.get(0).path("value").doubleValue()).isEqualTo(0.125);
    }
}
