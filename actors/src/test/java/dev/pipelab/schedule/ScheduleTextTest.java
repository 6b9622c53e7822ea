package dev.pipelab.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class ScheduleTextTest {

    @Test
    void gridAlignsColumnsAndLabelsRanks() {
        Schedule s = new Schedule("custom", 2, 1, 11, false, List.of(
                List.of(Action.f(0, 9), Action.f(0, 10)),
                List.of(Action.f(1, 9))));
        assertThat(ScheduleText.grid(s)).isEqualTo("""
                rank 0 | 0F9  0F10
                rank 1 | 1F9
                """);
    }

    @Test
    void parsesWithoutHeaderIgnoringBlankLinesAndComments() {
        Schedule s = ScheduleText.parse("""
                # two ranks, two chunks each

                0F0 2F0 2B0 0B0
                1F0 3F0 3B0 1B0
                """, "a.txt");
        assertThat(s).isEqualTo(new Schedule("custom", 2, 2, 1, false, List.of(
                List.of(Action.f(0, 0), Action.f(2, 0), Action.b(2, 0), Action.b(0, 0)),
                List.of(Action.f(1, 0), Action.f(3, 0), Action.b(3, 0), Action.b(1, 0)))));
    }

    @Test
    void anEmptyRankIsWrittenAsADash() {
        Schedule s = new Schedule("custom", 2, 1, 1, false, List.of(List.of(Action.f(0, 0), Action.b(0, 0)), List.of()));
        assertThat(ScheduleText.format(s)).isEqualTo("# name=custom p=2 v=1 m=1 split=false\n0F0 0B0\n-\n");
        assertThat(ScheduleText.parse(ScheduleText.format(s), "x")).isEqualTo(s);
    }

    @Test
    void aBadActionIsReportedWithSourceLineAndColumn() {
        assertThatThrownBy(() -> ScheduleText.parse("0F0 0F1\n0F2 OF3 0B0\n", "plans/s.txt"))
                .isInstanceOf(ScheduleParseException.class)
                .hasMessage("plans/s.txt:2:5: bad action 'OF3': expected <stage><F|B|W|R><microBatch>");
        assertThatThrownBy(() -> ScheduleText.parse("0F0,0F1\n", "s"))
                .hasMessage("s:1:1: bad action '0F0,0F1': expected <stage><F|B|W|R><microBatch>");
        assertThatThrownBy(() -> ScheduleText.parse("0X0\n", "s"))
                .hasMessage("s:1:1: bad action '0X0': expected <stage><F|B|W|R><microBatch>");
    }

    @Test
    void headerProblemsAreReportedAtTheHeader() {
        assertThatThrownBy(() -> ScheduleText.parse("# name=1f1b p=2 v=1 m=1 split=false\n0F0 0B0\n", "s"))
                .hasMessage("s:1:1: header says p=2 but found 1 rank rows");
        assertThatThrownBy(() -> ScheduleText.parse("# name=1f1b p=0 v=1 m=1 split=false\n0F0\n", "s"))
                .hasMessage("s:1:13: header p must be an integer >= 1, got '0'");
        assertThatThrownBy(() -> ScheduleText.parse("# name=1f1b p=1 v=1 m=1 split=maybe\n0F0\n", "s"))
                .hasMessage("s:1:25: header split must be true or false, got 'maybe'");
        assertThatThrownBy(() -> ScheduleText.parse("# name=1f1b p=1 v=1\n0F0\n", "s"))
                .hasMessage("s:1:1: incomplete header: expected name=, p=, v=, m= and split=");
        assertThatThrownBy(() -> ScheduleText.parse("\n\n", "s"))
                .hasMessage("s:3:1: no rank rows: expected one line of actions per rank");
    }

    @Test
    void aParsedScheduleThatIsBrokenStillParsesSoTheValidatorCanShowIt() {
        Schedule s = ScheduleText.parse("# name=custom p=1 v=1 m=2 split=false\n0F0 0B1\n", "s");
        assertThat(ScheduleValidator.validate(s).isValid()).isFalse();
    }
}
