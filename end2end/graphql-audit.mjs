// GraphQL-over-HTTP conformance audit of Quire's GraphQL endpoint.
//
// Runs every audit from graphql-http's `serverAudits` (the reference implementation of the
// GraphQL over HTTP spec) against QUIRE_GRAPHQL_URL, one at a time, and prints one line per
// audit. Any audit that is not `ok` fails the run (exit status 1): MUST failures (`error`),
// SHOULD failures (`warn`) and MAY failures (`notice`) alike. A request that does not get an
// answer at all (connection refused, timeout) is reported as `error`.
//
//   QUIRE_GRAPHQL_URL=http://127.0.0.1:3210/api/graphql node graphql-audit.mjs

// `graphql-http/lib/audits` is not in the package's "exports" map, so import from the root
// (which re-exports the audits; it loads `graphql`, the peer dependency, for the handler).
import { serverAudits } from 'graphql-http';

const TIMEOUT_MS = 15_000; // per request; the server's own limit is QUIRE_REQUEST_TIMEOUT_SECS
const BODY_LIMIT = 600; // characters of a response body printed for a failed audit

const url = process.env.QUIRE_GRAPHQL_URL;
if (!url) {
  console.error('graphql-audit: set QUIRE_GRAPHQL_URL, e.g. http://127.0.0.1:3210/api/graphql');
  process.exit(2);
}
try {
  new URL(url);
} catch {
  console.error(`graphql-audit: QUIRE_GRAPHQL_URL is not a URL: ${url}`);
  process.exit(2);
}

// Every audit sends exactly one request. Remember it (to show what was sent when the audit
// fails) and the responses (to release the ones the audit did not read).
let sent = [];
async function fetchFn(input, init = {}) {
  sent.push({ input: String(input), init });
  const res = await fetch(input, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) });
  sent[sent.length - 1].res = res;
  return res;
}

function describeRequest({ input, init }) {
  const headers = Object.entries(init.headers ?? {}).map(([k, v]) => `${k}: ${v}`);
  let line = `${init.method ?? 'GET'} ${input}`;
  if (headers.length) line += ` [${headers.join('; ')}]`;
  if (init.body !== undefined) line += ` body=${init.body}`;
  const named = (h) => Object.keys(init.headers ?? {}).some((k) => k.toLowerCase() === h);
  // What Node's fetch adds on the wire when the audit leaves these out.
  const added = [];
  if (!named('accept')) added.push('accept: */*');
  if (init.body !== undefined && !named('content-type')) added.push('content-type: text/plain;charset=UTF-8');
  if (added.length) line += ` (fetch adds ${added.join('; ')})`;
  return line;
}

function errorText(err) {
  let text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  for (let cause = err?.cause; cause; cause = cause.cause) {
    text += ` (cause: ${cause.code ?? cause.name ?? 'error'}: ${cause.message ?? cause})`;
  }
  return text;
}

async function describeResponse(res) {
  if (!res) return null;
  const type = res.headers.get('content-type') ?? '(none)';
  let body;
  try {
    body = await res.text();
    if (body.length > BODY_LIMIT) body = `${body.slice(0, BODY_LIMIT)}… (${body.length} chars)`;
    body = JSON.stringify(body);
  } catch (err) {
    body = `(unreadable: ${errorText(err)})`; // the audit itself already read it
  }
  return `status ${res.status}, content-type ${type}, body ${body}`;
}

async function release() {
  for (const { res } of sent) {
    if (res?.body && !res.bodyUsed) {
      try {
        await res.body.cancel();
      } catch {
        // locked or already closed: nothing left to release
      }
    }
  }
  sent = [];
}

const audits = serverAudits({ url, fetchFn });
const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
const failed = [];

console.log(`GraphQL over HTTP audit of ${url} (${audits.length} audits)`);
for (const audit of audits) {
  let status;
  let details = [];
  try {
    const result = await audit.fn();
    status = result.status;
    if (status !== 'ok') {
      details.push(`reason: ${result.reason}`);
      const response = await describeResponse(result.response);
      if (response) details.push(`response: ${response}`);
    }
  } catch (err) {
    // Anything but a failed assertion: no answer, or an answer the audit could not handle.
    status = 'error';
    details.push(`reason: request failed: ${errorText(err)}`);
    const res = sent.at(-1)?.res;
    if (res) details.push(`response: ${await describeResponse(res.bodyUsed ? null : res) ?? `status ${res.status}`}`);
  }
  if (status !== 'ok') {
    for (const request of sent) details.push(`request: ${describeRequest(request)}`);
    failed.push(audit.id);
  }
  await release();

  counts[status] = (counts[status] ?? 0) + 1;
  console.log(`${status.padEnd(6)} ${audit.id} ${audit.name}`);
  for (const line of details) console.log(`         ${line}`);
}

const summary = Object.entries(counts)
  .map(([status, n]) => `${n} ${status}`)
  .join(', ');
console.log(`\n${audits.length} audits: ${summary}`);
if (failed.length) {
  console.log(`FAILED: ${failed.length} audit(s) not ok: ${failed.join(' ')}`);
  process.exitCode = 1;
} else {
  console.log('PASSED: every audit ok');
  process.exitCode = 0;
}
