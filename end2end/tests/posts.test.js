// Publishing in a real browser: write, publish, read, comment, like, edit, conflict, delete.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, launch, hydrated, collectErrors, signedUp, signInAt, writePost, publishRow } from './helpers.js';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('write, publish, read, comment, like, edit and delete (JavaScript on)', async () => {
  const context = await browser.newContext();
  const { page } = await signedUp(context, 'writer');
  const errors = await collectErrors(page);
  const title = `Hello from the browser ${Date.now()}`;

  const row = await writePost(page, { title, body: 'Some **bold** words.' });
  await hydrated(page);
  assert.match(await row.textContent(), /Draft/);
  await page.evaluate(() => { window.__noReload = true; });
  await publishRow(row);
  assert.equal(await page.evaluate(() => window.__noReload), true, 'the list refreshed without a reload');

  await page.goto(`${BASE}/`);
  await page.click(`text=${title}`);
  await page.waitForSelector('.prose strong');
  await hydrated(page);
  await page.evaluate(() => { window.__noReload = true; });
  await page.fill('#comment-body', 'A comment from e2e');
  await page.click('#comment-form button[type=submit]');
  await page.locator('.comment-body', { hasText: 'A comment from e2e' }).waitFor();
  assert.equal(await page.textContent('[data-testid=comment-count]'), '1');
  await page.click('[data-testid=like-button]');
  await page.locator('[data-testid=like-count]', { hasText: '1' }).waitFor();
  assert.equal(await page.evaluate(() => window.__noReload), true, 'counts updated without a reload');

  // Edit, then delete from the dashboard.
  await page.goto(`${BASE}/dashboard`);
  await hydrated(page);
  await page.locator('tr', { hasText: title }).locator('a', { hasText: 'Edit' }).click();
  await page.waitForSelector('#post-body');
  await hydrated(page);
  await page.fill('#post-body', 'Edited body.');
  await page.click('#editor-form button[type=submit]');
  await page.waitForURL(`${BASE}/dashboard`);
  await hydrated(page);
  await page.locator('tr', { hasText: title }).locator('button', { hasText: 'Delete' }).click();
  await page.locator('tr', { hasText: title }).waitFor({ state: 'detached' });
  await page.goto(`${BASE}/`);
  assert.equal(await page.locator(`text=${title}`).count(), 0);
  assert.deepEqual(errors, []);
  await context.close();
});

test('the editor checks fields as they are typed and shows a refused save in place (JavaScript on)', async () => {
  const context = await browser.newContext();
  const { page } = await signedUp(context, 'checker');
  const errors = await collectErrors(page);
  await page.goto(`${BASE}/dashboard/posts/new`);
  await hydrated(page);
  await page.fill('#post-tags', Array.from({ length: 11 }, (_, i) => `t${i}`).join(', '));
  await page.waitForSelector('#tags-error');
  await page.fill('#post-tags', 'fine');
  await page.locator('#tags-error').waitFor({ state: 'detached' });
  // A title of spaces passes the browser's `required`; the server refuses it, and the editor
  // shows why without leaving the page.
  await page.evaluate(() => { window.__noReload = true; });
  await page.fill('#post-title', '   ');
  await page.fill('#post-body', 'A body.');
  await page.click('#editor-form button[type=submit]');
  await page.waitForSelector('#title-error');
  await page.waitForFunction(() => !document.querySelector('#editor-form button[type=submit]').disabled);
  assert.equal(page.url(), `${BASE}/dashboard/posts/new`);
  assert.equal(await page.evaluate(() => window.__noReload), true, 'no reload');
  assert.equal(await page.inputValue('#post-body'), 'A body.', 'what was typed stays');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a stale edit in a second window shows a conflict instead of overwriting', async () => {
  const first = await browser.newContext();
  const { page: a, acct } = await signedUp(first, 'conflict');
  const title = `Conflict ${Date.now()}`;
  await writePost(a, { title, body: 'Original.' });
  const editHref = await a.locator('tr', { hasText: title }).locator('a', { hasText: 'Edit' }).getAttribute('href');

  const second = await browser.newContext();
  const b = await second.newPage();
  await signInAt(b, acct);

  await a.goto(`${BASE}${editHref}`);
  await b.goto(`${BASE}${editHref}`);
  await hydrated(a);
  await hydrated(b);
  await a.fill('#post-body', 'Saved first.');
  await a.click('#editor-form button[type=submit]');
  await a.waitForURL(`${BASE}/dashboard`);

  await b.fill('#post-body', 'Saved second, from a stale copy.');
  await b.click('#editor-form button[type=submit]');
  await b.waitForSelector('[data-testid=conflict]');
  assert.match(await b.textContent('[data-testid=conflict]'), /changed at .* version 2/);
  await first.close();
  await second.close();
});

test('a post with script and onerror in its body renders inert', async () => {
  const context = await browser.newContext();
  const { page } = await signedUp(context, 'xss');
  const title = `Inert ${Date.now()}`;
  const body = 'Hi\n\n<script>window.__xss = 1; alert(1)</script>\n\n<img src="x" onerror="window.__xss = 2; alert(2)">\n\n[link](javascript:alert(3))';
  const row = await writePost(page, { title, body });
  await hydrated(page);
  await publishRow(row);

  let dialogs = 0;
  page.on('dialog', (d) => { dialogs += 1; d.dismiss(); });
  await page.goto(`${BASE}/`);
  await page.click(`text=${title}`);
  await page.waitForSelector('.prose');
  await hydrated(page);
  await page.waitForTimeout(300);
  assert.equal(dialogs, 0);
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  assert.equal(await page.locator('.prose script').count(), 0);
  assert.equal(await page.locator('.prose [onerror]').count(), 0);
  assert.equal(await page.locator('.prose a[href^="javascript"]').count(), 0);
  await context.close();
});

test('create, publish and comment with JavaScript disabled', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const { page } = await signedUp(context, 'nojs-writer', { js: false });
  const title = `No script needed ${Date.now()}`;
  const row = await writePost(page, { title, body: 'Plain forms.' }, { js: false });
  await row.locator('button', { hasText: 'Publish' }).click();
  // A plain POST, then the redirect back to the dashboard shows the new state.
  await page.locator('tr', { hasText: title }).locator('td', { hasText: 'Published' }).waitFor();

  await page.goto(`${BASE}/`);
  await page.click(`text=${title}`);
  await page.waitForSelector('#comment-form');
  await page.fill('#comment-body', 'Commented without JS');
  await page.click('#comment-form button[type=submit]');
  await page.locator('.comment-body', { hasText: 'Commented without JS' }).waitFor();
  assert.equal(await page.textContent('[data-testid=comment-count]'), '1');
  await context.close();
});

test('a signed-out visitor is served a cached post page that still hydrates under its own nonce', async () => {
  const context = await browser.newContext();
  const { page: writer } = await signedUp(context, 'cached');
  const title = `Cached page ${Date.now()}`;
  const row = await writePost(writer, { title, body: 'A page for the page cache.' });
  await hydrated(writer);
  await publishRow(row);
  await context.close();

  const visitor = await browser.newContext();
  const first = await visitor.newPage();
  await first.goto(`${BASE}/`);
  await first.click(`text=${title}`);
  await first.waitForSelector('.prose');
  const url = first.url();
  await first.close();

  const seen = [];
  for (let i = 0; i < 2; i++) {
    const page = await visitor.newPage();
    const errors = await collectErrors(page);
    const res = await page.goto(url);
    assert.equal(res.status(), 200);
    await hydrated(page); // the islands ran: their scripts passed the page's CSP
    assert.ok((await page.content()).includes(title), 'the post is on the page');
    assert.deepEqual(errors, [], 'no script refused, no script error');
    const nonce = /'nonce-([^']+)'/.exec(res.headers()['content-security-policy'] ?? '')?.[1];
    assert.ok(nonce, 'a nonce in the policy');
    seen.push({ cache: res.headers()['x-cache'], nonce });
    await page.close();
  }
  assert.equal(seen[1].cache, 'HIT', 'the second visit is served from the page cache');
  assert.notEqual(seen[0].nonce, seen[1].nonce, 'each answer has a nonce of its own');
  await visitor.close();
});
