package dev.pipelab.monitoring;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class EventPumpTest {

    @Test
    void everyEventReachesEveryConsumerOnceInEmissionOrder() throws InterruptedException {
        List<Event> a = new ArrayList<>();
        List<Event> b = new ArrayList<>();
        EventPump pump = new EventPump(List.of(a::add, b::add), 5);
        List<Event> sent = new ArrayList<>();
        Thread[] emitters = new Thread[4];
        List<List<Event>> perThread = new ArrayList<>();
        for (int t = 0; t < emitters.length; t++) {
            List<Event> mine = new ArrayList<>();
            for (int i = 0; i < 5_000; i++) mine.add(new Event.StepLoss(t * 10_000 + i, i));
            perThread.add(mine);
            emitters[t] = new Thread(() -> mine.forEach(pump::emit));
        }
        for (Thread t : emitters) t.start();
        for (Thread t : emitters) t.join();
        pump.emit(new Event.StepEnded(0, 1.0, 1.0, 8));
        pump.close();
        for (List<Event> mine : perThread) sent.addAll(mine);
        assertThat(a).hasSize(sent.size() + 1).containsExactlyElementsOf(b);
        assertThat(a).containsAll(sent);
        // each emitter's own events arrive in the order it emitted them
        for (List<Event> mine : perThread) {
            List<Event> seen = a.stream().filter(mine::contains).toList();
            assertThat(seen).containsExactlyElementsOf(mine);
        }
        pump.close(); // idempotent
    }

    @Test
    void aConsumerThatThrowsDoesNotTakeTheEventsFromTheOthers() {
        List<Event> log = new ArrayList<>();
        EventSink broken = e -> {
            if (e.step() == 1) throw new IllegalStateException("a view's bug");
        };
        EventPump pump = new EventPump(List.of(broken, log::add), 5);
        for (int i = 0; i < 3; i++) pump.emit(new Event.StepLoss(i, i));
        pump.close();
        assertThat(log).extracting(Event::step).containsExactly(0, 1, 2);
        assertThat(pump.failure()).hasValueSatisfying(e -> assertThat(e).hasMessage("a view's bug"));
    }
}
