// The gateway's build page in a real browser (Debian's chromium, headless, through
// playwright-core) against a real `kiln gateway`, `kiln worker` and nats-server that
// run.py started (stack.py). No test framework: each scenario asserts, the exit code says.
//
//   KILN_URL, KILN_TOKEN: the gateway and its API token; KILN_CONTROL: stack.py's control
//   server (submit jobs, restart the gateway, read a state from KV).
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const URL = process.env.KILN_URL;
const TOKEN = process.env.KILN_TOKEN;
const CTL = process.env.KILN_CONTROL;
assert.ok(URL && TOKEN && CTL, 'run through tests/browser/run.py');

export const LAUNCH = {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function ctl(path, body) {
  const res = await fetch(CTL + path, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) });
  const data = await res.json();
  if (!res.ok) throw new Error(`control ${path}: ${data && data.error}`);
  return data;
}
const submit = async (pipeline, extra = {}) => (await ctl('/submit', { pipeline, ...extra })).job;
const kvState = (id) => ctl(`/state/${encodeURIComponent(id)}`);
async function until(what, fn, timeout = 20000, every = 100) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    try { last = await fn(); if (last) return last; } catch (e) { last = e; }
    await sleep(every);
  }
  throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
}
async function waitStatus(id, statuses, timeout = 60000) {
  return until(`${id} to be ${statuses}`, async () => { const s = await kvState(id); return s && statuses.includes(s.status) ? s : null; }, timeout, 200);
}

const results = [];
async function scenario(name, fn) {
  const t = Date.now();
  try {
    await fn();
    results.push({ name, ok: true, ms: Date.now() - t });
    console.log(`PASS ${name} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
  } catch (e) {
    results.push({ name, ok: false, ms: Date.now() - t, error: e });
    console.log(`FAIL ${name}: ${e.stack || e}`);
  }
}

const browser = await chromium.launch(LAUNCH);
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
const page = await context.newPage();
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(e));
page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(new Error(`console: ${m.text()}`)); });

// The page's log rows currently in the DOM: [{line, text, hl}]
const domRows = () => page.$$eval('.log-rows .log-row[data-line]', (rows) => rows.map((r) => ({
  line: Number(r.dataset.line), text: r.querySelector('.txt').textContent, hl: r.classList.contains('hl'),
})));
async function openBuild(id, line) {
  await page.evaluate((h) => { location.hash = h; }, `#/builds/${encodeURIComponent(id)}${line ? `/L${line}` : ''}`);
  await page.waitForSelector(`.titlebar h1 >> text=${id}`);
}
const headerStatus = () => page.$eval('.titlebar .status', (e) => e.textContent.trim());

try {
  // Builds to look at later, started now so they are done when their scenario comes.
  const failId = await submit('fail', { branch: 'feature/<b>bold</b>' });
  const bigId = await submit('lines20k');
  const cappedId = await submit('capped');

  await scenario('login: a wrong token shows the error, the right one the list; the cookie is HttpOnly', async () => {
    await page.goto(URL + '/');
    await page.waitForSelector('form.login');
    await page.fill('#token', 'not-the-token');
    await page.click('form.login button[type=submit]');
    const err = await page.waitForSelector('.form-error:not(:empty)');
    const text = await err.textContent();
    assert.ok(text.length > 0 && !/^4\d\d /.test(text), `the server's JSON error is shown, got "${text}"`);
    await page.fill('#token', TOKEN);
    await page.click('form.login button[type=submit]');
    await page.waitForSelector('table.builds tbody tr');
    assert.equal(await page.$('form.login'), null);
    assert.equal(await page.inputValue('#f-repo'), '');
    const jsCookies = await page.evaluate(() => document.cookie);
    assert.ok(!jsCookies.includes('kiln_session'), `document.cookie must not show the session: "${jsCookies}"`);
    const cookie = (await context.cookies()).find((c) => c.name === 'kiln_session');
    assert.ok(cookie, 'the gateway set kiln_session');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    assert.ok(!cookie.value.includes(TOKEN), 'the cookie does not hold the token');
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
    assert.ok(!stored.includes(TOKEN), 'the token is not kept in web storage');
  });

  await scenario('CSRF: a cookie POST without X-Kiln-Csrf is refused (403), with it it reaches the route', async () => {
    const without = await page.evaluate(async (id) => (await fetch(`/builds/${id}/cancel`, { method: 'POST' })).status, failId);
    assert.equal(without, 403);
    const withHeader = await page.evaluate(async () => (await fetch('/builds/no-such-build-x/cancel', { method: 'POST', headers: { 'X-Kiln-Csrf': '1' } })).status);
    assert.notEqual(withHeader, 403);
    assert.notEqual(withHeader, 401);
  });

  await scenario('builds list: a build submitted while the list is open appears and its status changes live', async () => {
    await page.evaluate(() => { location.hash = '#/'; window.__noReload = 1; });
    await page.waitForSelector('table.builds tbody tr');
    await page.focus('#f-branch');
    const id = await submit('slow', { branch: 'live-list' });
    const seen = new Set();
    await until('the new row to appear', async () => page.$(`tr[data-id="${id}"]`), 15000);
    assert.equal(await page.evaluate(() => document.querySelector('tbody tr').dataset.id), id, 'newest first');
    await until('the row to reach succeeded', async () => {
      const s = await page.$eval(`tr[data-id="${id}"] .c-status`, (e) => e.textContent.trim()).catch(() => '');
      if (s) seen.add(s.replace(/^\S+\s+/, ''));
      return s.endsWith('succeeded');
    }, 45000, 100);
    assert.ok(seen.size >= 2, `the status changed in place (seen: ${[...seen]})`);
    assert.equal(await page.evaluate(() => window.__noReload), 1, 'no reload');
    assert.equal(await page.evaluate(() => document.activeElement && document.activeElement.id), 'f-branch', 'focus kept');
    const cells = await page.$eval(`tr[data-id="${id}"]`, (tr) => [...tr.children].map((c) => c.textContent.trim()));
    assert.equal(cells[1], 'acme/widgets');
    assert.equal(cells[2], 'live-list');
    assert.equal(cells[3], '9fceb02d0a');
    // Filters live in the hash.
    await page.selectOption('#f-status', 'dead');
    await until('the hash to carry the filter', async () => (await page.evaluate(() => location.hash)) === '#/?status=dead');
    await until('only dead rows', async () => {
      const st = await page.$$eval('tbody .c-status', (c) => c.map((x) => x.textContent.trim()));
      return st.length > 0 && st.every((s) => s.endsWith('dead')) && !(await page.$(`tr[data-id="${id}"]`));
    });
  });

  await scenario('builds list: 25 a page, Older and Newer page through a filtered list', async () => {
    for (let i = 0; i < 26; i++) await submit('quick', { branch: 'paging' });
    await page.evaluate(() => { location.hash = '#/?branch=paging'; });
    const ids = async () => page.$$eval('table.builds tbody tr', (rows) => rows.map((r) => r.dataset.id));
    await until('a full first page', async () => (await ids()).length === 25, 15000);
    const first = await ids();
    assert.ok(await page.isEnabled('button:has-text("Older")'));
    assert.ok(!(await page.isEnabled('button:has-text("Newer")')));
    await page.click('button:has-text("Older")');
    await until('the second page', async () => (await ids()).length === 1, 15000);
    assert.ok(!first.includes((await ids())[0]), 'the last build, not one of the first page');
    assert.ok(!(await page.isEnabled('button:has-text("Older")')));
    await page.click('button:has-text("Newer")');
    await until('the first page again', async () => (await ids()).length === 25, 15000);
    assert.deepEqual(await ids(), first);
  });

  await scenario('build page: steps and attempts update live', async () => {
    const id = await submit('retry', { branch: 'live-steps' });
    await openBuild(id);
    const snapshots = new Set();
    await until('all steps ok', async () => {
      const snap = await page.$$eval('.steps .step .step-line', (l) => l.map((x) => x.textContent.replace(/\s+/g, ' ').trim()).join(' | '));
      snapshots.add(snap);
      return /fetch.*ok.*build.*ok.*test.*ok/.test(snap) && (await headerStatus()).endsWith('succeeded');
    }, 45000, 100);
    assert.ok(snapshots.size >= 3, `the steps changed live (${snapshots.size} distinct views)`);
    const attempts = await page.$eval('.step[data-step="fetch"]', (e) => e.textContent);
    assert.match(attempts, /2 attempts/);
    assert.match(attempts, /attempt 1: ↻ retrying retry in 700 ms — registry busy \(503\)/);
    const sections = await page.evaluate(() => window.kilnPage.logStore().sections.map((s) => `${s.step}#${s.attempt}`));
    assert.deepEqual(sections, ['fetch#1', 'fetch#2', 'build#1', 'test#1'], 'a section per step attempt');
    const bars = await page.$$eval('.waterfall .wf-bar', (b) => b.map((x) => x.style.width));
    assert.equal(bars.length, 3);
    assert.ok(bars.every((w) => parseFloat(w) > 0), `waterfall bars have widths: ${bars}`);
  });

  await scenario('failed build: the failed step is open at its error, the others closed; a log line of HTML stays text', async () => {
    // A terminal failure ends as dead here: the worker dead-letters a job whose step failed terminally.
    await waitStatus(failId, ['failed', 'dead']);
    await openBuild(failId);
    await page.waitForFunction(() => window.kilnPage.logStore() && window.kilnPage.logStore().complete);
    await page.waitForSelector('.log-row.err');
    const secs = await page.evaluate(() => window.kilnPage.logStore().sections);
    assert.deepEqual(secs.map((s) => [s.step, s.open]), [['checkout', false], ['compile', true]]);
    const err = await page.$eval('.log-row.err', (r) => ({ text: r.querySelector('.txt').textContent, line: Number(r.dataset.line),
      bold: !!r.querySelector('.a-b.a-f1'), top: r.getBoundingClientRect().top }));
    assert.equal(err.text, 'error: undefined reference to `frobnicate`');
    assert.ok(err.bold, 'ESC[1;31m became bold red classes');
    const vp = await page.$eval('.log-viewport', (v) => v.getBoundingClientRect());
    assert.ok(err.top >= vp.top && err.top < vp.bottom, 'the error line is in view');
    const rows = await domRows();
    const html = rows.find((r) => r.text === '<img src=x onerror=window.__xss=1>');
    assert.ok(html, 'the HTML line is shown as text');
    assert.equal(await page.$('.log-rows img'), null);
    await sleep(300);
    assert.equal(await page.evaluate(() => window.__xss), undefined);
    // The build's header: the error, the branch as text, Rebuild offered.
    assert.match(await page.textContent('.build-error'), /compile: exit code 2/);
    assert.match(await page.textContent('.meta'), /feature\/<b>bold<\/b>/);
    assert.equal(await page.$('.meta b'), null);
    assert.ok(await page.$('#rebuild'));
    assert.equal(await page.$('#cancel'), null);
    // Jump to first error asks the server and lands on the same line.
    await page.evaluate(() => document.querySelector('.log-viewport').scrollTop = 0);
    await page.click('text=Jump to first error');
    await until('the error line highlighted', async () => (await domRows()).some((r) => r.hl && r.line === err.line));
  });

  await scenario('a long log opens at its tail first, then holds the whole log without a gap or a repeat', async () => {
    await waitStatus(bigId, ['succeeded']);
    await openBuild(bigId);
    await until('the last line rendered', async () => (await domRows()).some((r) => r.line === 20000));
    const tail = await page.evaluate(() => window.kilnPage.logTail());
    assert.ok(tail && tail.first_line > 1 && tail.lines === 20000, `opened with the tail only (${JSON.stringify(tail)})`);
    await page.waitForFunction(() => window.kilnPage.logStore() && window.kilnPage.logStore().complete);
    const lines = await page.evaluate(() => window.kilnPage.lineNumbers());
    assert.equal(lines.length, 20000);
    assert.ok(lines.every((n, i) => n === i + 1), 'lines 1..20000, each once');
    assert.equal((await page.evaluate(() => window.kilnPage.logTail())).partial, false, 'the whole log took the tail\'s place');
    assert.ok((await domRows()).some((r) => r.line === 20000), 'still at the bottom');
    assert.match((await page.textContent('.log-info')).trim(), /^20,000 lines$/);
  });

  await scenario('search finds a line far outside the rendered window and shows it highlighted', async () => {
    await waitStatus(bigId, ['succeeded']);
    await openBuild(bigId);
    await page.waitForFunction(() => window.kilnPage.logStore() && window.kilnPage.logStore().complete);
    await until('the tail rendered', async () => (await domRows()).some((r) => r.line === 20000));
    let rows = await domRows();
    assert.ok(rows.length < 150, `only the visible window is in the DOM (${rows.length} rows)`);
    assert.ok(!rows.some((r) => r.line === 123));
    assert.equal(await page.evaluate(() => window.kilnPage.logStore().entries), 20000);
    await page.keyboard.press('Escape');
    await page.locator('body').press('/');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'log-search', '/ focuses the search');
    await page.keyboard.type('line 000123 of');
    await page.keyboard.press('Enter');
    await until('line 123 highlighted in the DOM', async () => (await domRows()).some((r) => r.line === 123 && r.hl));
    // The first match is shown before the rest of the log is searched; then the count.
    await until('the count', async () => (await page.textContent('.search-count')).trim() === '1 of 1');
    rows = await domRows();
    assert.ok(!rows.some((r) => r.line === 20000), 'the tail left the DOM');
    // A line link scrolls and highlights too.
    await openBuild(bigId, 15000);
    await until('line 15000 highlighted', async () => (await domRows()).some((r) => r.line === 15000 && r.hl));
    // A search with many matches pages: "k of n+" (the first match, then the next 100).
    await page.fill('#log-search', 'generated log');
    await page.press('#log-search', 'Enter');
    await until('first match', async () => /^1 of 101\+$/.test((await page.textContent('.search-count')).trim()));
    await page.press('#log-search', 'Shift+Enter');
    await until('wraps to the last loaded match', async () => /^101 of 101\+$/.test((await page.textContent('.search-count')).trim()));
    // Timestamps: a toggle remembered across reloads.
    await page.check('#log-ts');
    await page.waitForSelector('.log-row .ts');
    assert.match(await page.textContent('.log-row .ts'), /^\d\d:\d\d:\d\d\.\d{3}$/);
    await page.reload();
    await page.waitForSelector('.log-row .ts', { timeout: 15000 });
    assert.equal(await page.isChecked('#log-ts'), true);
    await page.uncheck('#log-ts');
  });

  await scenario('keyboard: j and k scroll the log a line, and the page follows the dark scheme', async () => {
    await openBuild(bigId);
    await page.waitForFunction(() => window.kilnPage.logStore() && window.kilnPage.logStore().complete);
    await page.focus('.log-viewport');
    const top = () => page.$eval('.log-viewport', (v) => v.scrollTop);
    await page.evaluate(() => { const v = document.querySelector('.log-viewport'); v.scrollTop = v.scrollHeight / 2; });
    const start = await top();
    await page.keyboard.press('j');
    await page.keyboard.press('j');
    await until('two lines down', async () => (await top()) > start);
    const down = await top();
    await page.keyboard.press('k');
    await until('one line up', async () => (await top()) < down);
    const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await page.emulateMedia({ colorScheme: 'light' });
    const light = await background();
    await page.emulateMedia({ colorScheme: 'dark' });
    const dark = await background();
    await page.emulateMedia({ colorScheme: 'light' });
    assert.notEqual(dark, light, `a dark background in the dark scheme (${dark} vs ${light})`);
  });

  await scenario('a capped log shows one marker row for what was left out, with a link to the raw log', async () => {
    await waitStatus(cappedId, ['succeeded']);
    await openBuild(cappedId);
    await page.waitForFunction(() => window.kilnPage.logStore() && window.kilnPage.logStore().complete, null, { timeout: 60000 });
    const lines = await page.evaluate(() => window.kilnPage.lineNumbers());
    assert.ok(lines.length < 60000 && lines.length > 1000, `${lines.length} lines kept`);
    assert.equal(lines[0], 1);
    assert.equal(lines[lines.length - 1], 60000, 'the tail is kept');
    let cut = -1;
    for (let i = 1; i < lines.length; i++) {
      assert.ok(lines[i] > lines[i - 1], 'increasing');
      if (lines[i] !== lines[i - 1] + 1) { assert.equal(cut, -1, 'one cut'); cut = i; }
    }
    assert.ok(cut > 0, 'a cut');
    const skipped = lines[cut] - lines[cut - 1] - 1;
    assert.equal(await page.evaluate(() => window.kilnPage.logStore().gaps), 0, 'the marker accounts for the cut');
    // The marker row sits right after the last line before the cut.
    await openBuild(cappedId, lines[cut - 1]);
    const marker = await page.waitForSelector('.log-row.marker');
    const text = await marker.textContent();
    assert.ok(text.includes(`${skipped.toLocaleString('en-US')} lines`) || text.includes(`${skipped.toLocaleString()} lines`), `marker says ${skipped} lines: "${text}"`);
    assert.match(text, /left out/);
    assert.equal(await marker.$eval('a', (a) => a.getAttribute('href')), `/builds/${cappedId}/logs/raw`);
    const raw = await page.evaluate(async (id) => { const r = await fetch(`/builds/${id}/logs/raw`); return [r.status, r.headers.get('content-type'), (await r.text()).split('\n').length]; }, cappedId);
    assert.equal(raw[0], 200);
    assert.match(raw[1], /^text\/plain/);
  });

  await scenario('the log stream reconnects without a gap or a repeat', async () => {
    const id = await submit('stream');
    await openBuild(id);
    await until('lines streaming', async () => (await page.evaluate(() => window.kilnPage.logStore().entries)) > 300, 20000);
    // 1. The browser offline (CDP Network.emulateNetworkConditions).
    const before = await page.evaluate(() => window.kilnPage.logStore());
    await context.setOffline(true);
    await sleep(1500);
    await context.setOffline(false);
    await sleep(500);
    const afterOffline = await page.evaluate(() => window.kilnPage.logStore());
    const offlineCut = afterOffline.reconnects > before.reconnects;
    console.log(`  offline emulation (setOffline: CDP Network.emulateNetworkConditions) ${offlineCut ? 'cut' : 'did NOT cut'} the loopback EventSource; the gateway restart below cuts it for certain (reconnects ${before.reconnects} -> ${afterOffline.reconnects})`);
    // 2. The gateway restarted mid-stream: certainly cuts it.
    const st = await kvState(id);
    assert.equal(st.status, 'running', 'still streaming when the gateway goes');
    const r0 = (await page.evaluate(() => window.kilnPage.logStore())).reconnects;
    await ctl('/restart-gateway', { down_seconds: 1 });
    await until('the page to notice', async () => (await page.evaluate(() => window.kilnPage.logStore())).reconnects > r0, 10000);
    await waitStatus(id, ['succeeded'], 60000);
    await page.waitForFunction(() => window.kilnPage.logStore().complete, null, { timeout: 30000 });
    const s = await page.evaluate(() => window.kilnPage.logStore());
    const lines = await page.evaluate(() => window.kilnPage.lineNumbers());
    const want = 150 * 50;
    assert.equal(lines.length, want, `${lines.length} lines held, want ${want}`);
    for (let i = 0; i < want; i++) if (lines[i] !== i + 1) assert.fail(`line ${i + 1} is ${lines[i]}: a gap or a repeat`);
    assert.equal(s.gaps, 0, 'no gap');
    assert.equal(s.duplicates, 0, 'the server sent nothing twice');
    assert.equal(await page.evaluate(() => window.kilnPage.lineText(7500)), 'tick 149 50');
    assert.ok(!(await page.$('form.login')), 'the session outlived the gateway restart');
  });

  await scenario('cancel from the page, with an inline confirmation', async () => {
    const id = await submit('sleep');
    await openBuild(id);
    await until('running', async () => (await headerStatus()).endsWith('running'), 30000);
    await until('the sleep step running', async () => /sleep\s*●\s*running/.test(await page.textContent('.steps')), 30000)
      .catch(async (e) => { throw new Error(`${e.message}; steps: ${await page.textContent('.steps')}; streams: ${JSON.stringify(await page.evaluate(() => window.kilnPage.streams()))}; kv: ${JSON.stringify((await kvState(id)).steps)}`); });
    await page.click('#cancel');
    const confirm = await page.waitForSelector('#confirm-cancel');
    assert.ok(await confirm.isVisible());
    await page.keyboard.press('Escape');
    assert.equal(await page.$('#confirm-cancel'), null, 'Escape closes the confirmation');
    await page.click('#cancel');
    await page.click('#confirm-cancel');
    await until('the page to show cancelled', async () => (await headerStatus()).endsWith('cancelled'), 30000);
    const api = await page.evaluate(async (i) => (await (await fetch(`/builds/${i}`)).json()).status, id);
    assert.equal(api, 'cancelled');
    assert.equal(await page.$('#cancel'), null);
  });

  await scenario('replay a dead-lettered build from the page: it runs again and its log grows', async () => {
    await openBuild(failId);
    await until('dead, with its log held', async () => (await headerStatus()).endsWith('dead') &&
      (await page.evaluate(() => window.kilnPage.logStore() && window.kilnPage.logStore().complete)), 30000);
    const before = await kvState(failId);
    const linesBefore = (await page.evaluate(() => window.kilnPage.lineNumbers())).length;
    await page.click('#replay');
    await until('a toast saying so', async () => /Replayed/.test(await page.textContent('body')), 10000);
    await until('the second run ended dead', async () => {
      const now = await kvState(failId);
      return now && now.status === 'dead' && now.finished_at !== before.finished_at;
    }, 60000);
    await until('its lines added to the log', async () =>
      (await page.evaluate(() => window.kilnPage.lineNumbers())).length > linesBefore, 30000);
    await until('the page shows dead again', async () => (await headerStatus()).endsWith('dead'), 15000);
  });

  await scenario('rebuild from the page opens the new build', async () => {
    await openBuild(failId);
    await page.click('#rebuild');
    await until('a new build', async () => {
      const h = await page.evaluate(() => location.hash);
      return h.startsWith('#/builds/') && !h.includes(encodeURIComponent(failId)) && h;
    }, 15000);
    await page.waitForSelector('.titlebar .status .badge');
  });

  await scenario('log out shows the login form; the API then answers 401', async () => {
    await page.click('#logout');
    await page.waitForSelector('form.login');
    const status = await page.evaluate(async () => (await fetch('/builds?limit=1')).status);
    assert.equal(status, 401);
  });

  await scenario('no script errors and no CSP violations on the page', async () => {
    assert.deepEqual(pageErrors.map((e) => e.message).filter((m) => !/Failed to load resource|ERR_INTERNET_DISCONNECTED|ERR_CONNECTION_REFUSED|401|403|404/.test(m)), []);
  });
} finally {
  await browser.close();
}

const failed = results.filter((r) => !r.ok);
console.log(`\n${results.length - failed.length} of ${results.length} scenarios passed`);
process.exit(failed.length ? 1 : 0);
