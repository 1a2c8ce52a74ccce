"""The live status page (rg_status_page_handler) in a real browser: the C
`ringlet` binary on its embedded default configuration (two workers, GET
/status and /stats on 127.0.0.1), under light keep-alive load from
threads, loaded by Debian's headless chromium through chromedriver
(python3-selenium). Checks what an operator would see: the figures filled
in (req/s above 0, one row per worker, RSS and reserved as sizes, the
pools and slab classes), the charts drawn, no error banner and nothing in
the browser's console; saves a screenshot to status-page.png in the build
directory. Skips, saying why, where selenium, chromium or chromedriver is
missing or chromium cannot start."""

import http.client
import http.server
import json
import os
import shutil
import threading
import time
import unittest

import rgtest

SCREENSHOT = os.path.join(rgtest.BUILD, "status-page.png")
# Debian's (RG_CHROMIUM and RG_CHROMEDRIVER name others).
CHROMIUM = os.environ.get("RG_CHROMIUM") or next(
    (p for p in ("/usr/lib/chromium/chromium", "/usr/bin/chromium")
     if os.path.exists(p)), None)
CHROMEDRIVER = (os.environ.get("RG_CHROMEDRIVER") or
                shutil.which("chromedriver") or "/usr/bin/chromedriver")
WORKERS = 2


class Load:
    """Light load: `n` threads, each a keep-alive connection sending GET
    /plaintext with a pause between requests (a few hundred requests a
    second in all: enough for the figures, little for 2 cores shared with
    the browser)."""

    def __init__(self, port, n=4, pause=0.004):
        self.port, self.pause = port, pause
        self.done = threading.Event()
        self.sent = 0
        self.errors = []
        self.threads = [threading.Thread(target=self.run, daemon=True)
                        for _ in range(n)]
        for t in self.threads:
            t.start()

    def run(self):
        c = None
        while not self.done.is_set():
            try:
                if c is None:
                    c = http.client.HTTPConnection("127.0.0.1", self.port,
                                                   timeout=10)
                c.request("GET", "/plaintext")
                r = c.getresponse()
                r.read()
                if r.status != 200:
                    self.errors.append(r.status)
                self.sent += 1
            except (OSError, http.client.HTTPException) as e:
                self.errors.append(repr(e))
                c = None
            time.sleep(self.pause)
        if c:
            c.close()

    def stop(self):
        self.done.set()
        for t in self.threads:
            t.join(10)


def browser():
    """A headless chromium driven by chromedriver, its console logged; or
    unittest.SkipTest with the reason it cannot be had here."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError as e:
        raise unittest.SkipTest("selenium is not installed (Debian package "
                                "python3-selenium): %s" % e)
    if not CHROMIUM:
        raise unittest.SkipTest("chromium is not installed (Debian package "
                                "chromium)")
    if not os.access(CHROMEDRIVER, os.X_OK):
        raise unittest.SkipTest("chromedriver is not installed (Debian "
                                "package chromium-driver)")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu",
              "--disable-dev-shm-usage", "--hide-scrollbars",
              "--no-first-run", "--disable-extensions",
              "--window-size=1400,1000", "--force-device-scale-factor=1"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=CHROMEDRIVER, env=rgtest.child_env(),
                      log_path=os.path.join(rgtest.TMP, "chromedriver.log"))
    try:
        return webdriver.Chrome(service=service, options=opts)
    except Exception as e:  # WebDriverException, OSError: why, in one line
        msg = str(e).strip().splitlines()
        raise unittest.SkipTest("chromium cannot start here: %s"
                                % (msg[0] if msg else repr(e)))


def wait_for(driver, script, timeout=30):
    """Polls `script` (JavaScript returning a value) until it is truthy."""
    end = time.monotonic() + timeout
    while True:
        v = driver.execute_script(script)
        if v or time.monotonic() > end:
            return v
        time.sleep(0.2)


# Non-blank pixels of a canvas: the chart was drawn, not left empty.
INK = """
const c = document.getElementById(arguments[0]);
const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
let n = 0;
for (let i = 3; i < d.length; i += 4) if (d[i]) n++;
return n;
"""


class StatusPage(unittest.TestCase):
    """GET /status of the binary on its default configuration."""

    @classmethod
    def setUpClass(cls):
        if not os.access(rgtest.BIN, os.X_OK):
            raise unittest.SkipTest("no ringlet binary at %s" % rgtest.BIN)
        cls.srv = rgtest.Ringlet(workers=WORKERS)

    @classmethod
    def tearDownClass(cls):
        status = cls.srv.stop()
        text = cls.srv.text()
        assert status == 0, "exit %s:\n%s" % (status, text)
        for bad in ("killed by signal", "ERROR: AddressSanitizer",
                    "runtime error:"):
            assert bad not in text, text

    def test_served(self):
        """The page as HTTP sees it: HTML from memory with the stats path
        written in, an ETag that makes a reload a 304."""
        st, r, body = self.srv.get("/status")
        self.assertEqual(st, 200)
        self.assertEqual(r.getheader("Content-Type"),
                         "text/html; charset=utf-8")
        self.assertEqual(int(r.getheader("Content-Length")), len(body))
        self.assertIn(b'<meta name="ringlet-stats" content="/stats">', body)
        self.assertNotRegex(body, rb'<(script|link|img)[^>]+(src|href)='
                            rb'"(?!data:)')  # no external asset
        etag = r.getheader("ETag")
        self.assertRegex(etag, r'^"[0-9a-f]{16}"$')
        self.assertEqual(r.getheader("Cache-Control"), "no-cache")
        st, r, body = self.srv.get("/status", {"If-None-Match": etag})
        self.assertEqual((st, body), (304, b""))
        self.assertEqual(r.getheader("ETag"), etag)

    def test_live_figures(self):
        """The page under load: figures, rows, charts, no console error;
        the screenshot."""
        d = browser()
        self.addCleanup(d.quit)
        load = Load(self.srv.port)
        try:
            d.get("http://127.0.0.1:%d/status" % self.srv.port)
            # A rate needs two polls; a few more fill the charts.
            updates = wait_for(d, "return +document.body.dataset.updates >= 6"
                               " && +document.getElementById('rps').dataset"
                               ".value > 0 && document.body.dataset.updates")
            err = d.find_element("id", "error")
            self.assertTrue(updates, "the page never showed a rate; error "
                            "banner: %r, state: %r" % (
                                err.text,
                                d.find_element("id", "state").text))
            self.assertFalse(err.is_displayed(), err.text)
            self.assertIn("live", d.find_element("id", "state")
                          .get_attribute("class"))

            rps = float(d.find_element("id", "rps").get_attribute(
                "data-value"))
            self.assertGreater(rps, 0)
            self.assertRegex(d.find_element("id", "rps").text, r"^\d")
            st, _, body = self.srv.get("/stats")
            stats = json.loads(body)
            rows = d.find_elements("css selector", "#workers tbody tr")
            self.assertEqual(len(rows), WORKERS)
            self.assertEqual(len(rows), stats.get("worker_count", 1))
            pids = {w["pid"] for w in stats.get("workers", [])}
            for row in rows:
                cells = [td.text for td in row.find_elements("tag name",
                                                             "td")]
                self.assertEqual(len(cells), 7, cells)
                self.assertIn(int(cells[1]), pids)
                self.assertRegex(cells[5], r"^\d+(\.\d+)? (KiB|MiB|GiB)$")
            size = r"^\d+(\.\d+)? (KiB|MiB|GiB)$"
            self.assertRegex(d.find_element("id", "rss").text, size)
            self.assertRegex(d.find_element("id", "reserved").text, size)
            self.assertEqual(d.find_element("id", "nworkers").text,
                             str(WORKERS))
            pools = d.find_elements("css selector", "#pools tbody tr")
            self.assertEqual(len(pools), len(stats["pools"]))
            slab = d.find_elements("css selector", "#slab tbody tr")
            self.assertEqual(len(slab), len(stats["slab"]["classes"]))
            self.assertRegex(pools[0].text, r"\d+(\.\d+)?%")
            for chart in ("c-rps", "c-conns", "c-rss", "c-tiers", "c-hist"):
                self.assertGreater(d.execute_script(INK, chart), 500, chart)
            legend = d.find_element("id", "l-tiers").text
            self.assertIn("arena", legend)

            # With the server's history (a sample every 10 s: two within
            # about 20 s), the growth per minute of RSS and reserved.
            if "history" in stats:
                grown = wait_for(d, "return document.getElementById("
                                 "'growth').dataset.value", timeout=40)
                self.assertTrue(grown, "no growth rate from the history: "
                                + d.find_element("id", "hist-note").text)
                rate = r"^[+−]?\d+(\.\d+)? (B|KiB|MiB|GiB)"
                self.assertRegex(d.find_element("id", "growth").text, rate)
                note = d.find_element("id", "hist-note").text
                self.assertRegex(note, r"^\d+ samples: RSS .*/min, "
                                 r"reserved .*/min")

            # The whole page in the screenshot, at its own height.
            h = d.execute_script("return document.documentElement"
                                 ".scrollHeight")
            d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                              {"width": 1400, "height": int(h),
                               "deviceScaleFactor": 1, "mobile": False})
            time.sleep(1.2)  # one more poll, laid out at the new size
            os.makedirs(rgtest.BUILD, exist_ok=True)
            self.assertTrue(d.save_screenshot(SCREENSHOT), SCREENSHOT)
            print("screenshot: %s" % SCREENSHOT)

            logs = d.get_log("browser")
            severe = [e for e in logs if e.get("level") == "SEVERE"]
            self.assertEqual(severe, [], "console errors: %r" % severe)
        finally:
            load.stop()
        self.assertGreater(load.sent, 0)
        self.assertEqual(load.errors, [])

    def test_other_documents(self):
        """The same page against a document of another shape: a server
        without a board (no "workers": one worker at the top level), no
        pools or slab, a plain "history" array with times and no "growth".
        The page shows what there is, with no console error."""
        _, _, page = self.srv.get("/status")
        calls = []

        class Stub(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path == "/status":
                    body, kind = page, "text/html; charset=utf-8"
                elif self.path == "/stats":
                    calls.append(1)
                    mib = 1 << 20
                    body = json.dumps({
                        "requests": 100 * len(calls),
                        "connections": {"active": 3},
                        "memory": {"rss": 5 * mib, "reserved": 8 * mib},
                        "history": [{"t": 1000, "rss": 4 * mib,
                                     "reserved": 8 * mib},
                                    {"t": 1060, "rss": 5 * mib,
                                     "reserved": 8 * mib}],
                    }).encode()
                    kind = "application/json"
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        stub = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Stub)
        threading.Thread(target=stub.serve_forever, daemon=True).start()
        self.addCleanup(stub.server_close)
        self.addCleanup(stub.shutdown)
        d = browser()
        self.addCleanup(d.quit)
        d.get("http://127.0.0.1:%d/status" % stub.server_address[1])
        self.assertTrue(wait_for(d, "return +document.body.dataset.updates"
                                 " >= 3", timeout=20))
        self.assertFalse(d.find_element("id", "error").is_displayed())
        rows = d.find_elements("css selector", "#workers tbody tr")
        self.assertEqual(len(rows), 1)
        self.assertGreater(float(d.find_element("id", "rps")
                                 .get_attribute("data-value")), 0)
        self.assertEqual(d.find_element("id", "rss").text, "5.00 MiB")
        self.assertEqual(d.find_element("id", "conns").text, "3")
        self.assertEqual(d.find_element("id", "growth").text, "+1.00 MiB")
        self.assertEqual(d.find_elements("css selector", "#pools tbody tr"),
                         [])
        severe = [e for e in d.get_log("browser")
                  if e.get("level") == "SEVERE"]
        self.assertEqual(severe, [], "console errors: %r" % severe)


if __name__ == "__main__":
    unittest.main()
