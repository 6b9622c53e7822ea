package dev.pipelab.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** PyTorch's schedule CSV ({@code torch.distributed.pipelining}), written and read back. */
class PyTorchCsvTest {

    private static Schedule named(Schedule s, String name) {
        return new Schedule(name, s.ranks(), s.virtualStages(), s.microBatches(), s.splitBackward(), s.actionsByRank(),
                s.placement());
    }

    private static void roundTrips(Schedule s) {
        String csv = PyTorchCsv.format(s);
        String what = s.name() + " p=" + s.ranks() + " v=" + s.virtualStages() + " m=" + s.microBatches() + "\n" + csv;
        assertThat(PyTorchCsv.parse(csv, "x.csv")).as(what).isEqualTo(named(s, "custom"));
        // R has no PyTorch action: the recompute actions are left out, everything else comes back
        assertThat(PyTorchCsv.format(s.withRecompute())).as(what).isEqualTo(csv);
    }

    @Test
    void everyShippedScheduleRoundTripsOnAGrid() {
        int checked = 0;
        for (String name : Schedules.NAMES) {
            for (int p = 1; p <= 5; p++) {
                for (int m = 1; m <= 3 * p + 1; m++) {
                    if (name.equals("interleaved")) {
                        if (m % p != 0) continue;
                        for (int v = 2; v <= 3; v++) { roundTrips(Schedules.byName(name, p, v, m)); checked++; }
                    } else if (Schedules.V_SHAPED.contains(name)) {
                        if (name.equals("dualpipev") && m < 2 * p) continue;
                        roundTrips(Schedules.byName(name, p, 2, m));
                        checked++;
                    } else {
                        roundTrips(Schedules.byName(name, p, 1, m, new PassTimes(1, 2, 1, 0)));
                        checked++;
                    }
                }
            }
        }
        assertThat(checked).isGreaterThan(300);
    }

    @Test
    void theVPlacementAndTheSplitAreReadFromTheRows() {
        Schedule zbv = PyTorchCsv.parse(PyTorchCsv.format(VSchedules.zbV(3, 6)), "zbv.csv");
        assertThat(zbv.placement().name()).isEqualTo("v");
        assertThat(zbv.splitBackward()).isTrue();
        Schedule interleaved = PyTorchCsv.parse(PyTorchCsv.format(Schedules.interleaved(2, 3, 4)), "i.csv");
        assertThat(interleaved.placement().name()).isEqualTo("loop");
        assertThat(interleaved.virtualStages()).isEqualTo(3);
        assertThat(PyTorchCsv.parse(PyTorchCsv.format(Schedules.gpipe(2, 2)), "g.csv").splitBackward()).isFalse();
    }

    @Test
    void formatWritesPyTorchsActionNotation() {
        // unsplit: B is PyTorch's FULL_BACKWARD
        assertThat(PyTorchCsv.format(Schedules.oneFOneB(2, 2))).isEqualTo("""
                0F0,0F1,0B0,0B1
                1F0,1B0,1F1,1B1
                """);
        // split: B is BACKWARD_INPUT (I), W is BACKWARD_WEIGHT
        assertThat(PyTorchCsv.format(Schedules.zbH1(2, 2))).isEqualTo("""
                0F0,0F1,0I0,0W0,0I1,0W1
                1F0,1I0,1F1,1I1,1W0,1W1
                """);
        // recomputation is left out
        assertThat(PyTorchCsv.format(Schedules.gpipe(1, 2).withRecompute())).isEqualTo("0F0,0F1,0B0,0B1\n");
    }

    /**
     * pytorch/pytorch, test/distributed/pipelining/artifacts/zb1p_2rank_2stagep_compute.csv (commit a8e954a): the
     * compute-only ZB1P schedule ({@code ScheduleInterleavedZeroBubble}, 2 ranks, 2 stages each, 8 micro-batches) as
     * {@code _dump_csv} writes it, with an empty cell for an idle step.
     */
    static final String ZB1P_COMPUTE = """
            0F0,0F1,2F0,,2F1,2I0,2W0,0F2,2I1,2W1,0F3,0I0,0W0,2F2,0I1,0W1,2F3,2I2,2W2,0F4,2I3,2W3,0F5,0I2,0W2,2F4,0I3,0W3,2F5,2I4,2W4,0F6,2I5,2W5,0F7,0I4,0W4,2F6,0I5,0W5,2F7,2I6,2W6,2I7,2W7,0I6,0W6,0I7,0W7
            ,1F0,1F1,3F0,3I0,3F1,3I1,3W0,1F2,1I0,3W1,1F3,1I1,1W0,3F2,3I2,1W1,3F3,3I3,3W2,1F4,1I2,3W3,1F5,1I3,1W2,3F4,3I4,1W3,3F5,3I5,3W4,1F6,1I4,3W5,1F7,1I5,1W4,3F6,3I6,1W5,3F7,3I7,3W6,1I6,3W7,1I7,1W6,1W7
            """;

    /**
     * pytorch/pytorch, test/distributed/pipelining/artifacts/zb1p_2rank_2stagep_comms.csv (commit bf69c14): the same
     * schedule in the {@code compute_comms} format, with sends and receives, and rank 0 written with full backwards (B)
     * where the compute-only file has I then W.
     */
    static final String ZB1P_COMMS = """
            0F0,0SEND_F0,2RECV_F0,0F1,0SEND_F1,2RECV_F1,2F0,2SEND_F0,2F1,2SEND_F1,2RECV_B0,2B0,2SEND_B0,0F2,0SEND_F2,2RECV_B1,2B1,2SEND_B1,0F3,0SEND_F3,2RECV_F2,0RECV_B0,0B0,2F2,2SEND_F2,2RECV_F3,0RECV_B1,0B1,2F3,2SEND_F3,2RECV_B2,2B2,2SEND_B2,0F4,0SEND_F4,2RECV_B3,2B3,2SEND_B3,0F5,0SEND_F5,2RECV_F4,0RECV_B2,0B2,2F4,2SEND_F4,2RECV_F5,0RECV_B3,0B3,2F5,2SEND_F5,2RECV_B4,2B4,2SEND_B4,0F6,0SEND_F6,2RECV_B5,2B5,2SEND_B5,0F7,0SEND_F7,2RECV_F6,0RECV_B4,0B4,2F6,2SEND_F6,2RECV_F7,0RECV_B5,0B5,2F7,2SEND_F7,2RECV_B6,2B6,2SEND_B6,2RECV_B7,2B7,2SEND_B7,0RECV_B6,0B6,0RECV_B7,0B7
            1RECV_F0,1F0,1SEND_F0,1RECV_F1,1F1,1SEND_F1,3RECV_F0,3F0,3RECV_F1,3I0,3SEND_B0,1RECV_B0,3F1,1RECV_F2,3I1,3SEND_B1,1RECV_B1,3W0,1RECV_F3,1F2,1SEND_F2,1I0,1SEND_B0,3W1,3RECV_F2,1F3,1SEND_F3,1I1,1SEND_B1,1W0,3RECV_F3,3F2,3I2,3SEND_B2,1RECV_B2,1W1,1RECV_F4,3F3,3I3,3SEND_B3,1RECV_B3,3W2,1RECV_F5,1F4,1SEND_F4,1I2,1SEND_B2,3W3,3RECV_F4,1F5,1SEND_F5,1I3,1SEND_B3,1W2,3RECV_F5,3F4,3I4,3SEND_B4,1RECV_B4,1W3,1RECV_F6,3F5,3I5,3SEND_B5,1RECV_B5,3W4,1RECV_F7,1F6,1SEND_F6,1I4,1SEND_B4,3W5,3RECV_F6,1F7,1SEND_F7,1I5,1SEND_B5,1W4,3RECV_F7,3F6,3I6,3SEND_B6,1RECV_B6,1W5,3F7,3I7,3SEND_B7,1RECV_B7,3W6,1I6,1SEND_B6,3W7,1I7,1SEND_B7,1W6,1W7
            """;

    /**
     * pytorch/pytorch, test/distributed/pipelining/artifacts/dualpipev_4rank_10mb.csv (commit a2af973): PyTorch's
     * {@code ScheduleDualPipeV} for 4 ranks and 10 micro-batches, with its overlapped pairs and full backwards.
     */
    static final String DUALPIPEV_4_10 = """
            0F0,0F1,0F2,0F3,0F4,0F5,0F6,7F0,7I0,7W0,7F1,7I1,7W1,7F2,7I2,7W2,7F3,(0F7;7B3)OVERLAP_F_B,(7F4;0B0)OVERLAP_F_B,(0F8;7B4)OVERLAP_F_B,(7F5;0B1)OVERLAP_F_B,(0F9;7B5)OVERLAP_F_B,(7F6;0B2)OVERLAP_F_B,7B6,(7F7;0B3)OVERLAP_F_B,7B7,(7F8;0B4)OVERLAP_F_B,7B8,(7F9;0B5)OVERLAP_F_B,7B9,0I6,0W6,0I7,0W7,0I8,0W8,0I9,0W9
            1F0,1F1,1F2,1F3,1F4,6F0,1F5,6F1,6I0,6W0,6F2,6I1,6W1,6F3,(1F6;6B2)OVERLAP_F_B,(6F4;1B0)OVERLAP_F_B,(1F7;6B3)OVERLAP_F_B,(6F5;1B1)OVERLAP_F_B,(1F8;6B4)OVERLAP_F_B,(6F6;1B2)OVERLAP_F_B,(1F9;6B5)OVERLAP_F_B,(6F7;1B3)OVERLAP_F_B,6B6,(6F8;1B4)OVERLAP_F_B,6B7,(6F9;1B5)OVERLAP_F_B,6B8,1B6,6I9,1I7,6W9,1I8,1W7,1I9,1W8,1W9
            2F0,2F1,2F2,5F0,2F3,5F1,2F4,5F2,5I0,5W0,5F3,(2F5;5B1)OVERLAP_F_B,(5F4;2B0)OVERLAP_F_B,(2F6;5B2)OVERLAP_F_B,(5F5;2B1)OVERLAP_F_B,(2F7;5B3)OVERLAP_F_B,(5F6;2B2)OVERLAP_F_B,(2F8;5B4)OVERLAP_F_B,(5F7;2B3)OVERLAP_F_B,(2F9;5B5)OVERLAP_F_B,(5F8;2B4)OVERLAP_F_B,5B6,(5F9;2B5)OVERLAP_F_B,5B7,2B6,5B8,2I7,5I9,2I8,2W7,2I9,5W9,2W8,2W9
            3F0,4F0,3F1,4F1,3F2,4F2,3F3,4F3,3F4,4B0,(4F4;3B0)OVERLAP_F_B,(3F5;4B1)OVERLAP_F_B,(4F5;3B1)OVERLAP_F_B,(3F6;4B2)OVERLAP_F_B,(4F6;3B2)OVERLAP_F_B,(3F7;4B3)OVERLAP_F_B,(4F7;3B3)OVERLAP_F_B,(3F8;4B4)OVERLAP_F_B,(4F8;3B4)OVERLAP_F_B,(3F9;4B5)OVERLAP_F_B,(4F9;3B5)OVERLAP_F_B,4B6,3B6,4B7,3B7,4I8,3I8,4I9,3I9,4W8,3W8,4W9,3W9
            """;

    @Test
    void pytorchsOwnZb1pFileReadsAsTheScheduleItWrites() {
        Schedule s = PyTorchCsv.parse(ZB1P_COMPUTE, "zb1p.csv");
        assertThat(s.ranks()).isEqualTo(2);
        assertThat(s.virtualStages()).isEqualTo(2);
        assertThat(s.microBatches()).isEqualTo(8);
        assertThat(s.splitBackward()).isTrue();
        assertThat(s.placement()).isEqualTo(StagePlacement.loop(2, 2));
        assertThat(s.name()).isEqualTo("custom");
        // the empty cells (idle steps) are skipped; I is pipelab's B
        assertThat(s.actions(0).subList(0, 6)).containsExactly(Action.f(0, 0), Action.f(0, 1), Action.f(2, 0),
                Action.f(2, 1), Action.b(2, 0), Action.w(2, 0));
        assertThat(s.actions(1).subList(0, 5)).containsExactly(Action.f(1, 0), Action.f(1, 1), Action.f(3, 0),
                Action.b(3, 0), Action.f(3, 1));
        assertThat(s.actions(0)).hasSize(2 * 8 * 3);
        assertThat(ScheduleValidator.validate(s).isValid()).as(ScheduleValidator.validate(s).render()).isTrue();
        // the compute_comms file of the same schedule: transfers skipped, each full B read as B then W
        assertThat(PyTorchCsv.parse(ZB1P_COMMS, "zb1p_comms.csv")).isEqualTo(s);
    }

    @Test
    void pytorchsOwnDualPipeVFileIsPipelabsDualPipeV() {
        Schedule s = PyTorchCsv.parse(DUALPIPEV_4_10, "dualpipev.csv");
        assertThat(s.placement().name()).isEqualTo("v");
        assertThat(s).isEqualTo(named(VSchedules.dualPipeV(4, 10), "custom"));
    }

    @Test
    void emptyCellsSpacesCrLfAByteOrderMarkAndTrailingBlankLinesAreTolerated() {
        Schedule s = PyTorchCsv.parse("\uFEFF 0F0 ,,0F1,0B0 , 0B1\r\n,1F0,1B0,1F1,1B1\r\n\r\n  \n", "x.csv");
        assertThat(s).isEqualTo(new Schedule("custom", 2, 1, 2, false, List.of(
                List.of(Action.f(0, 0), Action.f(0, 1), Action.b(0, 0), Action.b(0, 1)),
                List.of(Action.f(1, 0), Action.b(1, 0), Action.f(1, 1), Action.b(1, 1)))));
    }

    @Test
    void communicationAndFsdpActionsAreSkippedAndFullBackwardsSplitOnlyInASplitSchedule() {
        Schedule unsplit = PyTorchCsv.parse("0UNSHARD,0F0,0SEND_F0,0RECV_B0,0B0,0RESHARD,0REDUCE_GRAD\n", "x.csv");
        assertThat(unsplit).isEqualTo(new Schedule("custom", 1, 1, 1, false, List.of(List.of(Action.f(0, 0), Action.b(0, 0)))));
        Schedule mixed = PyTorchCsv.parse("0F0,0F1,0B0,0I1,0W1\n", "x.csv");
        assertThat(mixed).isEqualTo(new Schedule("custom", 1, 1, 2, true, List.of(List.of(Action.f(0, 0), Action.f(0, 1),
                Action.b(0, 0), Action.w(0, 0), Action.b(0, 1), Action.w(0, 1)))));
        Schedule overlapped = PyTorchCsv.parse("0F0,0F1,1F0,1B0,(1F1;0B0)OVERLAP_F_B,1I1,0I1,1W1,0W1\n", "x.csv");
        assertThat(overlapped.actions(0)).containsExactly(Action.f(0, 0), Action.f(0, 1), Action.f(1, 0), Action.b(1, 0),
                Action.w(1, 0), Action.f(1, 1), Action.b(0, 0), Action.w(0, 0), Action.b(1, 1), Action.b(0, 1),
                Action.w(1, 1), Action.w(0, 1));
    }

    private static void fails(String csv, String message) {
        assertThatThrownBy(() -> PyTorchCsv.parse(csv, "s.csv")).as(csv)
                .isInstanceOf(ScheduleParseException.class).hasMessage(message);
    }

    @Test
    void aMalformedCellIsReportedWhereItIsWithWhatWasExpected() {
        String expected = ": expected <stage><F|I|B|W><micro-batch> (0F3, 1I0, 2W1, 0B2), a pair (0F7;7B3)OVERLAP_F_B"
                + " or a communication action (1SEND_F0, 2RECV_B3, 0UNSHARD, ...)";
        fails("0F0,0F1\n1F0, OF1\n", "s.csv:2:6: bad cell 'OF1'" + expected);
        fails("0F0,0f1\n", "s.csv:1:5: bad cell '0f1'" + expected);
        fails("0F0x\n", "s.csv:1:1: bad cell '0F0x'" + expected);
        fails("0F0 0B0\n", "s.csv:1:1: bad cell '0F0 0B0'" + expected);
        fails("0F0,-1B0\n", "s.csv:1:5: negative index in '-1B0': stages and micro-batches count from 0; " + expected.substring(2));
        fails("0F0,0B-1\n", "s.csv:1:5: bad cell '0B-1'" + expected);
        fails("0F0,0X0\n", "s.csv:1:5: unknown action type 'X' in '0X0': expected F, I, B, W, OVERLAP_F_B, SEND_F, RECV_F,"
                + " SEND_B, RECV_B, UNSHARD, RESHARD or REDUCE_GRAD");
        fails("0F12345678901\n", "s.csv:1:1: micro-batch index 12345678901 in '0F12345678901' is too large: expected at most 9 digits");
        fails("12345678901F0\n", "s.csv:1:1: stage index 12345678901 in '12345678901F0' is too large: expected at most 9 digits");
        fails("0F0,0B\n", "s.csv:1:5: '0B' has no micro-batch: expected <stage>B<micro-batch>, e.g. 0B0");
        fails("0F0,0SEND_F,0B0\n", "s.csv:1:5: '0SEND_F' has no micro-batch: expected <stage>SEND_F<micro-batch>");
        fails("0F0,0OVERLAP_F_B\n", "s.csv:1:5: '0OVERLAP_F_B' names no pair: an OVERLAP_F_B cell is written (0F7;7B3)OVERLAP_F_B");
        fails("0F0,(0F1;0B0)OVERLAP\n", "s.csv:1:5: bad cell '(0F1;0B0)OVERLAP': a parenthesized pair is written (0F7;7B3)OVERLAP_F_B");
        fails("0F0,(0F1;0B0\n", "s.csv:1:5: bad cell '(0F1;0B0': a parenthesized pair is written (0F7;7B3)OVERLAP_F_B");
        fails("0F0,(0F1; 0SEND_F1)OVERLAP_F_B\n", "s.csv:1:11: bad action '0SEND_F1' in an OVERLAP_F_B pair: expected <stage><F|I|B|W><micro-batch>");
        fails("0F0,( ; )OVERLAP_F_B\n", "s.csv:1:5: empty OVERLAP_F_B pair '( ; )OVERLAP_F_B': expected two actions, (0F7;7B3)OVERLAP_F_B");
    }

    @Test
    void aFileWhoseRowsDoNotFormAPipelineIsReportedAtTheCellThatShowsIt() {
        fails("", "s.csv:1:1: no rank rows: expected one CSV line of actions per rank");
        fails("\n\n", "s.csv:3:1: no rank rows: expected one CSV line of actions per rank");
        fails("0F0,0B0\n,,\n1F0,1B0\n", "s.csv:2:1: rank 1 has no compute action (F, I, B or W): every line is a rank"
                + " (PyTorch reads a blank line as one too), and every rank holds a model stage");
        fails("0F0,0B0\n\n1F0,1B0\n", "s.csv:2:1: rank 1 has no compute action (F, I, B or W): every line is a rank"
                + " (PyTorch reads a blank line as one too), and every rank holds a model stage");
        fails("0F0,1F0,1B0,0B0\n2F0,1B0\n", "s.csv:2:5: stage 1 is on rank 1 here and on rank 0 (line 1): a model stage runs on one rank");
        fails("0F0,0B0\n3F0,3B0\n", "s.csv:2:1: stage 3 named, but no rank runs stage 1: expected every stage 0..3 on some rank");
        fails("0F0,0B0\n999999999F0\n", "s.csv:2:1: stage 999999999 named, but no rank runs stage 1: expected every stage 0..999999999 on some rank");
        fails("0F0,2F0\n1F0\n", "s.csv:1:5: 3 stages (0..2) do not divide among 2 ranks (one line each): expected a multiple of 2");
        fails("0F0,2F0,3F0\n1F0\n", "s.csv:1:1: rank 0 holds 3 stages, expected 2 (4 stages on 2 ranks): every rank holds the same number of stages");
        fails("1F0,1B0\n0F0,0B0\n", "s.csv:2:1: stage 0 is on rank 1: expected rank 0 (the first line), where pipelab's data loader feeds the pipeline");
        fails("0F0,0F2,0B0,0B2\n", "s.csv:1:5: micro-batch 2 named, but no action runs micro-batch 1: expected micro-batches 0..2");
        fails("0F0,0F999999999\n", "s.csv:1:5: micro-batch 999999999 named, but no action runs micro-batch 1: expected micro-batches 0..999999999");
    }

    @Test
    void aParsedScheduleThatCannotRunStillParsesSoTheValidatorCanShowIt() {
        // a backward before its forward: well-formed rows, a schedule that deadlocks
        Schedule s = PyTorchCsv.parse("0F0,0F1,0B0,0B1\n1F0,1B1,1B0,1F1\n", "s.csv");
        ScheduleValidator.Result result = ScheduleValidator.validate(s);
        assertThat(result.isValid()).isFalse();
        assertThat(result.render()).contains("[1B1]");
    }
}
