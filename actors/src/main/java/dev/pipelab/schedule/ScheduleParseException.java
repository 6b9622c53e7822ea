package dev.pipelab.schedule;

/**
 * The message is one line, {@code source:line:col: what was expected and what came}, with 1-based line and
 * column: a schedule text that cannot be read.
 */
public final class ScheduleParseException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String source;
    private final int line;
    private final int column;

    public ScheduleParseException(String source, int line, int column, String message) {
        super(source + ":" + line + ":" + column + ": " + message);
        this.source = source;
        this.line = line;
        this.column = column;
    }

    /** Name of the text's origin (a file name, {@code <flag>}, ...). */
    public String source() { return source; }

    /** 1-based line of the problem. */
    public int line() { return line; }

    /** 1-based column of the problem. */
    public int column() { return column; }
}
