// Shared set-up for the browser tests: Debian's chromium through playwright-core.
import { chromium } from 'playwright-core';

export const BASE = process.env.QUIRE_URL ?? 'http://127.0.0.1:3210';

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
}

/// A fresh, unique account for one test.
export function newAccount(tag) {
  const id = `${tag}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
  return { name: `Tester ${id}`, email: `${id}@example.com`, password: 'correct horse battery' };
}

/// Waits until the WebAssembly app has hydrated the server-rendered page.
export async function hydrated(page) {
  await page.waitForSelector('body[data-hydrated="true"]', { timeout: 20000 });
}

export async function collectErrors(page) {
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  // A refused request (a 401 from a failed sign-in, say) is logged by the browser; that
  // is the app working, not a script error.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
  });
  return errors;
}

/// Fills in and submits the registration form on the current page.
export async function submitRegistration(page, acct) {
  await page.fill('#register-name', acct.name);
  await page.fill('#register-email', acct.email);
  await page.fill('#register-password', acct.password);
  await page.click('#register-form button[type=submit]');
}

/// Fills in and submits the sign-in form on the current page.
export async function submitSignIn(page, acct) {
  await page.fill('#login-email', acct.email);
  await page.fill('#login-password', acct.password);
  await page.click('#login-form button[type=submit]');
}

/// Registers `acct` through /register (after hydration when `js`) and lands on the dashboard.
export async function registerIn(page, acct, { js = true } = {}) {
  await page.goto(`${BASE}/register`);
  if (js) await hydrated(page);
  await submitRegistration(page, acct);
  await page.waitForURL(`${BASE}/dashboard`);
}

/// Signs `acct` in through /login (after hydration when `js`) and lands on the dashboard.
export async function signInAt(page, acct, { js = true } = {}) {
  await page.goto(`${BASE}/login`);
  if (js) await hydrated(page);
  await submitSignIn(page, acct);
  await page.waitForURL(`${BASE}/dashboard`);
}

/// Writes a draft in the editor (after hydration when `js`) and returns its row on the dashboard.
export async function writePost(page, { title, body, tags = 'e2e' }, { js = true } = {}) {
  await page.goto(`${BASE}/dashboard/posts/new`);
  if (js) await hydrated(page);
  await page.fill('#post-title', title);
  await page.fill('#post-body', body);
  await page.selectOption('#post-category', 'tech');
  await page.fill('#post-tags', tags);
  await page.click('#editor-form button[type=submit]');
  await page.waitForURL(`${BASE}/dashboard`);
  return page.locator('tr', { hasText: title });
}

/// Publishes the dashboard row `row` (hydrated page) and waits until it says so.
export async function publishRow(row) {
  await row.locator('button', { hasText: 'Publish' }).click();
  await row.locator('td', { hasText: 'Published' }).waitFor();
}

/// A fresh account signed up in `context`: its page (on the dashboard) and credentials.
export async function signedUp(context, tag, { js = true } = {}) {
  const page = await context.newPage();
  const acct = newAccount(tag);
  await registerIn(page, acct, { js });
  return { page, acct };
}
