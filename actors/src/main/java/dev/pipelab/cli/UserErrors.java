package dev.pipelab.cli;

import dev.pipelab.plan.PlanningException;
import dev.pipelab.scenario.ScenarioError;
import dev.pipelab.scenario.ScenarioException;
import dev.pipelab.schedule.DeadlockException;
import dev.pipelab.schedule.ScheduleParseException;
import picocli.CommandLine;

import java.io.PrintWriter;

/**
 * Maps exceptions to exit codes: a user's mistake prints one line per problem and exits 2; anything else is
 * a bug in pipelab and exits 1 with its stack trace. Invariant: never a stack trace for a user's mistake.
 */
final class UserErrors implements CommandLine.IExecutionExceptionHandler {

    @Override
    public int handleExecutionException(Exception ex, CommandLine cl, CommandLine.ParseResult parsed) {
        PrintWriter err = cl.getErr();
        if (ex instanceof ScenarioException se) {
            for (ScenarioError e : se.errors()) err.println(e);
            err.println(se.errors().size() == 1 ? "1 error" : se.errors().size() + " errors");
            return 2;
        }
        if (ex instanceof PlanningException pe) {
            for (String p : pe.problems()) err.println(p);
            if (!pe.detail().isEmpty()) err.println(pe.detail());
            return 2;
        }
        if (ex instanceof ScheduleParseException spe) {
            err.println(spe.getMessage());
            return 2;
        }
        if (ex instanceof DeadlockException de) {
            err.println(de.getMessage());
            return 2;
        }
        if (ex instanceof UserException ue) {
            err.println(ue.line());
            return 2;
        }
        err.println("pipelab: internal error (a bug; please report it with the command line):");
        ex.printStackTrace(err);
        return 1;
    }
}
