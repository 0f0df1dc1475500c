'use strict';
// Pub/sub over RESP3 through a real client: node-redis v5 (npm alias `redis5`) with `RESP: 3`,
// where messages arrive as out-of-band push frames ('>') on a connection that can still send
// ordinary commands. One subscriber per region; a message PUBLISHed in any region reaches all.
//   node pubsub_resp3_suite.js HOST:A HOST:B HOST:C     (one address: every region on it)

const { createClient } = require('redis5');
const { test, defer, regions, waitFor, run, assert } = require('./harness');

const R = regions();
const TAG = process.pid + '-' + Date.now();

async function connect(region) {
  const c = createClient({
    RESP: 3,
    socket: { host: region.host, port: region.port, reconnectStrategy: false },
  });
  c.on('error', (e) => console.log('  client error (' + region.port + '): ' + e.message));
  await c.connect();
  defer(() => c.close().catch(() => c.destroy()));
  return c;
}

function regionList() {
  // Three regions even when one address stands for all of them (--target redis).
  return [0, 1, 2].map((i) => R[i % R.length]);
}

test('a subscriber in each region receives what is published in any region', async () => {
  const channel = 'fw:r3:ch:' + TAG;
  const pattern = 'fw:r3:pat:' + TAG + ':*';
  const subs = [];
  for (const [i, region] of regionList().entries()) {
    const c = await connect(region);
    const got = { messages: [], pmessages: [] };
    // subscribe()/pSubscribe() resolve when the server acknowledged the subscription.
    await c.subscribe(channel, (message, ch) => got.messages.push([ch, message]));
    await c.pSubscribe(pattern, (message, ch) => got.pmessages.push([ch, message]));
    subs.push({ i, region, c, got });
  }
  const publishers = [];
  for (const region of regionList()) publishers.push(await connect(region));

  for (const [i, pub] of publishers.entries()) {
    const n = await pub.publish(channel, 'hello from ' + i);
    assert.ok(n >= 1, 'PUBLISH in region ' + i + ' reached ' + n + ' subscribers, expected >= 1');
    const pn = await pub.publish('fw:r3:pat:' + TAG + ':' + i, 'pattern ' + i);
    assert.ok(pn >= 1, 'PUBLISH (pattern) in region ' + i + ' counted ' + pn + ', expected >= 1');
  }
  for (const s of subs) {
    await waitFor('region ' + s.i + ' (' + s.region.port + ') to receive 3 messages and 3 ' +
                  'pmessages; has ' + JSON.stringify(s.got),
                  () => s.got.messages.length >= 3 && s.got.pmessages.length >= 3, 20000);
    const expect = [0, 1, 2].map((i) => [channel, 'hello from ' + i]);
    // Messages from one publisher arrive in order; across regions the order is not defined.
    assert.deepEqual(s.got.messages.slice().sort(), expect.sort(),
                     'subscriber in region ' + s.i);
    assert.deepEqual(s.got.pmessages.map((m) => m[1]).sort(), ['pattern 0', 'pattern 1',
                     'pattern 2'], 'pattern subscriber in region ' + s.i);
  }
  // RESP3: the subscribed connection still answers ordinary commands.
  assert.equal(await subs[0].c.ping(), 'PONG');
  await subs[0].c.set('fw:r3:k:' + TAG, 'v');
  assert.equal(await subs[0].c.get('fw:r3:k:' + TAG), 'v');
  // Unsubscribing from the channel (the pattern stays): the next message comes only through
  // the pattern, and a message to the channel no longer arrives (proved by the one after it).
  await subs[0].c.unsubscribe(channel);
  const more = 'fw:r3:pat:' + TAG + ':after';
  await publishers[1].publish(channel, 'after unsubscribe');
  await publishers[1].publish(more, 'last');
  await waitFor('region 0 to receive the pattern message published after UNSUBSCRIBE',
                () => subs[0].got.pmessages.length >= 4, 20000);
  assert.equal(subs[0].got.messages.length, 3,
               'a message reached region 0 after UNSUBSCRIBE: ' +
               JSON.stringify(subs[0].got.messages));
  await waitFor('region 1 to receive "after unsubscribe"',
                () => subs[1].got.messages.length >= 4, 20000);
}, { timeoutMs: 60000 });

run('pubsub-resp3');
