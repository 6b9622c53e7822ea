package dev.pipelab.cluster;

import dev.pipelab.cli.Main;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Worker processes of {@code pipelab node} for integration tests: real JVMs on 127.0.0.1 with free ports, started
 * from this test's class path, their stderr in {@code out}. Invariant: every process started is remembered before
 * anything waits for it, so that {@link #reap} stops it whatever failed.
 */
public final class WorkerProcesses implements AutoCloseable {

    private static final Pattern UP = Pattern.compile("^pipelab node: up worker (pekko://pipelab@(\\S+)) slots=(\\d+) version=\\S+$");
    /** A loaded 2-core machine took 53 s to bring three workers up once; twice that is still a hang, not a slow start. */
    private static final int UP_SECONDS = 120;

    /** A started worker and the address its {@code up} line gave. */
    public record Worker(Process process, String address, String hostPort) {
        /** The worker's Artery port. */
        public int port() {
            return Integer.parseInt(hostPort.substring(hostPort.lastIndexOf(':') + 1));
        }
    }

    private final Path out;
    private final List<Process> started = new ArrayList<>();
    private final List<Worker> workers = new ArrayList<>();

    public WorkerProcesses(Path out) {
        this.out = out;
    }

    /** {@code n} workers up, their stderr in {@code out}; {@link #close} reaps them (use try-with-resources). */
    public static WorkerProcesses start(int n, Path out) throws IOException, InterruptedException {
        WorkerProcesses w = new WorkerProcesses(out);
        try {
            w.startCluster(n);
            return w;
        } catch (IOException | InterruptedException | RuntimeException | AssertionError e) {
            w.close();
            throw e;
        }
    }

    /** The cluster's seed (the first worker), {@code host:port}, for {@code pipelab run --cluster}. */
    public String seed() {
        return workers.get(0).hostPort();
    }

    /** The workers in the coordinator's order (by host, then port: all hosts are 127.0.0.1), which explicit numbers. */
    public List<Worker> inCoordinatorOrder() {
        return workers.stream().sorted(java.util.Comparator.comparingInt(Worker::port)).toList();
    }

    /** Reaps every worker (SIGTERM, then SIGKILL after 20 s). */
    @Override
    public void close() throws InterruptedException {
        reap(List.of());
    }

    /** {@code n} workers: the first is the first seed, the others join it side by side (faster than one by one). */
    List<Worker> startCluster(int n) throws IOException, InterruptedException {
        Files.createDirectories(out);
        List<Worker> workers = new ArrayList<>();
        Worker first = start(0, List.of());
        workers.add(first);
        List<CompletableFuture<Worker>> others = new ArrayList<>();
        for (int i = 1; i < n; i++) others.add(startAsync(i, List.of("--seeds", first.hostPort())));
        for (CompletableFuture<Worker> w : others) workers.add(w.join());
        this.workers.addAll(workers);
        return workers;
    }

    private CompletableFuture<Worker> startAsync(int index, List<String> extra) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return start(index, extra);
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    /** {@code java -cp <this test's class path> dev.pipelab.cli.Main node --role worker --port 0 ...}, up. */
    Worker start(int index, List<String> extra) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "node", "--role", "worker", "--host", "127.0.0.1", "--port", "0"));
        cmd.addAll(extra);
        Process p = new ProcessBuilder(cmd).redirectError(out.resolve("worker-" + index + ".err").toFile()).start();
        synchronized (started) {
            started.add(p);
        }
        BufferedReader stdout = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> {
            try {
                return stdout.readLine();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        String up;
        try {
            up = line.get(UP_SECONDS, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("worker " + index + " printed no up line within " + UP_SECONDS + " s (see " + out + ")", e);
        }
        assertThat(up).as("worker %d's first line", index).isNotNull().matches(UP);
        Matcher m = UP.matcher(up);
        assertThat(m.matches()).isTrue();
        return new Worker(p, m.group(1), m.group(2));
    }

    /**
     * Stops every process, whatever happened: SIGTERM, then SIGKILL after 20 s. Returns what SIGTERM did not do as it
     * must (leave the cluster and exit 0), one line per process, leaving out the processes in {@code killed}.
     */
    List<String> reap(List<Process> killed) throws InterruptedException {
        List<Process> all;
        synchronized (started) {
            all = List.copyOf(started);
        }
        for (Process p : all) p.destroy();
        List<String> unclean = new ArrayList<>();
        for (Process p : all) {
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
                unclean.add("pid " + p.pid() + " ignored SIGTERM for 20 s and was killed");
            } else if (p.exitValue() != 0 && !killed.contains(p)) {
                unclean.add("pid " + p.pid() + " exited " + p.exitValue() + " on SIGTERM");
            }
        }
        return unclean;
    }
}
