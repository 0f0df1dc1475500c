'use strict';
// node-redis v4 (npm `redis`, pinned by tests/clients/package-lock.json) against real activekv
// regions.   node node_redis_suite.js HOST:PORT [HOST:PORT ...]   (the second region is remote)
// node-redis v4 speaks RESP2 only (RESP3 came with v5).

const { createClient, defineScript, commandOptions, WatchError } = require('redis');
const { test, defer, regions, waitFor, parseInfo, rejectsWith, run, assert } = require('./harness');

const R = regions();

const addScript = defineScript({
  NUMBER_OF_KEYS: 1,
  SCRIPT: "return redis.call('incrby', KEYS[1], ARGV[1])",
  transformArguments(key, n) {
    return [key, n.toString()];
  },
  transformReply(reply) {
    return reply;
  },
});

async function connect(region = 0, options = {}) {
  const c = createClient({
    socket: { host: R[region].host, port: R[region].port, reconnectStrategy: false },
    scripts: { akvAdd: addScript },
    ...options,
  });
  c.on('error', () => {}); // errors surface as rejected commands
  await c.connect();
  defer(() => c.quit().catch(() => c.disconnect()));
  return c;
}

async function waitBlocked(admin, n = 1) {
  await waitFor('a blocked client', async () =>
    Number(parseInfo(await admin.info('clients')).blocked_clients) >= n);
}

test('strings and counters', async () => {
  const c = await connect();
  assert.equal(await c.set('nr:s', 'hello'), 'OK');
  assert.equal(await c.get('nr:s'), 'hello');
  assert.equal(await c.append('nr:s', ' world'), 11);
  assert.equal(await c.set('nr:s', 'x', { NX: true }), null);
  assert.equal(await c.set('nr:s', 'v2', { GET: true }), 'hello world');
  assert.equal(await c.mSet({ 'nr:m1': 'a', 'nr:m2': 'b' }), 'OK');
  assert.deepEqual(await c.mGet(['nr:m1', 'nr:m2', 'nr:missing']), ['a', 'b', null]);
  assert.equal(await c.incr('nr:n'), 1);
  assert.equal(await c.incrBy('nr:n', 41), 42);
  assert.equal(await c.decr('nr:n'), 41);
  assert.equal(await c.decrBy('nr:n', 1), 40);
  assert.equal(await c.incrByFloat('nr:n', 2.5), '42.5');
  assert.equal(await c.get('nr:n'), '42.5');
  await rejectsWith(c.incr('nr:s'), 'ERR value is not an integer or out of range');
  assert.equal(await c.getDel('nr:m1'), 'a');
  assert.equal(await c.exists(['nr:m1', 'nr:m2']), 1);
  const buf = await c.get(commandOptions({ returnBuffers: true }), 'nr:m2');
  assert.ok(Buffer.isBuffer(buf) && buf.toString() === 'b');
});

test('hashes', async () => {
  const c = await connect();
  assert.equal(await c.hSet('nr:h', { name: 'ada', lang: 'js', n: '1' }), 3);
  assert.deepEqual({ ...(await c.hGetAll('nr:h')) }, { name: 'ada', lang: 'js', n: '1' });
  assert.equal(await c.hIncrBy('nr:h', 'n', 9), 10);
  assert.equal(await c.hIncrByFloat('nr:h', 'n', 0.5), '10.5');
  assert.equal(await c.hGet('nr:h', 'n'), '10.5');
  assert.deepEqual(await c.hmGet('nr:h', ['name', 'nope']), ['ada', null]);
  assert.equal(await c.hDel('nr:h', ['lang', 'nope']), 1);
  assert.equal(await c.hExists('nr:h', 'lang'), false);
  assert.equal(await c.hLen('nr:h'), 2);
  assert.deepEqual({ ...(await c.hGetAll('nr:none')) }, {});
  await c.set('nr:str', 'x');
  await rejectsWith(c.hSet('nr:str', 'f', 'v'), 'WRONGTYPE');
});

test('sets', async () => {
  const c = await connect();
  assert.equal(await c.sAdd('nr:set', ['a', 'b', 'c', 'a']), 3);
  assert.deepEqual((await c.sMembers('nr:set')).sort(), ['a', 'b', 'c']);
  assert.equal(await c.sIsMember('nr:set', 'b'), true);
  assert.deepEqual(await c.smIsMember('nr:set', ['a', 'z']), [true, false]);
  assert.equal(await c.sRem('nr:set', ['b', 'z']), 1);
  assert.equal(await c.sCard('nr:set'), 2);
  await c.sAdd('nr:set2', ['c', 'd']);
  assert.deepEqual(await c.sInter(['nr:set', 'nr:set2']), ['c']);
  assert.deepEqual((await c.sUnion(['nr:set', 'nr:set2'])).sort(), ['a', 'c', 'd']);
});

test('sorted sets', async () => {
  const c = await connect();
  assert.equal(await c.zAdd('nr:z', [{ score: 1, value: 'a' }, { score: 2, value: 'b' },
                                      { score: 3, value: 'c' }]), 3);
  assert.deepEqual(await c.zRangeWithScores('nr:z', 0, -1),
                   [{ value: 'a', score: 1 }, { value: 'b', score: 2 }, { value: 'c', score: 3 }]);
  assert.equal(await c.zIncrBy('nr:z', 2.5, 'a'), 3.5);
  assert.deepEqual(await c.zRange('nr:z', 0, -1), ['b', 'c', 'a']);
  assert.deepEqual(await c.zRange('nr:z', '+inf', '(2', { BY: 'SCORE', REV: true }), ['a', 'c']);
  assert.equal(await c.zScore('nr:z', 'c'), 3);
  assert.equal(await c.zRank('nr:z', 'a'), 2);
  assert.equal(await c.zCard('nr:z'), 3);
  assert.deepEqual(await c.zPopMin('nr:z'), { value: 'b', score: 2 });
  assert.equal(await c.zRem('nr:z', 'a'), 1);
  assert.deepEqual(await c.zRangeWithScores('nr:z', 0, -1), [{ value: 'c', score: 3 }]);
});

test('lists', async () => {
  const c = await connect();
  assert.equal(await c.rPush('nr:l', ['b', 'c']), 2);
  assert.equal(await c.lPush('nr:l', 'a'), 3);
  assert.equal(await c.rPush('nr:l', 'b'), 4);
  assert.deepEqual(await c.lRange('nr:l', 0, -1), ['a', 'b', 'c', 'b']);
  assert.equal(await c.lPos('nr:l', 'b'), 1);
  assert.equal(await c.lPos('nr:l', 'b', { RANK: -1 }), 3);
  assert.deepEqual(await c.lPosCount('nr:l', 'b', 0), [1, 3]);
  assert.equal(await c.lPos('nr:l', 'zz'), null);
  assert.equal(await c.lMove('nr:l', 'nr:l2', 'LEFT', 'RIGHT'), 'a');
  assert.deepEqual(await c.lRange('nr:l2', 0, -1), ['a']);
  assert.equal(await c.lPop('nr:l'), 'b');
  assert.deepEqual(await c.lPopCount('nr:l', 2), ['c', 'b']);
  assert.equal(await c.exists('nr:l'), 0);
});

test('expiry', async () => {
  const c = await connect();
  assert.equal(await c.set('nr:e', 'v', { EX: 100 }), 'OK');
  const ttl = await c.ttl('nr:e');
  assert.ok(ttl > 90 && ttl <= 100, 'ttl ' + ttl);
  assert.equal(await c.persist('nr:e'), true);
  assert.equal(await c.ttl('nr:e'), -1);
  assert.equal(await c.pExpire('nr:e', 50), true);
  await waitFor('nr:e to expire', async () => (await c.get('nr:e')) === null, 5000);
  assert.equal(await c.exists('nr:e'), 0);
  assert.equal(await c.expire('nr:e', 10), false);
});

test('pipeline: execAsPipeline and automatic pipelining', async () => {
  const c = await connect();
  const res = await c.multi().set('nr:p', '5').incr('nr:p').get('nr:p').execAsPipeline();
  assert.deepEqual(res, ['OK', 6, '6']);
  // Commands issued in the same tick go out in one write; replies come back in order.
  const many = await Promise.all(Array.from({ length: 500 }, () => c.incr('nr:pn')));
  assert.deepEqual(many, Array.from({ length: 500 }, (_, i) => i + 1));
  // A failing command in a pipeline rejects only its own promise.
  const [a, b, d] = await Promise.allSettled([c.incr('nr:pn'), c.hSet('nr:pn', 'f', 'v'),
                                              c.get('nr:pn')]);
  assert.equal(a.value, 501);
  assert.ok(b.status === 'rejected' && b.reason.message.startsWith('WRONGTYPE'));
  assert.equal(d.value, '501');
});

test('MULTI/EXEC: results read back, a queued runtime error stays in its slot', async () => {
  const c = await connect();
  const res = await c.multi().set('nr:t', '1').incrBy('nr:t', 9).get('nr:t').exec();
  assert.deepEqual(res, ['OK', 10, '10']);
  // The transaction ran: node-redis rejects with every reply and the index of the failed one.
  const err = await rejectsWith(c.multi().incr('nr:t').lPush('nr:t', 'x').incr('nr:t').exec(),
                                '1 commands failed');
  assert.deepEqual(err.errorIndexes, [1]);
  assert.equal(err.replies[0], 11);
  assert.ok(err.replies[1].message.startsWith('WRONGTYPE'), err.replies[1]);
  assert.equal(err.replies[2], 12);
  // A command the server refuses while queueing aborts the transaction.
  await rejectsWith(c.multi().set('nr:t', '99').addCommand(['NOSUCHCOMMAND']).exec(), 'EXECABORT');
  assert.equal(await c.get('nr:t'), '12');
});

test('WATCH: a write from another connection makes EXEC throw WatchError', async () => {
  const c = await connect();
  const other = await connect();
  await c.set('nr:w', 'start');
  const err = await c.executeIsolated(async (iso) => {
    assert.equal(await iso.watch('nr:w'), 'OK');
    assert.equal(await other.set('nr:w', 'theirs'), 'OK');
    try {
      await iso.multi().set('nr:w', 'mine').exec();
      return null;
    } catch (e) {
      return e;
    }
  });
  assert.ok(err instanceof WatchError, 'expected WatchError, got ' + err);
  assert.equal(await c.get('nr:w'), 'theirs');
  const ok = await c.executeIsolated(async (iso) => {
    await iso.watch('nr:w');
    return iso.multi().set('nr:w', 'mine').get('nr:w').exec();
  });
  assert.deepEqual(ok, ['OK', 'mine']);
});

test('EVAL, EVALSHA, NOSCRIPT after SCRIPT FLUSH, defineScript falls back to EVAL', async () => {
  const c = await connect();
  const body = "redis.call('set', KEYS[1], ARGV[1]) return {redis.call('incr', KEYS[2]), ARGV[1]}";
  assert.deepEqual(await c.eval(body, { keys: ['nr:ev', 'nr:evn'], arguments: ['val'] }),
                   [1, 'val']);
  const sha = await c.scriptLoad(body);
  assert.match(sha, /^[0-9a-f]{40}$/);
  assert.deepEqual(await c.scriptExists(sha), [true]);
  assert.deepEqual(await c.evalSha(sha, { keys: ['nr:ev', 'nr:evn'], arguments: ['w'] }), [2, 'w']);
  assert.equal(await c.scriptFlush(), 'OK');
  assert.deepEqual(await c.scriptExists(sha), [false]);
  await rejectsWith(c.evalSha(sha, { keys: ['nr:ev', 'nr:evn'], arguments: ['w'] }), 'NOSCRIPT');
  // The script the client was created with: EVALSHA, NOSCRIPT, then EVAL (node-redis's retry).
  assert.equal(await c.akvAdd('nr:def', 5), 5);
  assert.deepEqual(await c.scriptExists(addScript.SHA1), [true]);
  assert.equal(await c.akvAdd('nr:def', 5), 10);
  await c.scriptFlush();
  assert.equal(await c.akvAdd('nr:def', 1), 11);
  // Scripts inside MULTI: node-redis sends EVAL the first time in a transaction.
  await c.scriptFlush();
  assert.deepEqual(await c.multi().akvAdd('nr:def', 9).get('nr:def').exec(), [20, '20']);
  assert.equal(await c.get('nr:ev'), 'w');
});

test('BLPOP / BRPOP / BLMOVE woken by a push from another connection', async () => {
  const c = await connect();
  const admin = await connect();
  const iso = commandOptions({ isolated: true });
  const p1 = c.blPop(iso, 'nr:bq', 10);
  await waitBlocked(admin);
  await admin.rPush('nr:bq', 'first');
  assert.deepEqual(await p1, { key: 'nr:bq', element: 'first' });
  const p2 = c.brPop(iso, ['nr:bq2', 'nr:bq3'], 10);
  await waitBlocked(admin);
  await admin.rPush('nr:bq3', ['a', 'b']);
  assert.deepEqual(await p2, { key: 'nr:bq3', element: 'b' });
  const p3 = c.blMove(iso, 'nr:bsrc', 'nr:bdst', 'LEFT', 'RIGHT', 10);
  await waitBlocked(admin);
  await admin.lPush('nr:bsrc', 'moved');
  assert.equal(await p3, 'moved');
  assert.deepEqual(await admin.lRange('nr:bdst', 0, -1), ['moved']);
  assert.equal(await c.blPop(iso, 'nr:never', 0.05), null);
});

test('BLPOP woken by a push made in another region', async () => {
  assert.ok(R.length >= 2, 'needs a second region address');
  const c = await connect(0);
  const remote = await connect(1);
  const p = c.blPop(commandOptions({ isolated: true }), 'nr:xq', 20);
  await waitBlocked(c);
  assert.equal(await remote.rPush('nr:xq', 'from-remote'), 1);
  assert.deepEqual(await p, { key: 'nr:xq', element: 'from-remote' });
  const p2 = remote.brPop(commandOptions({ isolated: true }), 'nr:xq2', 20);
  await waitBlocked(remote);
  await c.lPush('nr:xq2', 'to-remote');
  assert.deepEqual(await p2, { key: 'nr:xq2', element: 'to-remote' });
}, { timeoutMs: 30000 });

test('scanIterator / hScanIterator / sScanIterator / zScanIterator follow the cursor', async () => {
  const c = await connect();
  const hash = {};
  const m = c.multi();
  for (let i = 0; i < 300; i++) {
    m.set('nr:scan:' + i, String(i));
    hash['f' + i] = String(i);
    m.sAdd('nr:sscan', 'm' + i);
    m.zAdd('nr:zscan', { score: i, value: 'z' + i });
  }
  m.hSet('nr:hscan', hash);
  await m.execAsPipeline();
  const keys = new Set();
  for await (const k of c.scanIterator({ MATCH: 'nr:scan:*', COUNT: 50 })) keys.add(k);
  assert.equal(keys.size, 300);
  const fields = {};
  for await (const { field, value } of c.hScanIterator('nr:hscan', { COUNT: 40 })) {
    fields[field] = value;
  }
  assert.deepEqual(fields, hash);
  const members = new Set();
  for await (const mem of c.sScanIterator('nr:sscan', { COUNT: 40 })) members.add(mem);
  assert.equal(members.size, 300);
  const scores = {};
  for await (const { value, score } of c.zScanIterator('nr:zscan', { COUNT: 40 })) {
    scores[value] = score;
  }
  assert.equal(Object.keys(scores).length, 300);
  assert.equal(scores.z123, 123);
  // The cursor really moved: one SCAN call with COUNT 50 does not return everything.
  const first = await c.scan(0, { MATCH: 'nr:scan:*', COUNT: 50 });
  assert.notEqual(first.cursor, 0);
  const typed = [];
  for await (const k of c.scanIterator({ MATCH: 'nr:*scan', TYPE: 'zset', COUNT: 1000 })) {
    typed.push(k);
  }
  assert.deepEqual(typed, ['nr:zscan']);
});

test('SELECT: the database option and select()', async () => {
  const d1 = await connect(0, { database: 1 });
  const d0 = await connect(0);
  assert.equal(await d1.set('nr:db', 'one'), 'OK');
  assert.equal(await d0.get('nr:db'), null);
  assert.equal(await d0.select(1), undefined); // node-redis v4 resolves SELECT to undefined
  assert.equal(await d0.get('nr:db'), 'one');
  // A transaction that SELECTs inside runs in that database.
  const res = await d1.multi().select(2).set('nr:db', 'two').get('nr:db').exec();
  assert.deepEqual(res.slice(1), ['OK', 'two']);
  assert.equal(await d1.get('nr:db'), 'two');
  const d2 = await connect(0, { database: 2 });
  assert.equal(await d2.get('nr:db'), 'two');
});

run('node-redis');
