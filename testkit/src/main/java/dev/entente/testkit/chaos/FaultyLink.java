package dev.entente.testkit.chaos;

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
 * One replication link between a consumer and its supplier, as a TCP relay on loopback that a
 * fault can break: {@link Mode#CUT} closes every connection and refuses new ones, as a failed
 * link does; {@link Mode#BLACKHOLE} keeps connections open and drops every byte, as a firewall
 * that drops packets does; {@link Mode#DELAY} holds every chunk for a while. TLS passes through
 * untouched (nodes pin keys, not addresses). The bench's partitions use it too (cut and pass).
 */
public final class FaultyLink implements AutoCloseable {
    public enum Mode { PASS, CUT, BLACKHOLE, DELAY }

    static final long DELAY_MILLIS = 150;
    public final String name;
    private final ServerSocket listener;
    private final int target;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private volatile Mode mode = Mode.PASS;
    private volatile boolean closed;

    public FaultyLink(String name, int targetPort) throws IOException {
        this.name = name;
        this.target = targetPort;
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread t = new Thread(this::accept, "link-" + name);
        t.setDaemon(true);
        t.start();
    }

    public int port() {
        return listener.getLocalPort();
    }

    /**
     * Sets the link's mode. Leaving a mode that lost bytes (a black hole) closes the connections
     * that went through it: their streams are broken, and the sessions must start again.
     */
    public synchronized void set(Mode next) {
        Mode before = mode;
        mode = next;
        if (next == Mode.CUT || before == Mode.BLACKHOLE && next != Mode.BLACKHOLE) {
            for (Socket s : sockets) {
                quietClose(s);
            }
        }
    }

    private void accept() {
        while (!closed) {
            Socket in;
            try {
                in = listener.accept();
            } catch (IOException e) {
                return;
            }
            try {
                Socket out = new Socket(InetAddress.getLoopbackAddress(), target);
                in.setTcpNoDelay(true);
                out.setTcpNoDelay(true);
                // Checked and registered together with set(), so that no connection accepted
                // while a cut begins survives it.
                synchronized (this) {
                    if (mode == Mode.CUT) {
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
                // The supplier is down: the consumer sees its connection closed, as it would directly.
                quietClose(in);
            }
        }
    }

    private void pump(Socket from, Socket to) {
        Thread t = new Thread(() -> {
            byte[] buffer = new byte[64 * 1024];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                for (int n; (n = in.read(buffer)) >= 0; ) {
                    Mode m = mode;
                    if (m == Mode.BLACKHOLE) {
                        continue;
                    }
                    if (m == Mode.DELAY) {
                        Thread.sleep(DELAY_MILLIS);
                    }
                    out.write(buffer, 0, n);
                }
            } catch (SocketException e) {
                // closed by a fault or by either end: both ends see the connection go
            } catch (IOException e) {
                // the same, seen as a broken stream
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                quietClose(from);
                quietClose(to);
                sockets.remove(from);
                sockets.remove(to);
            }
        }, "link-pump-" + name);
        t.setDaemon(true);
        t.start();
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
        set(Mode.CUT);
        listener.close();
    }
}
