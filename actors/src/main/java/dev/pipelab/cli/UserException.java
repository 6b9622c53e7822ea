package dev.pipelab.cli;

/** A user's mistake found by a command itself (a missing file, a bad flag value); exit code 2. */
class UserException extends RuntimeException {
    UserException(String message) {
        super(message);
    }

    /** The line the user reads: {@code pipelab: MESSAGE}. */
    String line() {
        return "pipelab: " + getMessage();
    }

    /** A mistake whose message already names the command ({@code pipelab run: ...}), printed as it is. */
    static final class Named extends UserException {
        Named(String line) {
            super(line);
        }

        @Override
        String line() {
            return getMessage();
        }
    }
}
