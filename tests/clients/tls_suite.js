'use strict';
// ioredis and node-redis over TLS (docs/security.md, "Clients over TLS") against a region's
// resp_tls port (node-redis v5 is the npm alias `redis5`).
//   node tls_suite.js HOST:TLSPORT CERTDIR SERVERNAME
// CERTDIR holds `activekvctl certs` output: ca.pem, client.pem, client.key. SERVERNAME is the
// name the server's certificate carries (its region name): Node checks it as a browser would.

const fs = require('fs');
const path = require('path');
const Redis = require('ioredis');
const { createClient } = require('redis');
const { createClient: createClient5 } = require('redis5');
const { test, defer, run, assert, rejectsWith } = require('./harness');

const [addr, certDir, serverName] = process.argv.slice(2);
const [host, portText] = addr.split(':');
const port = Number(portText);
const read = (f) => fs.readFileSync(path.join(certDir, f));
const tlsOptions = {
  ca: read('ca.pem'), cert: read('client.pem'), key: read('client.key'), servername: serverName,
};

function ioredis(options = {}) {
  const c = new Redis({
    host, port, tls: tlsOptions, maxRetriesPerRequest: 1, retryStrategy: () => null, ...options,
  });
  defer(() => c.quit().catch(() => c.disconnect()));
  return c;
}

test('ioredis: commands, a pipeline and a large value over TLS', async () => {
  const c = ioredis();
  await c.del('tls:n', 'tls:h');
  assert.equal(await c.set('tls:io', 'hello'), 'OK');
  assert.equal(await c.get('tls:io'), 'hello');
  // A value larger than a TLS record (16 KiB) and than a socket buffer: partial TLS writes.
  const big = 'x'.repeat(3 * 1024 * 1024 + 7);
  assert.equal(await c.set('tls:big', big), 'OK');
  assert.equal((await c.get('tls:big')).length, big.length);
  const p = c.pipeline();
  for (let i = 0; i < 500; i++) p.incr('tls:n');
  const results = await p.exec();
  assert.equal(results.length, 500);
  assert.deepEqual(results[499], [null, 500]);
  assert.equal(await c.hset('tls:h', 'f', 'v'), 1);
  assert.deepEqual(await c.hgetall('tls:h'), { f: 'v' });
});

test('ioredis: MULTI/EXEC and pub/sub over TLS', async () => {
  const c = ioredis();
  const sub = ioredis();
  const got = new Promise((resolve) => sub.on('message', (ch, msg) => resolve([ch, msg])));
  await sub.subscribe('tls:ch');
  assert.deepEqual(await c.multi().set('tls:m', '1').incr('tls:m').exec(), [[null, 'OK'], [null, 2]]);
  assert.equal(await c.publish('tls:ch', 'over tls'), 1);
  assert.deepEqual(await got, ['tls:ch', 'over tls']);
});

test('ioredis: a client without a certificate is refused', async () => {
  const c = new Redis({
    host, port, tls: { ca: tlsOptions.ca, servername: serverName }, maxRetriesPerRequest: 0,
    retryStrategy: () => null, enableOfflineQueue: false, lazyConnect: true,
  });
  c.on('error', () => {});
  defer(() => c.disconnect());
  let failed = false;
  try {
    await c.connect();
    await c.ping();
  } catch (e) {
    failed = true;
  }
  assert.ok(failed, 'a client without a certificate got a reply');
});

test('node-redis: commands over TLS, RESP2 (v4) and RESP3 (v5)', async () => {
  for (const [lib, resp] of [[createClient, 2], [createClient5, 3]]) {
    const c = lib({
      socket: { host, port, tls: true, ...tlsOptions, reconnectStrategy: false },
      ...(resp === 3 ? { RESP: 3 } : {}),
    });
    c.on('error', () => {});
    await c.connect();
    defer(() => c.quit().catch(() => c.disconnect()));
    await c.del('tls:nh' + resp);
    assert.equal(await c.set('tls:nr', 'v'), 'OK');
    assert.equal(await c.get('tls:nr'), 'v');
    await rejectsWith(c.incr('tls:nr'), 'ERR value is not an integer');
    assert.equal(await c.hSet('tls:nh' + resp, 'f', 'v'), 1);
    // RESP3 answers HGETALL with a map; each library gives an object either way.
    assert.deepEqual({ ...(await c.hGetAll('tls:nh' + resp)) }, { f: 'v' });
  }
});

run('tls');
