'use strict';
// A minimal runner for the client acceptance suites (no test framework: fewer pinned packages).
//
//   node <suite>.js HOST:PORT [HOST:PORT ...]
//
// The first address is the region the suite mostly talks to; the others are other regions of the
// same active-active database (used for the cross-region cases). Each case gets a deadline; the
// process prints one line per case and exits 0 only if every case passed. Nothing sleeps for a
// fixed time: waits poll a condition with a deadline (waitFor).

const assert = require('node:assert/strict');

const cases = [];
const cleanups = [];

function test(name, fn, { timeoutMs = 15000 } = {}) {
  cases.push({ name, fn, timeoutMs });
}

// Registers an async function to run after the current case (close clients, ...).
function defer(fn) {
  cleanups.push(fn);
}

function regions() {
  const args = process.argv.slice(2);
  if (args.length === 0) {
    console.error('usage: node ' + process.argv[1] + ' HOST:PORT [HOST:PORT ...]');
    process.exit(2);
  }
  return args.map((a) => {
    const i = a.lastIndexOf(':');
    return { host: a.slice(0, i), port: Number(a.slice(i + 1)) };
  });
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Polls `predicate` (sync or async) until it returns a truthy value; throws after timeoutMs.
async function waitFor(what, predicate, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await predicate();
    if (v) return v;
    if (Date.now() > deadline) throw new Error('timed out waiting for ' + what);
    await sleep(5);
  }
}

// Parses the text of INFO into { field: value }.
function parseInfo(text) {
  const out = {};
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

// Asserts that the promise rejects and that the error message starts with `prefix`; returns it.
async function rejectsWith(promise, prefix) {
  let err = null;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  assert.ok(err, 'expected an error starting with ' + prefix + ', got success');
  assert.ok(String(err.message).startsWith(prefix),
            'expected an error starting with ' + JSON.stringify(prefix) + ', got ' +
            JSON.stringify(err.message));
  return err;
}

function withDeadline(promise, ms, name) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error('case timed out after ' + ms + ' ms')), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function runCleanups() {
  while (cleanups.length) {
    const fn = cleanups.pop();
    try {
      await withDeadline(Promise.resolve().then(fn), 3000, 'cleanup');
    } catch (e) {
      console.log('  (cleanup failed: ' + e.message + ')');
    }
  }
}

async function run(suite) {
  const only = process.env.AKV_CLIENT_CASE; // a substring: run only matching cases
  let passed = 0;
  const failed = [];
  const t0 = Date.now();
  for (const c of cases) {
    if (only && !c.name.includes(only)) continue;
    const start = Date.now();
    try {
      await withDeadline(Promise.resolve().then(c.fn), c.timeoutMs, c.name);
      passed++;
      console.log('ok   ' + suite + ': ' + c.name + ' (' + (Date.now() - start) + ' ms)');
    } catch (e) {
      failed.push(c.name);
      console.log('FAIL ' + suite + ': ' + c.name + '\n' + String(e && e.stack || e)
        .split('\n').map((l) => '     ' + l).join('\n'));
    }
    await runCleanups();
  }
  console.log(suite + ': ' + passed + ' cases ok, ' + failed.length + ' cases failed (' +
              (Date.now() - t0) + ' ms)' + (failed.length ? ': ' + failed.join('; ') : ''));
  process.exit(failed.length === 0 && passed > 0 ? 0 : 1);
}

module.exports = { test, defer, regions, waitFor, parseInfo, rejectsWith, run, sleep, assert };
