// Starts @20minutes/s3rver (an S3-compatible server that verifies SigV4 signatures) for the
// backup tests. Run by tests/integration/s3server.py:
//   node s3rver_launch.js --directory DIR [--port N] [--bucket NAME]...
// The one access key it accepts comes from the environment (S3RVER_ACCESS_KEY_ID,
// S3RVER_SECRET_ACCESS_KEY), never from argv; s3rver's built-in S3RVER/S3RVER pair is revoked.
// Buckets are created at startup (s3rver's configureBuckets). Prints "listening PORT" once it
// accepts connections (--port 0, the default, picks a free port).
'use strict';

const S3rver = require('@20minutes/s3rver');
const AWSAccount = require('@20minutes/s3rver/lib/models/account');

function parseArgs(argv) {
  const opts = { port: 0, buckets: [], directory: undefined };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error('missing value for ' + flag);
    if (flag === '--directory') opts.directory = value;
    else if (flag === '--port') opts.port = Number(value);
    else if (flag === '--bucket') opts.buckets.push(value);
    else throw new Error('unknown flag ' + flag);
  }
  if (!opts.directory) throw new Error('--directory is required');
  return opts;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const keyId = process.env.S3RVER_ACCESS_KEY_ID;
  const secret = process.env.S3RVER_SECRET_ACCESS_KEY;
  if (!keyId || !secret) {
    throw new Error('S3RVER_ACCESS_KEY_ID and S3RVER_SECRET_ACCESS_KEY must be set');
  }
  AWSAccount.DUMMY_ACCOUNT.revokeAccessKey('S3RVER');
  AWSAccount.DUMMY_ACCOUNT.createKeyPair(keyId, secret);
  const server = new S3rver({
    address: '127.0.0.1',
    port: opts.port,
    directory: opts.directory,
    silent: true,
    vhostBuckets: false,
    configureBuckets: opts.buckets.map((name) => ({ name, configs: [] })),
  });
  const { port } = await server.run();
  process.stdout.write('listening ' + port + '\n');
}

main().catch((err) => {
  process.stderr.write('s3rver_launch: ' + err.message + '\n');
  process.exit(1);
});
