// The live operations dashboard in a real browser, as an administrator (scripts/test makes one
// on a Quire of its own and passes it as QUIRE_E2E_ADMIN=email:password): a chart's newest
// point moves when traffic arrives; without JavaScript the page is a static snapshot.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, launch, hydrated, collectErrors, signInAt } from '../tests/helpers.js';

const [email, password] = (process.env.QUIRE_E2E_ADMIN ?? '').split(':');
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('a chart\'s newest point moves when traffic arrives (JavaScript on)', async () => {
  assert.ok(email && password, 'QUIRE_E2E_ADMIN names an administrator');
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = await collectErrors(page);
  await signInAt(page, { email, password });
  await page.goto(`${BASE}/admin/ops`);
  await hydrated(page);
  const rps = page.locator('figure[data-series="rps"]');
  await rps.waitFor();
  const first = Number(await rps.getAttribute('data-at'));

  // Steady traffic while the chart is watched: the next seconds carry it.
  let sending = true;
  const traffic = (async () => {
    while (sending) {
      await Promise.all(Array.from({ length: 10 }, () => fetch(`${BASE}/api/v1/health`).then((r) => r.text())));
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  try {
    await page.waitForFunction((since) => {
      const f = document.querySelector('figure[data-series="rps"]');
      return f && Number(f.dataset.at) > since && Number(f.dataset.latest) > 0;
    }, first, { timeout: 15000 });
  } finally {
    sending = false;
    await traffic;
  }
  const points = await rps.locator('polyline').getAttribute('points');
  assert.ok(points.trim().split(' ').length >= 2, `a line, not a dot: ${points}`);
  assert.match(await rps.locator('figcaption strong').textContent(), /req\/s/);
  assert.deepEqual(errors, []);
  await context.close();
});

test('without JavaScript the dashboard is a static snapshot of every chart', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await signInAt(page, { email, password }, { js: false });
  await page.goto(`${BASE}/admin/ops`);
  assert.equal(await page.locator('figure.chart').count(), 8);
  for (const series of ['rps', 'p50', 'p99', 'errors', 'sse', 'queue', 'signups', 'posts']) {
    const points = await page.locator(`figure[data-series="${series}"] polyline`).getAttribute('points');
    assert.ok(points && points.trim().length > 0, `${series} is drawn`);
  }
  await context.close();
});
