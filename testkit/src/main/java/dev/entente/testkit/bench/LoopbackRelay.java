package dev.entente.testkit.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP relay on loopback between a consumer and its supplier, for a real network partition: while
 * partitioned it cuts every connection and refuses new ones, as a failed link does; healed, it
 * relays bytes again. TLS passes through it untouched (the nodes pin keys, not addresses).
 */
final class LoopbackRelay implements AutoCloseable {
    private final ServerSocket listener;
    private final int target;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private volatile boolean partitioned;
    private volatile boolean closed;

    LoopbackRelay(int targetPort) throws IOException {
        this.target = targetPort;
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread t = new Thread(this::accept, "relay-to-" + targetPort);
        t.setDaemon(true);
        t.start();
    }

    int port() {
        return listener.getLocalPort();
    }

    private void accept() {
        while (!closed) {
            Socket in;
            try {
                in = listener.accept();
            } catch (IOException e) {
                if (!closed) {
                    System.err.println("relay to port " + target + " stopped accepting: " + e.getMessage());
                }
                return;
            }
            try {
                Socket out = new Socket(InetAddress.getLoopbackAddress(), target);
                in.setTcpNoDelay(true);
                out.setTcpNoDelay(true);
                // checked and registered together with partition(), so that no connection
                // accepted while the partition begins survives it
                synchronized (this) {
                    if (partitioned) {
                        quietClose(in);
                        quietClose(out);
                        continue;
                    }
                    sockets.add(in);
                    sockets.add(out);
                }
                pump(in, out);
                pump(out, in);
            } catch (IOException e) {
                // the supplier is down: the consumer sees its connection closed, as it would directly
                quietClose(in);
            }
        }
    }

    private void pump(Socket from, Socket to) {
        Thread t = new Thread(() -> {
            byte[] buffer = new byte[64 * 1024];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                for (int n; (n = in.read(buffer)) >= 0; ) {
                    out.write(buffer, 0, n);
                }
            } catch (SocketException e) {
                // closed by a partition or by either end: both ends see the connection go
            } catch (IOException e) {
                System.err.println("relay to port " + target + ": " + e.getMessage());
            } finally {
                quietClose(from);
                quietClose(to);
                sockets.remove(from);
                sockets.remove(to);
            }
        }, "relay-pump");
        t.setDaemon(true);
        t.start();
    }

    /** Cuts every connection through the relay and refuses new ones until {@link #heal}. */
    synchronized void partition() {
        partitioned = true;
        for (Socket s : sockets) {
            quietClose(s);
        }
    }

    void heal() {
        partitioned = false;
    }

    private static void quietClose(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // closing a socket that is already broken has nothing left to report
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        partition();
        listener.close();
    }
}
