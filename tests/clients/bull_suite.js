'use strict';
// Bull (npm `bull`, pinned by package-lock.json) across three regions of one active-active
// database: jobs added through region A are processed by a worker connected to region B, and the
// global `completed` / `failed` events (Redis pub/sub, published by Bull's Lua scripts in B) are
// seen by a Queue connected to region C, which also reads the finished jobs back.
//   node bull_suite.js HOST:A HOST:B HOST:C     (one address: all three roles on it)

const Queue = require('bull');
const { test, defer, regions, waitFor, run, assert } = require('./harness');

const R = regions();
const A = R[0];
const B = R[1 % R.length];
const C = R[2 % R.length];
const NAME = process.env.AKV_FW_QUEUE || 'akvfw-bull-' + process.pid + '-' + Date.now();
console.log('bull: queue ' + NAME + ' add@' + A.port + ' worker@' + B.port + ' events@' + C.port);

function queue(region, name = NAME) {
  const q = new Queue(name, {
    redis: { host: region.host, port: region.port, maxRetriesPerRequest: null },
  });
  q.on('error', (e) => console.log('  bull queue error (' + region.port + '): ' + e.message));
  defer(() => q.close());
  return q;
}

// Subscribes `q` to a global event and resolves once the SUBSCRIBE was acknowledged.
async function globalEvent(q, event, handler) {
  const registered = new Promise((resolve) => q.once('registered:global:' + event, resolve));
  q.on('global:' + event, handler);
  await registered;
}

test('a job added in A is processed in B; C sees global completed and failed', async () => {
  const events = queue(C);
  const completed = new Map(); // jobId -> result (Bull publishes it as a JSON string)
  const failed = new Map(); // jobId -> error message
  await globalEvent(events, 'completed', (jobId, result) => completed.set(String(jobId), result));
  await globalEvent(events, 'failed', (jobId, err) => failed.set(String(jobId), err));

  const worker = queue(B);
  const processedBy = [];
  worker.process(async (job) => {
    processedBy.push(job.id);
    if (job.data.fail) throw new Error('boom ' + job.data.x);
    return { sum: job.data.x + job.data.y, port: B.port };
  });
  await worker.isReady();

  const producer = queue(A);
  const ok = await producer.add({ x: 2, y: 3 });
  const bad = await producer.add({ x: 7, y: 0, fail: true });
  console.log('  added jobs ' + ok.id + ' and ' + bad.id + ' through ' + A.port);

  await waitFor('global:completed for job ' + ok.id + ' on ' + C.port +
                ' (completed seen: ' + JSON.stringify([...completed.keys()]) + ')',
                () => completed.has(String(ok.id)), 30000);
  assert.deepEqual(JSON.parse(completed.get(String(ok.id))), { sum: 5, port: B.port },
                   'the completion event carries the result computed by the worker in B');
  await waitFor('global:failed for job ' + bad.id + ' on ' + C.port,
                () => failed.has(String(bad.id)), 30000);
  assert.equal(failed.get(String(bad.id)), 'boom 7');
  assert.deepEqual(processedBy.map(String).sort(), [String(ok.id), String(bad.id)].sort());

  // The finished jobs read back through C at once: an event published (by the script in B) after
  // a write does not overtake that write on its way to C.
  const j = await events.getJob(ok.id);
  assert.ok(j, 'job ' + ok.id + ' not found through ' + C.port + ' after its completed event');
  assert.equal(await j.getState(), 'completed',
               'state in C right after the global:completed event arrived there');
  assert.deepEqual(j.returnvalue, { sum: 5, port: B.port });
  const jb = await events.getJob(bad.id);
  assert.equal(await jb.getState(), 'failed');
  assert.equal(jb.failedReason, 'boom 7');
  const counts = await events.getJobCounts();
  assert.equal(counts.completed, 1, 'completed count ' + JSON.stringify(counts));
  assert.equal(counts.failed, 1, 'failed count ' + JSON.stringify(counts));
  assert.equal(counts.waiting + counts.active + counts.delayed, 0, JSON.stringify(counts));
}, { timeoutMs: 60000 });

run('bull');
