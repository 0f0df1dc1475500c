'use strict';
// BullMQ (npm `bullmq`, pinned by package-lock.json; it talks to Redis through ioredis) across
// three regions of one active-active database: jobs added through region A are processed by a
// Worker connected to region B, and a QueueEvents connected to region C (XREAD BLOCK on the
// queue's events stream, which BullMQ's Lua scripts append to with XADD) sees them complete and
// fail; the finished jobs are read back through C.
//   node bullmq_suite.js HOST:A HOST:B HOST:C     (one address: all three roles on it)

const { Queue, Worker, QueueEvents } = require('bullmq');
const { test, defer, regions, waitFor, run, assert } = require('./harness');
const IORedis = require('ioredis');

const R = regions();
const A = R[0];
const B = R[1 % R.length];
const C = R[2 % R.length];
const NAME = process.env.AKV_FW_QUEUE || 'akvfw-bullmq-' + process.pid + '-' + Date.now();
console.log('bullmq: queue ' + NAME + ' add@' + A.port + ' worker@' + B.port + ' events@' + C.port);

function connection(region) {
  return { host: region.host, port: region.port, maxRetriesPerRequest: null };
}

// Errors emitted by the QueueEvents / Worker (BullMQ retries after them): printed, and the first
// one ends the case's waits at once instead of at their deadline.
const errors = [];

function logErrors(what, emitter) {
  emitter.on('error', (e) => {
    if (errors.length < 5) console.log('  ' + what + ' error: ' + (e && e.message));
    errors.push(what + ': ' + (e && e.message));
  });
  return emitter;
}

function noErrors() {
  if (errors.length) throw new Error('BullMQ reported an error: ' + errors[0]);
}

// The connections of `region` blocked (flags b) in `cmd` whose name starts with `namePrefix`.
// (`CLIENT LIST TYPE normal`: a shape BullMQ does not send, left out of the MONITOR summaries.)
async function blockedIn(region, cmd, namePrefix) {
  const c = new IORedis({ host: region.host, port: region.port, lazyConnect: true });
  try {
    await c.connect();
    const list = await c.call('CLIENT', 'LIST', 'TYPE', 'normal');
    return list.split('\n').map((line) => Object.fromEntries(
      line.trim().split(' ').filter((kv) => kv.includes('=')).map((kv) => {
        const i = kv.indexOf('=');
        return [kv.slice(0, i), kv.slice(i + 1)];
      }))).filter((f) => (f.flags || '').includes('b') && f.cmd === cmd &&
                         (f.name || '').startsWith(namePrefix));
  } finally {
    c.disconnect();
  }
}

test('a job added in A is processed in B; QueueEvents in C sees completed and failed', async () => {
  const events = logErrors('QueueEvents', new QueueEvents(NAME, { connection: connection(C) }));
  defer(() => events.close());
  const completed = new Map(); // jobId -> returnvalue
  const failed = new Map(); // jobId -> failedReason
  events.on('completed', ({ jobId, returnvalue }) => completed.set(jobId, returnvalue));
  events.on('failed', ({ jobId, failedReason }) => failed.set(jobId, failedReason));
  await events.waitUntilReady();
  // QueueEvents reads from '$' (new events only): wait until its XREAD BLOCK is parked in C
  // (its connection is named bull:<base64 of the queue name>:qe).
  const qe = 'bull:' + Buffer.from(NAME).toString('base64') + ':qe';
  await waitFor('the QueueEvents connection ' + qe + ' to be blocked in XREAD in ' + C.port,
                async () => noErrors() || (await blockedIn(C, 'xread', qe)).length > 0, 20000);

  const processedBy = [];
  const worker = logErrors('Worker', new Worker(NAME, async (job) => {
    processedBy.push(job.id);
    if (job.data.fail) throw new Error('boom ' + job.data.x);
    return { sum: job.data.x + job.data.y, port: B.port };
  }, { connection: connection(B) }));
  defer(() => worker.close());
  await worker.waitUntilReady();

  const producer = new Queue(NAME, { connection: connection(A) });
  defer(() => producer.close());
  const ok = await producer.add('add', { x: 2, y: 3 });
  const bad = await producer.add('add', { x: 7, y: 0, fail: true });
  console.log('  added jobs ' + ok.id + ' and ' + bad.id + ' through ' + A.port);

  // waitUntilFinished: BullMQ's own way to await a job through QueueEvents (in C).
  const result = await ok.waitUntilFinished(events, 30000);
  assert.deepEqual(result, { sum: 5, port: B.port },
                   'waitUntilFinished returns the result computed by the worker in B');
  await waitFor('completed event for job ' + ok.id + ' on ' + C.port,
                () => noErrors() || completed.has(ok.id), 30000);
  const rv = completed.get(ok.id);
  assert.deepEqual(typeof rv === 'string' ? JSON.parse(rv) : rv, { sum: 5, port: B.port });
  await waitFor('failed event for job ' + bad.id + ' on ' + C.port,
                () => noErrors() || failed.has(bad.id), 30000);
  assert.equal(failed.get(bad.id), 'boom 7');
  assert.deepEqual(processedBy.slice().sort(), [ok.id, bad.id].sort());

  // The finished jobs read back through C.
  const reader = new Queue(NAME, { connection: connection(C) });
  defer(() => reader.close());
  const j = await reader.getJob(ok.id);
  assert.ok(j, 'job ' + ok.id + ' not found through ' + C.port);
  assert.equal(await j.getState(), 'completed');
  assert.deepEqual(j.returnvalue, { sum: 5, port: B.port });
  const jb = await reader.getJob(bad.id);
  assert.equal(await jb.getState(), 'failed');
  assert.equal(jb.failedReason, 'boom 7');
  const counts = await reader.getJobCounts('completed', 'failed', 'wait', 'active', 'delayed');
  assert.deepEqual(counts, { completed: 1, failed: 1, wait: 0, active: 0, delayed: 0 });
}, { timeoutMs: 60000 });

run('bullmq');
