// Accounts in a real browser, with JavaScript (hydrated app) and without it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  BASE, launch, newAccount, hydrated, collectErrors, submitRegistration as register, submitSignIn as signIn,
} from './helpers.js';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('register, sign out, sign in and reach the dashboard (JavaScript on)', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = await collectErrors(page);
  const acct = newAccount('js');

  await page.goto(`${BASE}/register`);
  await hydrated(page);
  await register(page, acct);
  await page.waitForURL(`${BASE}/dashboard`);
  await page.waitForSelector('[data-testid=dashboard-greeting]');
  assert.match(await page.textContent('[data-testid=current-user]'), new RegExp(acct.name));

  await hydrated(page);
  await page.click('text=Sign out');
  await page.waitForURL(`${BASE}/`);
  await page.waitForSelector('a[href="/login"]');
  assert.equal(await page.locator('[data-testid=current-user]').count(), 0);

  await page.goto(`${BASE}/login`);
  await hydrated(page);
  await signIn(page, { ...acct, password: 'wrong password!' });
  await page.waitForSelector('.form-error');
  assert.match(await page.textContent('.form-error'), /Invalid email or password/);

  await signIn(page, acct);
  await page.waitForURL(`${BASE}/dashboard`);
  assert.match(await page.textContent('[data-testid=dashboard-greeting]'), new RegExp(acct.email));
  assert.deepEqual(errors, [], 'no script errors (CSP and hydration)');
  await context.close();
});

test('a protected page sends a visitor to sign in and back again', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const acct = newAccount('next');
  // An account to sign in with, made in another context.
  const other = await browser.newContext();
  const setup = await other.newPage();
  await setup.goto(`${BASE}/register`);
  await register(setup, acct);
  await setup.waitForURL(`${BASE}/dashboard`);
  await other.close();

  await page.goto(`${BASE}/dashboard`);
  await page.waitForURL(`${BASE}/login?next=%2Fdashboard`);
  await hydrated(page);
  await signIn(page, acct);
  await page.waitForURL(`${BASE}/dashboard`);
  await page.waitForSelector('[data-testid=dashboard-greeting]');
  await context.close();
});

test('registration and sign-in work with JavaScript disabled', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  const acct = newAccount('nojs');

  await page.goto(`${BASE}/register`);
  await register(page, acct);
  await page.waitForURL(`${BASE}/dashboard`);
  assert.match(await page.textContent('[data-testid=current-user]'), new RegExp(acct.name));

  await page.click('text=Sign out');
  await page.waitForURL(`${BASE}/`);
  assert.equal(await page.locator('[data-testid=current-user]').count(), 0);

  // Server-side validation: registering the same e-mail again comes back, after a plain
  // POST and redirect, with the error next to the field.
  await page.goto(`${BASE}/register`);
  await register(page, { ...acct, name: 'Someone Else' });
  await page.waitForSelector('#email-error');
  assert.match(await page.textContent('#email-error'), /already exists/);

  await page.goto(`${BASE}/dashboard`);
  await page.waitForURL(`${BASE}/login?next=%2Fdashboard`);
  await signIn(page, acct);
  await page.waitForURL(`${BASE}/dashboard`);
  assert.match(await page.textContent('[data-testid=dashboard-greeting]'), new RegExp(acct.name));
  await context.close();
});
