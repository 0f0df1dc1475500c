'use strict';
// RESP3 through a real client: node-redis v5 (npm alias `redis5` = redis 5.x, pinned by
// package-lock.json) with `RESP: 3`, which sends HELLO 3 when it connects. The v4 suite
// (node_redis_suite.js) covers RESP2; redis-py 4.3.4 and ioredis have no RESP3 mode.
//   node resp3_suite.js HOST:PORT [HOST:PORT ...]   (the second region is remote)

const { createClient, RESP_TYPES, WatchError } = require('redis5');
const { test, defer, regions, waitFor, parseInfo, run, assert } = require('./harness');

const R = regions();

async function connect(region = 0, options = {}) {
  const c = createClient({
    RESP: 3,
    socket: { host: R[region].host, port: R[region].port, reconnectStrategy: false },
    ...options,
  });
  c.on('error', () => {});
  await c.connect();
  defer(() => c.close().catch(() => c.destroy()));
  return c;
}

test('HELLO 3: the connection speaks RESP3', async () => {
  const c = await connect();
  const hello = await c.sendCommand(['HELLO', '3']);
  assert.equal(hello.proto, 3);
  assert.equal(hello.server, 'redis');
  assert.equal(await c.get('r3:missing'), null); // RESP3 null
});

test('maps, sets and doubles arrive as their RESP3 types', async () => {
  const c = await connect();
  // Ask node-redis to keep the wire types: a Map for '%', a Set for '~'.
  const typed = c.withTypeMapping({ [RESP_TYPES.MAP]: Map, [RESP_TYPES.SET]: Set });
  await c.hSet('r3:h', { a: '1', b: '2' });
  const h = await typed.hGetAll('r3:h');
  assert.ok(h instanceof Map, 'HGETALL is not a map reply');
  assert.deepEqual([...h.entries()].sort(), [['a', '1'], ['b', '2']]);
  assert.deepEqual({ ...(await c.hGetAll('r3:h')) }, { a: '1', b: '2' });
  assert.equal(await c.hIncrBy('r3:h', 'a', 41), 42);
  await c.sAdd('r3:s', ['x', 'y']);
  const s = await typed.sMembers('r3:s');
  assert.ok(s instanceof Set, 'SMEMBERS is not a set reply');
  assert.deepEqual([...s].sort(), ['x', 'y']);
  await c.zAdd('r3:z', [{ score: 1.5, value: 'a' }, { score: 2, value: 'b' }]);
  assert.equal(await c.zScore('r3:z', 'a'), 1.5); // a RESP3 double
  assert.equal(await c.zIncrBy('r3:z', 2, 'a'), 3.5);
  assert.deepEqual(await c.zRangeWithScores('r3:z', 0, -1),
                   [{ value: 'b', score: 2 }, { value: 'a', score: 3.5 }]);
  const raw = await c.sendCommand(['ZRANGE', 'r3:z', '0', '-1', 'WITHSCORES']);
  assert.deepEqual(raw, [['b', 2], ['a', 3.5]]); // RESP3: pairs, scores as doubles
  assert.deepEqual(await c.zPopMax('r3:z'), { value: 'a', score: 3.5 });
});

test('strings, counters, lists and expiry', async () => {
  const c = await connect();
  assert.equal(await c.set('r3:k', 'v', { EX: 100 }), 'OK');
  const ttl = await c.ttl('r3:k');
  assert.ok(ttl > 90 && ttl <= 100, 'ttl ' + ttl);
  assert.equal(await c.incrBy('r3:n', 5), 5);
  assert.equal(await c.incrByFloat('r3:n', 0.5), '5.5');
  assert.equal(await c.rPush('r3:l', ['a', 'b', 'a']), 3);
  assert.equal(await c.lPos('r3:l', 'a', { RANK: 2 }), 2);
  assert.equal(await c.lMove('r3:l', 'r3:l2', 'RIGHT', 'LEFT'), 'a');
  assert.deepEqual(await c.lRange('r3:l', 0, -1), ['a', 'b']);
  assert.equal(await c.pExpire('r3:k', 30), 1);
  await waitFor('r3:k to expire', async () => (await c.exists('r3:k')) === 0, 5000);
});

test('pipeline, MULTI/EXEC and WATCH over RESP3', async () => {
  const c = await connect();
  const piped = await c.multi().set('r3:t', '1').incr('r3:t').hSet('r3:th', 'f', 'v')
    .hGetAll('r3:th').execAsPipeline();
  assert.deepEqual(piped.slice(0, 3), ['OK', 2, 1]);
  assert.deepEqual({ ...piped[3] }, { f: 'v' });
  assert.deepEqual(await c.multi().incr('r3:t').zAdd('r3:tz', { score: 1, value: 'm' })
    .zScore('r3:tz', 'm').exec(), [3, 1, 1]);
  const other = await connect();
  const w = await connect(); // a connection of its own for WATCH (v5 has no executeIsolated)
  assert.equal(await w.watch('r3:t'), 'OK');
  await other.set('r3:t', 'theirs');
  const err = await w.multi().set('r3:t', 'mine').exec().then(() => null, (e) => e);
  assert.ok(err instanceof WatchError, 'expected WatchError, got ' + err);
  assert.equal(await c.get('r3:t'), 'theirs');
});

test('EVAL over RESP3: redis.setresp(3) returns a map and a double', async () => {
  const c = await connect();
  await c.hSet('r3:eh', { f: 'v' });
  const map = await c.eval("redis.setresp(3) return redis.call('hgetall', KEYS[1])",
                           { keys: ['r3:eh'] });
  assert.deepEqual({ ...map }, { f: 'v' });
  assert.equal(await c.eval("return {double=3.25}"), 3.25);
  const sha = await c.scriptLoad("return redis.call('incr', KEYS[1])");
  assert.equal(await c.evalSha(sha, { keys: ['r3:en'] }), 1);
  await c.scriptFlush();
  let noscript = null;
  try {
    await c.evalSha(sha, { keys: ['r3:en'] });
  } catch (e) {
    noscript = e;
  }
  assert.ok(noscript && noscript.message.startsWith('NOSCRIPT'), String(noscript));
});

test('BLPOP over RESP3 woken by a push made in another region', async () => {
  assert.ok(R.length >= 2, 'needs a second region address');
  const c = await connect(0);
  const admin = await connect(0);
  const remote = await connect(1);
  const p = c.blPop('r3:xq', 20);
  await waitFor('a blocked client', async () =>
    Number(parseInfo(await admin.info('clients')).blocked_clients) >= 1);
  await remote.rPush('r3:xq', 'from-remote');
  assert.deepEqual({ ...(await p) }, { key: 'r3:xq', element: 'from-remote' });
}, { timeoutMs: 30000 });

test('SCAN / HSCAN iterators and SELECT over RESP3', async () => {
  const c = await connect();
  const fields = {};
  for (let i = 0; i < 200; i++) fields['f' + i] = String(i);
  await c.hSet('r3:hs', fields);
  await c.mSet(Object.fromEntries(Array.from({ length: 200 }, (_, i) => ['r3:sc:' + i, 'x'])));
  const keys = new Set();
  let batches = 0;
  for await (const batch of c.scanIterator({ MATCH: 'r3:sc:*', COUNT: 50 })) {
    batches++;
    batch.forEach((k) => keys.add(k));
  }
  assert.equal(keys.size, 200);
  assert.ok(batches > 1, 'one batch only: the cursor was not followed');
  const got = {};
  for await (const entries of c.hScanIterator('r3:hs', { COUNT: 30 })) {
    for (const { field, value } of entries) got[field] = value;
  }
  assert.deepEqual(got, fields);
  const d3 = await connect(0, { database: 3 });
  await d3.set('r3:db', 'three');
  assert.equal(await c.get('r3:db'), null);
  await c.select(3);
  assert.equal(await c.get('r3:db'), 'three');
});

run('node-redis-v5-resp3');
