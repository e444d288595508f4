// The build page's side of bench/gateway/page.py, in headless Debian chromium through
// tests/browser's playwright-core. MODE=log: a finished 1,000,000-line log (JOB): navigation
// to the first log rows painted at the tail, to the last line shown, a search for a line
// near the top, scrolling. MODE=latency: the page open on a running job (JOB): each
// step.started event's `time` against Date.now() in the page when it arrives.
// Prints one JSON object.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'tests', 'browser', 'package.json'));
const { chromium } = require('playwright-core');
const { KILN_URL: URL, KILN_TOKEN: TOKEN, JOB, MODE } = process.env;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync', '--enable-precise-memory-info'],
});
const out = {};
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  // From Enter in the search box to line 42 shown, highlighted.
  const searchLine42 = () => page.evaluate(() => new Promise((resolve) => {
    const log = window.kilnPage.view.log;
    log.clearSearch();  // no highlight left from an earlier search, and the view at the bottom
    log.scrollToBottom();
    const input = document.getElementById('log-search');
    input.focus();
    input.value = '0000042 0';
    input.dispatchEvent(new Event('input'));
    const t0 = performance.now();
    input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
    const check = () => (document.querySelector('.log-row.hl[data-line="42"]') ? resolve(performance.now() - t0) : requestAnimationFrame(check));
    check();
  }));
  await page.goto(URL + '/');
  await page.fill('#token', TOKEN);
  await page.click('form.login button[type=submit]');
  await page.waitForSelector('table.builds');
  if (MODE === 'log') {
    // A new document, as a link to the build opened in a new tab: performance.now() then
    // counts from this navigation (a hash change on the list's page would count from the
    // login page's load).
    await page.goto('about:blank');
    await page.goto(URL + '/#/builds/' + JOB, { waitUntil: 'commit' });
    // One poll a frame for both, so that neither waits on the other's round trip.
    Object.assign(out, await page.evaluate(() => new Promise((resolve) => {
      const seen = {};
      const check = () => {
        const now = performance.now();
        if (seen.first_rows_ms === undefined && document.querySelector('.log-rows .log-row[data-line]')) {
          seen.first_rows_ms = now;
          const v = document.querySelector('.log-viewport');
          seen.first_rows_at_tail = v.scrollTop + v.clientHeight >= v.scrollHeight - 40;
        }
        if (document.querySelector('.log-rows .log-row[data-line="1000000"]')) {
          seen.last_line_ms = now;
          resolve(seen);
          return;
        }
        requestAnimationFrame(check);
      };
      check();
    })));
    out.opened_with_tail = await page.evaluate(() => window.kilnPage.logTail());
    // A search at once, while the page holds only the tail and the rest is streaming in.
    out.search_early_ms = await searchLine42();
    await page.waitForFunction(() => window.kilnPage.logStore().complete, null, { timeout: 120000 });
    out.complete_ms = await page.evaluate(() => performance.now());
    const st = await page.evaluate(() => window.kilnPage.logStore());
    out.lines = st.entries;
    out.page_ingest_ms = st.ingestMs;
    out.stream_reconnects = st.reconnects;
    out.gaps = st.gaps; out.duplicates = st.duplicates;
    out.js_heap_mb = await page.evaluate(() => performance.memory ? performance.memory.usedJSHeapSize / 2 ** 20 : null);
    // Scrolling: 120 jumps to random places, one a frame: the longest frame.
    out.scroll = await page.evaluate(() => new Promise((resolve) => {
      const v = document.querySelector('.log-viewport');
      const frames = [];
      let last = performance.now(), n = 0;
      const step = (t) => {
        frames.push(t - last); last = t;
        if (++n > 120) { frames.sort((a, b) => a - b); resolve({ median_frame_ms: frames[60], max_frame_ms: frames[frames.length - 1], dom_rows: document.querySelectorAll('.log-row').length }); return; }
        v.scrollTop = Math.random() * (v.scrollHeight - v.clientHeight);
        requestAnimationFrame(step);
      };
      requestAnimationFrame(step);
    }));
    // The same search once the whole log is held.
    out.search_ms = await searchLine42();
  } else {
    await page.evaluate((id) => { location.hash = '#/builds/' + id; }, JOB);
    await page.waitForFunction(() => window.kilnPage.streams() && window.kilnPage.streams().eventsOpenAt);
    await page.waitForFunction(() => { const s = window.kilnPage.buildState(); return s && ['succeeded', 'failed', 'dead'].includes(s.status); }, null, { timeout: 120000, polling: 500 });
    // Only events that happened after the page's event stream was open: earlier ones come
    // from what is stored, and their lag is the page's load time.
    const opened = await page.evaluate(() => window.kilnPage.streams().eventsOpenAt);
    const lags = await page.evaluate((t) => window.kilnPage.eventLags
      .filter((e) => e.type === 'step.started' && /^s\d+$/.test(e.step || '') && e.seen - e.lag > t).map((e) => e.lag), opened);
    lags.sort((a, b) => a - b);
    out.events = lags.length;
    out.p50_ms = lags[Math.floor(lags.length / 2)];
    out.p99_ms = lags[Math.min(lags.length - 1, Math.floor(lags.length * 0.99))];
    out.max_ms = lags[lags.length - 1];
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
