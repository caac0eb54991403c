package dev.entente.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.entente.config.ConfigBuilder;
import dev.entente.config.NodeConfig;
import dev.entente.engine.Attributes;
import dev.entente.engine.Schema;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The replication monitor page, in a real headless browser (Debian's Chromium and its driver),
 * against a live three-node topology: after the token is given, it shows the node, its
 * agreements with their state, its consumers, the RUV by origin and the conflicts, and keeps
 * them current by itself. The screenshot it takes is docs/monitor.png's source.
 */
class MonitorPageTest {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path DRIVER = Path.of("/usr/bin/chromedriver");

    @Test
    void theMonitorPageShowsALiveTopologyAndFollowsIt(@TempDir Path dir) throws Exception {
        assertTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(DRIVER),
                "this test needs Debian's chromium and chromium-driver: apt-get install chromium chromium-driver (.ci/run installs them)");
        String token = "monitor-test-token-0123456789";
        List<String> names = List.of("site-a", "site-b", "site-c");
        List<String> pems = new ArrayList<>();
        for (String n : names) {
            pems.add(NodeIdentity.create(EntenteNode.identityDirectory(dir.resolve(n)), n, NodeIdentity.DEFAULT_VALIDITY, Clock.systemUTC()).certificatePem());
        }
        // a supplies b and c; b and c pull from a (and join its domain).
        NodeConfig configA = ConfigBuilder.node("site-a", dir.resolve("site-a")).listen("127.0.0.1:0").consumer("site-b", pems.get(1))
                .consumer("site-c", pems.get(2)).admin("127.0.0.1:0", token).build();
        try (EntenteNode a = EntenteNode.start(configA)) {
            a.engine().transaction().defineNamespace("people", Schema.builder().unique("name").build()).commit();
            a.engine().create("people", Attributes.ofText("name", "alice"));
            String supplier = "127.0.0.1:" + a.replication().address().getPort();
            List<EntenteNode> joined = new ArrayList<>();
            List<NodeConfig> configs = new ArrayList<>();
            try {
                for (int i = 1; i < 3; i++) {
                    NodeConfig c = ConfigBuilder.node(names.get(i), dir.resolve(names.get(i))).listen("127.0.0.1:0")
                            .agreement("from-a", supplier, pems.get(0)).setting("agreements[0].interval", "1s").admin("127.0.0.1:0", token).build();
                    configs.add(c);
                    joined.add(EntenteNode.join(c));
                }
                EntenteNode b = joined.get(0);
                Cluster.await("b and c to join", Duration.ofSeconds(30), () -> joined.stream().allMatch(n -> n.engine().refreshRequired().isEmpty()));
                // An entry conflict on c: the same id created on a and, while c is down, on c's own store.
                joined.remove(1).close();
                java.util.UUID clash = java.util.UUID.randomUUID();
                a.engine().transaction().create("people", clash, Attributes.ofText("name", "carol on a")).commit();
                Thread.sleep(5);
                try (dev.entente.engine.Engine offline = dev.entente.engine.Engine.open(
                        dev.entente.engine.EngineOptions.builder(EntenteNode.engineDirectory(dir.resolve("site-c"))).build())) {
                    offline.transaction().create("people", clash, Attributes.ofText("name", "carol on c")).commit();
                }
                EntenteNode c = EntenteNode.join(configs.get(1));
                joined.add(c);
                Cluster.await("c to pull a's version", Duration.ofSeconds(30), () -> !c.engine().conflicts("people", null, 10).items().isEmpty());

                ChromeOptions options = new ChromeOptions();
                options.setBinary(CHROMIUM.toFile());
                options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1280,900",
                        "--user-data-dir=" + dir.resolve("chromium-profile"));
                ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(DRIVER.toFile()).usingAnyFreePort().build();
                WebDriver browser = new ChromeDriver(service, options);
                try {
                    WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(30));
                    open(browser, wait, b, token);

                    wait.until(d -> d.findElement(By.id("node")).getText().equals("site-b"));
                    wait.until(d -> rows(d, "agreements").stream().anyMatch(r -> r.contains("from-a") && r.contains("IDLE")));
                    assertEquals(b.engine().originId().toString(), browser.findElement(By.id("origin")).getText());
                    assertEquals(a.engine().domainId().toString(), browser.findElement(By.id("domain")).getText());
                    // a's origin, by the name a's Hello gave.
                    wait.until(d -> rows(d, "ruv").stream().anyMatch(r -> r.startsWith("site-a ") && r.contains(a.engine().originId().toString())));
                    wait.until(d -> rows(d, "conflicts").stream().anyMatch(r -> r.startsWith("people")));
                    wait.until(d -> rows(d, "sessions").stream().anyMatch(r -> r.contains("connect") && r.contains("ok")));

                    // It follows the node: a write on a shows up in b's RUV row for a, without a reload.
                    String before = row(browser, "ruv", a.engine().originId().toString());
                    a.engine().create("people", Attributes.ofText("name", "bob"));
                    wait.until(d -> !row(d, "ruv", a.engine().originId().toString()).equals(before));
                    Path shot = Path.of("target", "monitor.png");
                    Files.write(shot, ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES));
                    assertTrue(Files.size(shot) > 10_000, "a screenshot of the page");

                    // a's page (another origin: the token is asked again) lists its consumers, connected.
                    open(browser, wait, a, token);
                    wait.until(d -> rows(d, "consumers").stream().filter(r -> r.contains("site-") && !r.contains("not connected")
                            && !r.contains("never")).count() == 2);

                    // c's page shows its conflict version, and discarding it resolves the conflict.
                    open(browser, wait, c, token);
                    wait.until(d -> rows(d, "versions").stream().anyMatch(r -> r.contains("carol on c")));
                    Files.write(Path.of("target", "monitor-conflict.png"), ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES));
                    // Clicked in one script too, for the same reason.
                    ((JavascriptExecutor) browser).executeScript("document.querySelector('#versions button.discard').click();");
                    wait.until(d -> rows(d, "versions").equals(List.of("none")));
                    assertTrue(c.engine().conflicts("people", null, 10).items().isEmpty(), "the conflict is resolved");
                    assertEquals("carol on a", c.engine().get("people", clash).orElseThrow().text("name"));
                } finally {
                    browser.quit();
                }
            } finally {
                for (EntenteNode n : joined) {
                    n.close();
                }
            }
        }
    }

    /** Opens a node's page and gives it the token. */
    private static void open(WebDriver browser, WebDriverWait wait, EntenteNode n, String token) {
        browser.get("http://127.0.0.1:" + n.adminAddress().getPort() + "/");
        WebElement field = wait.until(d -> {
            WebElement f = d.findElement(By.id("token"));
            return f.isDisplayed() ? f : null;
        });
        field.sendKeys(token);
        browser.findElement(By.cssSelector("#token-form button")).click();
    }

    /**
     * A table's rows as text, read in one script: the page rebuilds its tables every two seconds,
     * so elements found one by one can be replaced between finding and reading them.
     */
    @SuppressWarnings("unchecked")
    private static List<String> rows(WebDriver d, String table) {
        return (List<String>) ((JavascriptExecutor) d).executeScript(
                "return Array.from(document.querySelectorAll('#" + table + " tbody tr')).map(r => r.innerText.replace(/\\t/g, ' '));");
    }

    private static String row(WebDriver d, String table, String prefix) {
        // the row holding prefix
        return rows(d, table).stream().filter(r -> r.contains(prefix)).findFirst().orElse("");
    }
}
