// The API's browser-facing parts: the settings page's token manager (with and without
// JavaScript) and the API documentation page, rendered from Quire's own assets.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, launch, newAccount, hydrated, collectErrors, registerIn } from './helpers.js';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function createToken(page, name, write) {
  const form = page.locator('[data-testid=new-token-form]');
  await form.locator('input[name=name]').fill(name);
  if (write) await form.locator('input[name=write]').check();
  await form.locator('button[type=submit]').click();
  await page.waitForSelector('[data-testid=new-token-secret]');
  return (await page.textContent('[data-testid=new-token-secret]')).trim();
}

for (const javaScriptEnabled of [true, false]) {
  test(`settings: create a token, shown once, use it, revoke it (JavaScript ${javaScriptEnabled ? 'on' : 'off'})`, async () => {
    const context = await browser.newContext({ javaScriptEnabled });
    const page = await context.newPage();
    const errors = await collectErrors(page);
    const acct = newAccount(javaScriptEnabled ? 'tok-js' : 'tok-nojs');
    await registerIn(page, acct, { js: javaScriptEnabled });

    await page.goto(`${BASE}/settings`);
    if (javaScriptEnabled) await hydrated(page);
    await page.waitForSelector('[data-testid=no-tokens]');
    const secret = await createToken(page, 'deploy bot', true);
    assert.match(secret, /^qrt_/);
    assert.match(await page.textContent('[data-testid=token-table]'), /deploy bot/);

    // The secret works against the API.
    const me = await fetch(`${BASE}/api/v1/me`, { headers: { authorization: `Bearer ${secret}` } });
    assert.equal(me.status, 200);
    assert.equal((await me.json()).email, acct.email);

    // Shown once: a reload no longer has it.
    await page.reload();
    await page.waitForSelector('[data-testid=token-table]');
    assert.equal(await page.locator('[data-testid=new-token-secret]').count(), 0);

    if (javaScriptEnabled) await hydrated(page);
    await page.click('[data-testid=token-table] button:has-text("Revoke")');
    await page.waitForSelector('[data-testid=no-tokens]');
    const after = await fetch(`${BASE}/api/v1/me`, { headers: { authorization: `Bearer ${secret}` } });
    assert.equal(after.status, 401);
    assert.deepEqual(errors, []);
    await context.close();
  });
}

test('the API docs page renders the OpenAPI document with no outside requests', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = await collectErrors(page);
  const outside = [];
  page.on('request', (r) => { if (!r.url().startsWith(BASE)) outside.push(r.url()); });
  await page.goto(`${BASE}/api/docs`);
  await page.waitForSelector('.swagger-ui .opblock', { timeout: 20000 });
  const text = await page.textContent('.swagger-ui');
  assert.match(text, /Quire API/);
  assert.match(text, /\/api\/v1\/posts/);
  assert.deepEqual(outside, [], 'everything comes from Quire itself');
  assert.deepEqual(errors, []);
  await context.close();
});
