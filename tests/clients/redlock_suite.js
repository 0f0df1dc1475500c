'use strict';
// redlock (npm `redlock` 5.0.0-beta.2, over ioredis; pinned by package-lock.json) against one real
// activekv region: its Lua scripts (acquire / extend / release, sent with EVALSHA and, on
// NOSCRIPT, EVAL) run unchanged, and the lock gives mutual exclusion to a read-modify-write.
//   node redlock_suite.js HOST:PORT
// Environment: AKV_REDLOCK_WORKERS (default 8), AKV_REDLOCK_ROUNDS (increments each, default 25).

const Redis = require('ioredis');
const Redlock = require('redlock').default;
const { ExecutionError } = require('redlock');
const { test, defer, regions, run, assert } = require('./harness');

const R = regions();
const WORKERS = Number(process.env.AKV_REDLOCK_WORKERS || 8);
const ROUNDS = Number(process.env.AKV_REDLOCK_ROUNDS || 25);

function connect() {
  const c = new Redis({ host: R[0].host, port: R[0].port, maxRetriesPerRequest: 1,
                        retryStrategy: () => null });
  defer(() => c.quit().catch(() => c.disconnect()));
  return c;
}

test('the Lua scripts run unchanged: acquire, extend, release, NOSCRIPT falls back to EVAL',
     async () => {
  const c = connect();
  await c.script('FLUSH'); // the first EVALSHA gets NOSCRIPT; redlock then sends EVAL
  const redlock = new Redlock([c], { retryCount: 0 });
  const lock = await redlock.acquire(['rl:one'], 10000);
  assert.equal(await c.get('rl:one'), lock.value);
  const pttl = await c.pttl('rl:one');
  assert.ok(pttl > 9000 && pttl <= 10000, 'pttl ' + pttl);
  // Held: a second acquire fails (the acquire script returned 0 for the only server).
  let err = null;
  try {
    await redlock.acquire(['rl:one'], 10000);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof ExecutionError, 'expected ExecutionError, got ' + err);
  assert.equal(err.attempts.length, 1);
  const extended = await lock.extend(30000);
  assert.ok((await c.pttl('rl:one')) > 25000);
  assert.equal(await c.get('rl:one'), extended.value);
  // Multi-resource lock: all keys or none.
  const both = await redlock.acquire(['rl:a', 'rl:b'], 10000);
  assert.deepEqual(await c.mget('rl:a', 'rl:b'), [both.value, both.value]);
  await both.release();
  assert.equal(await c.exists('rl:a', 'rl:b'), 0);
  await extended.release();
  assert.equal(await c.get('rl:one'), null);
  // The scripts are cached now: SCRIPT EXISTS for what redlock sent with EVALSHA.
  const shas = Object.values(redlock.scripts).map((s) => s.hash);
  assert.deepEqual(await c.script('EXISTS', ...shas), [1, 1, 1]);
  // A lock taken by someone else's value is not released by us (the release script checks).
  const stolen = await redlock.acquire(['rl:two'], 10000);
  await c.set('rl:two', 'someone-else');
  await assert.rejects(stolen.release(), ExecutionError);
  assert.equal(await c.get('rl:two'), 'someone-else');
});

test(WORKERS + ' workers x ' + ROUNDS + ' GET/SET increments under the lock lose nothing',
     async () => {
  const admin = connect();
  await admin.del('rl:counter', 'rl:mutex');
  let inside = 0;
  let overlaps = 0;
  let contended = 0;
  async function worker() {
    const c = connect();
    const redlock = new Redlock([c], { retryCount: 2000, retryDelay: 2, retryJitter: 3,
                                       automaticExtensionThreshold: 500 });
    for (let i = 0; i < ROUNDS; i++) {
      const lock = await redlock.acquire(['rl:mutex'], 5000);
      if (lock.attempts.length > 1) contended++;
      inside++;
      if (inside > 1) overlaps++;
      try {
        const v = Number((await c.get('rl:counter')) || 0);
        await new Promise((resolve) => setImmediate(resolve)); // widen the race window
        await c.set('rl:counter', String(v + 1));
      } finally {
        inside--;
        await lock.release();
      }
    }
  }
  await Promise.all(Array.from({ length: WORKERS }, worker));
  assert.equal(overlaps, 0, 'two workers held the lock at once');
  assert.equal(Number(await admin.get('rl:counter')), WORKERS * ROUNDS);
  assert.equal(await admin.exists('rl:mutex'), 0);
  assert.ok(contended > 0, 'the workers never contended: the test proved nothing');
  console.log('     ' + WORKERS * ROUNDS + ' increments, ' + contended +
              ' acquisitions had to retry');
}, { timeoutMs: 60000 });

test('using(): the routine runs under the lock, which is released afterwards', async () => {
  const c = connect();
  const redlock = new Redlock([c], { retryCount: 50, retryDelay: 10 });
  const seen = await redlock.using(['rl:using'], 5000, async (signal) => {
    assert.equal(signal.aborted, false);
    return c.get('rl:using');
  });
  assert.match(seen, /^[0-9a-f]+$/);
  assert.equal(await c.exists('rl:using'), 0);
});

run('redlock');
