// Live updates and streams in a real browser: a second browser context sees a new comment
// and the notification count change without reloading; the report page's progress bar
// reaches 100% and the file downloads; the editor's upload shows progress and inserts the image.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BASE, launch, hydrated, collectErrors, signedUp, writePost, publishRow } from './helpers.js';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function publishedPost(page, title) {
  const row = await writePost(page, { title, body: 'Watch the comments arrive.' });
  await hydrated(page);
  await publishRow(row);
}

test('a comment appears live for the author, with the unread count', async () => {
  const authorCtx = await browser.newContext();
  const readerCtx = await browser.newContext();
  const { page: author } = await signedUp(authorCtx, 'live-author');
  const errors = await collectErrors(author);
  const title = `Live post ${Date.now()}`;
  await publishedPost(author, title);

  await author.goto(`${BASE}/`);
  await author.click(`text=${title}`);
  await hydrated(author);
  const postUrl = author.url();
  // The post.published notification already counts; remember where the count stands.
  const badge = author.locator('[data-testid=unread-count]');
  const before = Number(await badge.textContent());
  await author.evaluate(() => { window.__noReload = true; });

  const { page: reader } = await signedUp(readerCtx, 'live-reader');
  await reader.goto(postUrl);
  await hydrated(reader);
  await reader.fill('#comment-body', 'Hello from another browser');
  await reader.click('#comment-form button[type=submit]');
  await reader.locator('.comment-body', { hasText: 'Hello from another browser' }).waitFor();

  // The author's page changes by itself.
  await author.locator('.comment-body', { hasText: 'Hello from another browser' }).waitFor({ timeout: 5000 });
  await author.locator('[data-testid=unread-count]', { hasText: String(before + 1) }).waitFor({ timeout: 5000 });
  assert.equal(await author.textContent('[data-testid=comment-count]'), '1');
  assert.equal(await author.evaluate(() => window.__noReload), true, 'no reload happened');

  // The notifications page lists it; marking all read clears the count.
  await author.click('a.notifications-link');
  await author.waitForURL(`${BASE}/notifications`);
  await hydrated(author);
  await author.locator('.notification', { hasText: 'commented on' }).waitFor();
  await author.click('[data-testid=mark-all-read]');
  await author.locator('[data-testid=unread-count]', { hasText: '0' }).waitFor({ timeout: 5000 });
  assert.deepEqual(errors, []);
  await authorCtx.close();
  await readerCtx.close();
});

test('the report page streams progress to 100% and downloads the file', async () => {
  const context = await browser.newContext({ acceptDownloads: true });
  const { page } = await signedUp(context, 'reporter');
  const errors = await collectErrors(page);
  await publishedPost(page, `Report me ${Date.now()}`);
  await page.goto(`${BASE}/reports`);
  await hydrated(page);
  const download = page.waitForEvent('download');
  await page.click('[data-testid=export]');
  await page.locator('[data-testid=report-percent]', { hasText: '100%' }).waitFor({ timeout: 10000 });
  assert.equal(await page.getAttribute('[data-testid=report-progress]', 'value'), '100');
  const file = await download;
  assert.match(file.suggestedFilename(), /^quire-my-posts-\d{8}-\d{6}\.csv$/);
  const path = await file.path();
  const text = await readFile(path, 'utf8');
  assert.match(text, /^id,title,slug,category,published/);
  assert.equal(text.trim().split('\n').length, 2, 'a header and one post');
  await page.locator('[data-testid=report-list] td', { hasText: 'complete' }).first().waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test('reports work without JavaScript', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const { page } = await signedUp(context, 'report-nojs', { js: false });
  await page.goto(`${BASE}/reports`);
  await page.selectOption('select[name=format]', 'json');
  await page.click('[data-testid=export]');
  // The server function redirects back to the page it came from.
  await page.waitForURL(/\/reports\??$/);
  const link = page.locator('[data-testid=report-list] a', { hasText: 'Download' });
  await link.first().waitFor();
  const href = await link.first().getAttribute('href');
  const res = await page.request.get(`${BASE}${href}`);
  assert.equal(res.status(), 200);
  assert.equal(res.headers()['content-type'], 'application/json');
  assert.deepEqual(await res.json(), []);
  await context.close();
});

test('the editor uploads an image with progress and inserts its Markdown', async () => {
  const context = await browser.newContext();
  const { page } = await signedUp(context, 'uploader');
  const errors = await collectErrors(page);
  // A real PNG (1×1), padded with a text chunk so there is something to send.
  const png = Buffer.from(
    '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a4f4a5a50000000049454e44ae426082',
    'hex',
  );
  const file = join(tmpdir(), `quire-e2e-${Date.now()}.png`);
  await writeFile(file, png);
  await page.goto(`${BASE}/dashboard/posts/new`);
  await hydrated(page);
  await page.fill('#post-body', 'Before the picture.');
  await page.setInputFiles('#post-image', file);
  await page.click('[data-testid=upload-button]');
  await page.locator('[data-testid=upload-done]').waitFor({ timeout: 10000 });
  assert.equal(await page.getAttribute('[data-testid=upload-progress]', 'value'), '100');
  const body = await page.inputValue('#post-body');
  assert.match(body, /!\[quire-e2e-\d+\.png\]\(\/uploads\/[0-9a-f]{64}\.png\)/);
  const url = body.match(/\((\/uploads\/[^)]+)\)/)[1];
  const res = await page.request.get(`${BASE}${url}`);
  assert.equal(res.status(), 200);
  assert.equal(res.headers()['content-type'], 'image/png');
  assert.deepEqual(errors, []);
  await context.close();
});
