package dev.entente.testkit.chaos;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The short run of the fault suite that every build makes: three node processes, 45 s of faults
 * and writes, then every check. Its seed is random unless {@code -Dentente.chaos.seed} gives one;
 * a failure prints the command that replays it. Long runs: {@code bin/entente chaos --minutes N}.
 */
class ChaosTest {
    @Test
    void afterKillsPausesBrokenLinksFullDisksAndTakenPortsHealEveryNodeHoldsEveryAcknowledgedWriteAndNoDeletedEntry(@TempDir Path dir) throws Exception {
        long seed = Long.getLong("entente.chaos.seed", System.nanoTime());
        Chaos.Report r = Chaos.run(new Chaos.Settings(seed, 3, Duration.ofSeconds(45)), dir, System.out);
        assertTrue(r.acknowledged() > 100, "the run wrote: " + r);
        assertTrue(r.faults() > 10, "the run broke things: " + r);
    }
}
