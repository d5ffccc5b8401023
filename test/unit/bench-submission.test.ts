/**
 * The submission benchmark's pure helpers: naming an AWS request from what is on the wire (DynamoDB's
 * X-Amz-Target and the tables in its body, S3's method, key and query), count differences, the bench id a
 * message carries, and the latency arithmetic. No server, no timing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { awsOperation, countsSince, dynamoTables } from '../../bench/support/awsRequestCounter.ts';
import { benchIdOf, benchMessage, endToEnd, quantile } from '../../bench/support/submissionLoad.ts';

test('DynamoDB requests are named by X-Amz-Target', () => {
  const op = awsOperation('dynamodb', 'POST', '/', { 'x-amz-target': 'DynamoDB_20120810.TransactWriteItems' });
  assert.equal(op, 'TransactWriteItems');
  assert.equal(awsOperation('dynamodb', 'POST', '/', {}), 'unknown');
});

test('S3 requests are named by method, key and query', () => {
  const s3 = (method: string, url: string, headers = {}) => awsOperation('s3', method, url, headers);
  assert.equal(s3('PUT', '/bucket/mail/abc'), 'PutObject');
  assert.equal(s3('PUT', '/bucket/mail/abc?partNumber=2&uploadId=u'), 'UploadPart');
  assert.equal(s3('PUT', '/bucket/b', { 'x-amz-copy-source': '/bucket/a' }), 'CopyObject');
  assert.equal(s3('PUT', '/bucket'), 'CreateBucket');
  assert.equal(s3('GET', '/bucket/mail/abc'), 'GetObject');
  assert.equal(s3('GET', '/bucket?list-type=2&prefix=x'), 'ListObjects');
  assert.equal(s3('HEAD', '/bucket/k'), 'HeadObject');
  assert.equal(s3('DELETE', '/bucket/k'), 'DeleteObject');
  assert.equal(s3('DELETE', '/bucket/k?uploadId=u'), 'AbortMultipartUpload');
  assert.equal(s3('POST', '/bucket?delete'), 'DeleteObjects');
  assert.equal(s3('POST', '/bucket/k?uploads'), 'CreateMultipartUpload');
  assert.equal(s3('POST', '/bucket/k?uploadId=u'), 'CompleteMultipartUpload');
});

test('the tables of a DynamoDB request, prefix left out; attribute values never count as tables', () => {
  const get = JSON.stringify({ TableName: 'p-queue', Key: { pk: { S: 'TableName' } } });
  assert.deepEqual(dynamoTables(get, 'p-'), ['queue']);
  const tx = JSON.stringify({
    TransactItems: [
      { Put: { TableName: 'p-queue', Item: { TableName: { S: 'p-fake' } } } },
      { Update: { TableName: 'p-mailboxes', Key: {} } },
      { Put: { TableName: 'p-queue', Item: {} } },
    ],
  });
  assert.deepEqual(dynamoTables(tx, 'p-'), ['mailboxes', 'queue']);
  assert.deepEqual(dynamoTables(JSON.stringify({ RequestItems: { 'p-a': [], 'p-b': [] } }), 'p-'), ['a', 'b']);
  assert.deepEqual(dynamoTables('not json'), []);
});

test('countsSince keeps only what grew', () => {
  assert.deepEqual(countsSince({ GetItem: 5, PutObject: 2, Query: 1 }, { GetItem: 3, Query: 1 }), {
    GetItem: 2,
    PutObject: 2,
  });
});

test('a bench message carries its id in a header the sink reads back, and has the body size asked', () => {
  const text = benchMessage('Postern-3-17', 'a@b.test', 'c@d.example', 10_240);
  assert.equal(benchIdOf(Buffer.from(text)), 'Postern-3-17');
  assert.ok(text.length >= 10_240 && text.length < 10_240 + 1024);
  assert.match(text, /\r\n\r\n/);
  assert.equal(benchIdOf(Buffer.from('Subject: x\r\n\r\nX-Bench-Id: body\r\n')), undefined);
});

test('end-to-end latencies pair accepted and arrived messages, and count the missing', () => {
  const accepted = new Map([
    ['a', 100],
    ['b', 200],
    ['c', 300],
  ]);
  const arrivals = new Map([
    ['a', 150],
    ['c', 310],
    ['z', 1],
  ]);
  assert.deepEqual(endToEnd(accepted, arrivals), { latencies: [50, 10], missing: 1 });
});

test('quantile is the nearest rank', () => {
  const xs = [5, 1, 4, 2, 3, 6, 7, 8, 9, 10];
  assert.equal(quantile(xs, 0.5), 5);
  assert.equal(quantile(xs, 0.9), 9);
  assert.equal(quantile(xs, 0.99), 10);
  assert.equal(quantile(xs, 0), 1);
  assert.ok(Number.isNaN(quantile([], 0.5)));
});
