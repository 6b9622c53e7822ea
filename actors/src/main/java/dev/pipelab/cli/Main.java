package dev.pipelab.cli;

import dev.pipelab.cluster.Compatibility;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;

/**
 * The {@code pipelab} command line. Exit codes: 0 success, 2 a user's mistake (scenario, flag, schedule),
 * 1 an internal error. Invariant: a user's mistake never prints a stack trace.
 */
@Command(name = "pipelab", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "A laboratory for pipeline-parallel training: plan it, run it, break it, watch it.",
        subcommands = {PlanCommand.class, ScheduleCommand.class, SearchCommand.class, ValidateCommand.class,
                SweepCommand.class, ValidateModelCommand.class, CalibrateCommand.class, RunCommand.class, GoodputCommand.class, NodeCommand.class, BenchCommand.class, ClusterCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        // initialise logging before any ActorSystem starts, so SLF4J does not replay (and announce) early calls
        LoggerFactory.getLogger(Main.class);
        int code = execute(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
        System.exit(code);
    }

    /** Runs the CLI with the given streams and returns the exit code (tests call this). */
    public static int execute(PrintWriter out, PrintWriter err, String... args) {
        return execute(CommandLine.defaultFactory(), out, err, args);
    }

    /** The same, with the commands made by {@code factory} (tests hand a command what the scenario cannot yet say). */
    static int execute(CommandLine.IFactory factory, PrintWriter out, PrintWriter err, String... args) {
        CommandLine cl = new CommandLine(new Main(), factory);
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler(new UserErrors());
        cl.setParameterExceptionHandler((ex, a) -> {
            err.println("pipelab: " + ex.getMessage());
            err.println("Try 'pipelab " + (ex.getCommandLine().getCommandName().equals("pipelab") ? "" : ex.getCommandLine().getCommandName() + " ") + "--help'.");
            return 2;
        });
        int code = cl.execute(args);
        out.flush();
        err.flush();
        return code;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** The jar's version, or {@code dev} when run from classes. */
    static String version() {
        return Compatibility.jarVersion();
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"pipelab " + version()};
        }
    }
}
