package dev.pipelab.cluster;

import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.management.javadsl.PekkoManagement;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A node's operations endpoint: Pekko Management's HTTP server with its cluster routes ({@code GET /cluster/members},
 * {@code /cluster/members/{address}}, {@code /cluster/domain-events}) and health checks ({@code GET /ready}: the node
 * is a member Up; {@code GET /alive}). Read-only: Pekko Management answers other methods with 405, so nobody downs a
 * node over HTTP. Where it listens is the node's config ({@link Node#config}: {@code pekko.management.http.*}).
 */
public final class Management {

    private Management() {}

    /**
     * Starts the endpoint on {@code system} and returns its base URL ({@code http://HOST:PORT}); fails with a one-line
     * reason (e.g. the port is taken) within 30 s.
     */
    public static String start(ActorSystem<?> system) {
        try {
            return PekkoManagement.get(system).start().toCompletableFuture().get(30, TimeUnit.SECONDS).toString();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting the management endpoint", e);
        } catch (ExecutionException | TimeoutException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new IllegalStateException("the management endpoint did not start: " + cause.getMessage(), cause);
        }
    }
}
