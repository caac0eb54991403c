package dev.entente.testkit.bench;

import java.util.List;

/**
 * Unmeasured work repeated until the nodes' JIT compilers are nearly idle. Fresh JVMs on two cores
 * keep compiling for a minute or more (W2 showed the compilers of three nodes using 0.75 of the two
 * cores through a 40 s warm-up), and a workload that claims steady state must not measure that.
 */
final class JitWarmUp {

    /** One block of unmeasured work; {@code block} counts from 0. */
    interface Block {
        void run(int block) throws Exception;
    }

    /**
     * @param blocks how many blocks ran
     * @param lastBlockJitMillis the most any node's compilers worked during the last block
     */
    record Outcome(int blocks, long lastBlockJitMillis) {
    }

    private JitWarmUp() {
    }

    /**
     * Runs blocks until, in the last one, no node's compilers worked more than {@code quietMillis},
     * or until {@code maxBlocks} ran; at least one runs.
     */
    static Outcome run(List<NodeHandle> nodes, long quietMillis, int maxBlocks, Block block) throws Exception {
        long[] jit = jitMillis(nodes);
        int blocks = 0;
        long last;
        do {
            block.run(blocks++);
            long[] now = jitMillis(nodes);
            last = 0;
            for (int i = 0; i < now.length; i++) {
                last = Math.max(last, now[i] - jit[i]);
            }
            jit = now;
        } while (blocks < maxBlocks && last > quietMillis);
        return new Outcome(blocks, last);
    }

    /** Each node's JIT compile time since it started, in ms. */
    static long[] jitMillis(List<NodeHandle> nodes) throws InterruptedException {
        long[] out = new long[nodes.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = nodes.get(i).jitMillis();
        }
        return out;
    }
}
