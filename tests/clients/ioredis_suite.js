'use strict';
// ioredis (tests/clients/package-lock.json pins the version) against real activekv regions.
//   node ioredis_suite.js HOST:PORT [HOST:PORT ...]   (the second region, if given, is remote)
// ioredis speaks RESP2 only (it has no RESP3 mode).

const Redis = require('ioredis');
const { test, defer, regions, waitFor, parseInfo, rejectsWith, run, assert } = require('./harness');

const R = regions();

function connect(region = 0, options = {}) {
  const c = new Redis({
    host: R[region].host, port: R[region].port, maxRetriesPerRequest: 1, enableOfflineQueue: true,
    retryStrategy: () => null, ...options,
  });
  defer(() => c.quit().catch(() => c.disconnect()));
  return c;
}

async function blockedClients(c) {
  return Number(parseInfo(await c.info('clients')).blocked_clients);
}

// Waits until `n` clients of the region behind `admin` are blocked: the waiter has really parked,
// so the push that follows wakes it (rather than finding data already there).
function waitBlocked(admin, n = 1) {
  return waitFor('a blocked client', async () => (await blockedClients(admin)) >= n);
}

test('strings and counters', async () => {
  const c = connect();
  assert.equal(await c.set('io:s', 'hello'), 'OK');
  assert.equal(await c.get('io:s'), 'hello');
  assert.equal(await c.append('io:s', ' world'), 11);
  assert.equal(await c.getrange('io:s', 0, 4), 'hello');
  assert.equal(await c.set('io:s', 'x', 'NX'), null);
  assert.equal(await c.set('io:s', 'v2', 'GET'), 'hello world');
  assert.equal(await c.mset({ 'io:m1': 'a', 'io:m2': 'b' }), 'OK');
  assert.deepEqual(await c.mget('io:m1', 'io:m2', 'io:missing'), ['a', 'b', null]);
  assert.equal(await c.incr('io:n'), 1);
  assert.equal(await c.incrby('io:n', 41), 42);
  assert.equal(await c.decr('io:n'), 41);
  assert.equal(await c.decrby('io:n', 1), 40);
  assert.equal(await c.incrbyfloat('io:n', '2.5'), '42.5');
  assert.equal(await c.get('io:n'), '42.5');
  await rejectsWith(c.incr('io:s'), 'ERR value is not an integer or out of range');
  assert.equal(await c.getdel('io:m1'), 'a');
  assert.equal(await c.exists('io:m1', 'io:m2'), 1);
  const buf = await c.getBuffer('io:m2');
  assert.ok(Buffer.isBuffer(buf) && buf.toString() === 'b');
});

test('hashes', async () => {
  const c = connect();
  assert.equal(await c.hset('io:h', { name: 'ada', lang: 'js', n: '1' }), 3);
  assert.deepEqual(await c.hgetall('io:h'), { name: 'ada', lang: 'js', n: '1' });
  assert.equal(await c.hincrby('io:h', 'n', 9), 10);
  assert.equal(await c.hincrbyfloat('io:h', 'n', '0.5'), '10.5');
  assert.equal(await c.hget('io:h', 'n'), '10.5');
  assert.deepEqual(await c.hmget('io:h', 'name', 'nope'), ['ada', null]);
  assert.equal(await c.hdel('io:h', 'lang', 'nope'), 1);
  assert.equal(await c.hexists('io:h', 'lang'), 0);
  assert.equal(await c.hlen('io:h'), 2);
  assert.deepEqual((await c.hkeys('io:h')).sort(), ['n', 'name']);
  assert.deepEqual(await c.hgetall('io:none'), {});
  await c.set('io:str', 'x');
  await rejectsWith(c.hset('io:str', 'f', 'v'), 'WRONGTYPE');
});

test('sets', async () => {
  const c = connect();
  assert.equal(await c.sadd('io:set', 'a', 'b', 'c', 'a'), 3);
  assert.deepEqual((await c.smembers('io:set')).sort(), ['a', 'b', 'c']);
  assert.equal(await c.sismember('io:set', 'b'), 1);
  assert.deepEqual(await c.smismember('io:set', 'a', 'z'), [1, 0]);
  assert.equal(await c.srem('io:set', 'b', 'z'), 1);
  assert.equal(await c.scard('io:set'), 2);
  await c.sadd('io:set2', 'c', 'd');
  assert.deepEqual(await c.sinter('io:set', 'io:set2'), ['c']);
  assert.deepEqual((await c.sunion('io:set', 'io:set2')).sort(), ['a', 'c', 'd']);
  assert.deepEqual(await c.sdiff('io:set', 'io:set2'), ['a']);
});

test('sorted sets', async () => {
  const c = connect();
  assert.equal(await c.zadd('io:z', 1, 'a', 2, 'b', 3, 'c'), 3);
  assert.deepEqual(await c.zrange('io:z', 0, -1, 'WITHSCORES'), ['a', '1', 'b', '2', 'c', '3']);
  assert.equal(await c.zincrby('io:z', 2.5, 'a'), '3.5');
  assert.deepEqual(await c.zrange('io:z', 0, -1), ['b', 'c', 'a']);
  assert.deepEqual(await c.zrevrange('io:z', 0, 0, 'WITHSCORES'), ['a', '3.5']);
  assert.deepEqual(await c.zrangebyscore('io:z', '(2', '+inf'), ['c', 'a']);
  assert.equal(await c.zscore('io:z', 'c'), '3');
  assert.equal(await c.zrank('io:z', 'a'), 2);
  assert.equal(await c.zcard('io:z'), 3);
  assert.equal(await c.zadd('io:z', 'XX', 'CH', 10, 'b', 1, 'new'), 1);
  assert.deepEqual(await c.zpopmin('io:z'), ['c', '3']);
  assert.equal(await c.zrem('io:z', 'a'), 1);
  assert.deepEqual(await c.zrange('io:z', 0, -1, 'WITHSCORES'), ['b', '10']);
});

test('lists', async () => {
  const c = connect();
  assert.equal(await c.rpush('io:l', 'b', 'c'), 2);
  assert.equal(await c.lpush('io:l', 'a'), 3);
  assert.equal(await c.rpush('io:l', 'b'), 4);
  assert.deepEqual(await c.lrange('io:l', 0, -1), ['a', 'b', 'c', 'b']);
  assert.equal(await c.lpos('io:l', 'b'), 1);
  assert.deepEqual(await c.lpos('io:l', 'b', 'COUNT', 0), [1, 3]);
  assert.equal(await c.lpos('io:l', 'zz'), null);
  assert.equal(await c.lmove('io:l', 'io:l2', 'LEFT', 'RIGHT'), 'a');
  assert.deepEqual(await c.lrange('io:l2', 0, -1), ['a']);
  assert.equal(await c.lpop('io:l'), 'b');
  assert.deepEqual(await c.lpop('io:l', 2), ['c', 'b']);
  assert.equal(await c.exists('io:l'), 0);
  assert.equal(await c.llen('io:l2'), 1);
});

test('expiry', async () => {
  const c = connect();
  assert.equal(await c.set('io:e', 'v', 'EX', 100), 'OK');
  const ttl = await c.ttl('io:e');
  assert.ok(ttl > 90 && ttl <= 100, 'ttl ' + ttl);
  assert.equal(await c.persist('io:e'), 1);
  assert.equal(await c.ttl('io:e'), -1);
  assert.equal(await c.ttl('io:missing'), -2);
  assert.equal(await c.pexpire('io:e', 50), 1);
  await waitFor('io:e to expire', async () => (await c.get('io:e')) === null, 5000);
  assert.equal(await c.exists('io:e'), 0);
  await c.set('io:e2', 'v', 'PX', 60000);
  const pttl = await c.pttl('io:e2');
  assert.ok(pttl > 55000 && pttl <= 60000, 'pttl ' + pttl);
});

test('pipeline: replies in order, an error stays in its slot', async () => {
  const c = connect();
  const res = await c.pipeline()
    .set('io:p', '5').incr('io:p').get('io:p').hset('io:p', 'f', 'v').rpush('io:pl', 'x')
    .exec();
  assert.deepEqual(res.slice(0, 3), [[null, 'OK'], [null, 6], [null, '6']]);
  assert.ok(res[3][0] instanceof Error && res[3][0].message.startsWith('WRONGTYPE'));
  assert.deepEqual(res[4], [null, 1]);
  // A long pipeline: 500 commands in one write.
  const p = c.pipeline();
  for (let i = 0; i < 500; i++) p.incr('io:pn');
  const many = await p.exec();
  assert.equal(many.length, 500);
  assert.deepEqual(many[499], [null, 500]);
  assert.equal(await c.get('io:pn'), '500');
});

test('MULTI/EXEC: results read back, a queued runtime error does not abort', async () => {
  const c = connect();
  const res = await c.multi().set('io:t', '1').incrby('io:t', 9).get('io:t').exec();
  assert.deepEqual(res, [[null, 'OK'], [null, 10], [null, '10']]);
  const mixed = await c.multi().incr('io:t').lpush('io:t', 'x').incr('io:t').exec();
  assert.deepEqual(mixed[0], [null, 11]);
  assert.ok(mixed[1][0].message.startsWith('WRONGTYPE'));
  assert.deepEqual(mixed[2], [null, 12]);
  // A syntax error while queueing aborts the whole transaction (EXECABORT).
  const bad = c.multi();
  bad.set('io:t', '99');
  bad.call('nosuchcommand');
  await rejectsWith(bad.exec(), 'EXECABORT');
  assert.equal(await c.get('io:t'), '12');
  // MULTI without ioredis's pipelining: every command answers QUEUED, then DISCARD.
  assert.equal(await c.multi({ pipeline: false }), 'OK');
  assert.equal(await c.set('io:t', 'discarded'), 'QUEUED');
  assert.equal(await c.discard(), 'OK');
  assert.equal(await c.get('io:t'), '12');
});

test('WATCH: a write from another connection makes EXEC return null', async () => {
  const c = connect();
  const other = connect();
  await c.set('io:w', 'start');
  assert.equal(await c.watch('io:w'), 'OK');
  assert.equal(await other.set('io:w', 'theirs'), 'OK');
  const res = await c.multi().set('io:w', 'mine').exec();
  assert.equal(res, null);
  assert.equal(await c.get('io:w'), 'theirs');
  // Without a conflicting write, the transaction commits.
  await c.watch('io:w');
  const ok = await c.multi().set('io:w', 'mine').exec();
  assert.deepEqual(ok, [[null, 'OK']]);
  assert.equal(await other.get('io:w'), 'mine');
  // UNWATCH forgets the watched key.
  await c.watch('io:w');
  await other.set('io:w', 'again');
  await c.unwatch();
  assert.deepEqual(await c.multi().get('io:w').exec(), [[null, 'again']]);
});

test('EVAL, EVALSHA, NOSCRIPT after SCRIPT FLUSH, defineCommand reloads', async () => {
  const c = connect();
  const body = "redis.call('set', KEYS[1], ARGV[1]) return {redis.call('incr', KEYS[2]), ARGV[1]}";
  assert.deepEqual(await c.eval(body, 2, 'io:ev', 'io:evn', 'val'), [1, 'val']);
  const sha = await c.script('LOAD', body);
  assert.match(sha, /^[0-9a-f]{40}$/);
  assert.deepEqual(await c.script('EXISTS', sha), [1]);
  assert.deepEqual(await c.evalsha(sha, 2, 'io:ev', 'io:evn', 'w'), [2, 'w']);
  assert.equal(await c.script('FLUSH'), 'OK');
  assert.deepEqual(await c.script('EXISTS', sha), [0]);
  await rejectsWith(c.evalsha(sha, 2, 'io:ev', 'io:evn', 'w'), 'NOSCRIPT');
  // defineCommand: EVALSHA first, EVAL on NOSCRIPT (ioredis's retry path), then EVALSHA again.
  c.defineCommand('akvAdd', {
    numberOfKeys: 1,
    lua: "return redis.call('incrby', KEYS[1], ARGV[1])",
  });
  assert.equal(await c.akvAdd('io:def', 5), 5);
  assert.equal(await c.akvAdd('io:def', 5), 10);
  await c.script('FLUSH');
  assert.equal(await c.akvAdd('io:def', 1), 11);
  // Inside a pipeline and a transaction too.
  await c.script('FLUSH');
  const res = await c.pipeline().akvAdd('io:def', 1).akvAdd('io:def', 1).exec();
  assert.deepEqual(res, [[null, 12], [null, 13]]);
  const tx = await c.multi().akvAdd('io:def', 7).get('io:def').exec();
  assert.deepEqual(tx, [[null, 20], [null, '20']]);
  await rejectsWith(c.eval("return redis.call('nosuch')", 0), 'ERR');
  assert.equal(await c.eval("return redis.status_reply('FINE')", 0), 'FINE');
});

test('BLPOP / BRPOP / BLMOVE woken by a push from another connection', async () => {
  const waiter = connect();
  const pusher = connect();
  const admin = connect();
  const p1 = waiter.blpop('io:bq', 10);
  await waitBlocked(admin);
  assert.equal(await pusher.rpush('io:bq', 'first'), 1);
  assert.deepEqual(await p1, ['io:bq', 'first']);
  const p2 = waiter.brpop('io:bq2', 'io:bq3', 10);
  await waitBlocked(admin);
  await pusher.rpush('io:bq3', 'a', 'b');
  assert.deepEqual(await p2, ['io:bq3', 'b']);
  const p3 = waiter.blmove('io:bsrc', 'io:bdst', 'LEFT', 'RIGHT', 10);
  await waitBlocked(admin);
  await pusher.lpush('io:bsrc', 'moved');
  assert.equal(await p3, 'moved');
  assert.deepEqual(await pusher.lrange('io:bdst', 0, -1), ['moved']);
  // A timeout gives null.
  assert.equal(await waiter.blpop('io:never', 0.05), null);
  assert.equal(await blockedClients(admin), 0);
});

test('BLPOP woken by a push made in another region', async () => {
  assert.ok(R.length >= 2, 'needs a second region address');
  const waiter = connect(0);
  const admin = connect(0);
  const remote = connect(1);
  const p = waiter.blpop('io:xq', 20);
  await waitBlocked(admin);
  assert.equal(await remote.rpush('io:xq', 'from-remote'), 1);
  assert.deepEqual(await p, ['io:xq', 'from-remote']);
  // And BLMOVE in the other direction.
  const w2 = connect(1);
  const admin2 = connect(1);
  const p2 = w2.blmove('io:xsrc', 'io:xdst', 'RIGHT', 'LEFT', 20);
  await waitBlocked(admin2);
  await connect(0).rpush('io:xsrc', 'to-remote');
  assert.equal(await p2, 'to-remote');
}, { timeoutMs: 30000 });

test('SCAN / HSCAN / SSCAN / ZSCAN streams follow the cursor to the end', async () => {
  const c = connect();
  const p = c.pipeline();
  const hash = {};
  for (let i = 0; i < 300; i++) {
    p.set('io:scan:' + i, i);
    hash['f' + i] = String(i);
    p.sadd('io:sscan', 'm' + i);
    p.zadd('io:zscan', i, 'z' + i);
  }
  p.hset('io:hscan', hash);
  await p.exec();
  const collect = (stream) => new Promise((resolve, reject) => {
    const out = [];
    let batches = 0;
    stream.on('data', (items) => { batches++; out.push(...items); });
    stream.on('end', () => resolve({ out, batches }));
    stream.on('error', reject);
  });
  const keys = await collect(c.scanStream({ match: 'io:scan:*', count: 50 }));
  assert.equal(new Set(keys.out).size, 300);
  assert.ok(keys.batches > 1, 'one batch only: the cursor was not followed');
  const h = await collect(c.hscanStream('io:hscan', { count: 40 }));
  const fields = {};
  for (let i = 0; i < h.out.length; i += 2) fields[h.out[i]] = h.out[i + 1];
  assert.deepEqual(fields, hash);
  const s = await collect(c.sscanStream('io:sscan', { count: 40 }));
  assert.equal(new Set(s.out).size, 300);
  const z = await collect(c.zscanStream('io:zscan', { count: 40 }));
  const scores = {};
  for (let i = 0; i < z.out.length; i += 2) scores[z.out[i]] = z.out[i + 1];
  assert.equal(Object.keys(scores).length, 300);
  assert.equal(scores.z123, '123');
  const typed = await collect(c.scanStream({ match: 'io:*scan', type: 'zset', count: 1000 }));
  assert.deepEqual(typed.out, ['io:zscan']);
});

test('SELECT: db option and select()', async () => {
  const d1 = connect(0, { db: 1 });
  const d0 = connect(0);
  assert.equal(await d1.set('io:db', 'one'), 'OK');
  assert.equal(await d0.get('io:db'), null);
  assert.equal(await d0.select(1), 'OK');
  assert.equal(await d0.get('io:db'), 'one');
  // A second connection opened with db: 1 sees it.
  assert.equal(await connect(0, { db: 1 }).get('io:db'), 'one');
});

run('ioredis');
