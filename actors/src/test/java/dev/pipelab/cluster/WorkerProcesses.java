package dev.pipelab.cluster;

import dev.pipelab.cli.Main;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Worker processes of {@code pipelab node} for end-to-end tests, started as {@link ClusterRunIT} starts its own: real
 * JVMs on 127.0.0.1, free ports, this test's class path, the first one the seed of the others. Invariant: every process
 * started is reaped by {@link #close()} (SIGTERM, then SIGKILL after 20 s), also when starting failed half-way.
 */
public final class WorkerProcesses implements AutoCloseable {

    private static final Pattern UP = Pattern.compile("^pipelab node: up worker (pekko://pipelab@(\\S+)) slots=(\\d+) version=\\S+$");

    /** A started worker: its cluster address ({@code pekko://pipelab@127.0.0.1:PORT}) and {@code host:port}. */
    public record Worker(Process process, String address, String hostPort, int port) {}

    private final List<Process> started = new ArrayList<>();
    private final List<Worker> workers = new ArrayList<>();
    private final Path logs;

    private WorkerProcesses(Path logs) {
        this.logs = logs;
    }

    /** Starts {@code n} workers that form one cluster, each up (its {@code up} line printed) within 60 s. */
    public static WorkerProcesses start(int n, Path logs) throws IOException {
        Files.createDirectories(logs);
        WorkerProcesses w = new WorkerProcesses(logs);
        try {
            Worker first = w.startOne(0, List.of());
            w.workers.add(first);
            // the others join the first together: JVMs start faster side by side than one after the other
            List<CompletableFuture<Worker>> others = new ArrayList<>();
            for (int i = 1; i < n; i++) {
                int index = i;
                others.add(CompletableFuture.supplyAsync(() -> w.startOne(index, List.of("--seeds", first.hostPort()))));
            }
            for (CompletableFuture<Worker> o : others) w.workers.add(o.join());
            return w;
        } catch (RuntimeException | Error e) {
            w.close();
            throw e;
        }
    }

    /** The seed of the cluster, {@code host:port}, for {@code pipelab run --cluster}. */
    public String seed() {
        return workers.get(0).hostPort();
    }

    /** The workers in the coordinator's order (by host, then port: all hosts are 127.0.0.1), which explicit numbers. */
    public List<Worker> inCoordinatorOrder() {
        return workers.stream().sorted(Comparator.comparingInt(Worker::port)).toList();
    }

    private Worker startOne(int index, List<String> extra) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "node", "--role", "worker", "--host", "127.0.0.1", "--port", "0"));
        cmd.addAll(extra);
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectError(logs.resolve("worker-" + index + ".err").toFile()).start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start worker " + index, e);
        }
        synchronized (started) {
            started.add(p);
        }
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> {
            try {
                return out.readLine();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        String up;
        try {
            up = line.get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("worker " + index + " printed no up line within 60 s (see " + logs + ")", e);
        }
        Matcher m = up == null ? null : UP.matcher(up);
        if (m == null || !m.matches()) throw new AssertionError("worker " + index + "'s first line: " + up + " (see " + logs + ")");
        String hostPort = m.group(2);
        return new Worker(p, m.group(1), hostPort, Integer.parseInt(hostPort.substring(hostPort.lastIndexOf(':') + 1)));
    }

    /** Reaps every process: SIGTERM, then SIGKILL after 20 s. */
    @Override
    public void close() {
        List<Process> all;
        synchronized (started) {
            all = List.copyOf(started);
        }
        for (Process p : all) p.destroy();
        for (Process p : all) {
            try {
                if (!p.waitFor(20, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    p.waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }
}
