// Screenshots of the build page for the README, from a real stack:
//   python3 tests/browser/run.py BUILD_DIR --screenshots
// writes docs/images/builds-list.png and docs/images/build-page.png (1280x800).
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const URL = process.env.KILN_URL, TOKEN = process.env.KILN_TOKEN, CTL = process.env.KILN_CONTROL;
const out = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'images');
mkdirSync(out, { recursive: true });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function ctl(path, body) {
  const res = await fetch(CTL + path, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) });
  return res.json();
}
const submit = async (pipeline, extra = {}) => (await ctl('/submit', { pipeline, ...extra })).job;
async function waitStatus(id, statuses) {
  for (let i = 0; i < 600; i++) {
    const s = await ctl(`/state/${id}`);
    if (s && statuses.includes(s.status)) return s;
    await sleep(200);
  }
  throw new Error(`${id} never ${statuses}`);
}

const ids = [];
ids.push(await submit('quick', { id: '01JEX4Q8Z3B0ACMEWIDGETS001', branch: 'main' }));
ids.push(await submit('retry', { id: '01JEX4QB2M7DOCSSITE00000002', branch: 'main', repo: 'https://github.com/acme/docs-site.git' }));
ids.push(await submit('quick', { id: '01JEX4QF6P1APIGATEWAY00003', branch: 'release/2.4', repo: 'https://github.com/acme/api-gateway.git' }));
const demo = await submit('demo', { id: '01JEX4QK9T5ACMEWIDGETS0004', branch: 'feature/checkout-discount' });
await waitStatus(demo, ['failed', 'dead']);
for (const id of ids) await waitStatus(id, ['succeeded', 'failed', 'dead']);
ids.push(await submit('sleep', { id: '01JEX4QR3W8ACMEWIDGETS0005', branch: 'feature/dark-mode' }));
await waitStatus(ids[ids.length - 1], ['running']);
await sleep(1500);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: process.env.SCHEME || 'light' });
  const page = await context.newPage();
  await page.goto(URL + '/');
  await page.fill('#token', TOKEN);
  await page.click('form.login button[type=submit]');
  await page.waitForSelector(`tr[data-id="${demo}"]`);
  await sleep(500);
  await page.screenshot({ path: join(out, 'builds-list.png') });
  await page.evaluate((id) => { location.hash = `#/builds/${id}`; }, demo);
  await page.waitForFunction(() => window.kilnPage.logStore() && window.kilnPage.logStore().complete);
  await page.waitForSelector('.log-row.err');
  await page.evaluate(() => window.scrollTo(0, document.querySelector('.titlebar').offsetTop - 6));
  await sleep(400);
  await page.screenshot({ path: join(out, 'build-page.png') });
  // the running build cancelled, so the stack stops quickly
  await page.evaluate(async (id) => fetch(`/builds/${id}/cancel`, { method: 'POST', headers: { 'X-Kiln-Csrf': '1' } }), ids[ids.length - 1]);
} finally {
  await browser.close();
}
console.log(`wrote ${out}/builds-list.png and build-page.png`);
