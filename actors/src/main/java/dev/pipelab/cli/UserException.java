package dev.pipelab.cli;

/** A user's mistake found by a command itself (a missing file, a bad flag value); exit code 2. */
final class UserException extends RuntimeException {
    UserException(String message) {
        super(message);
    }
}
