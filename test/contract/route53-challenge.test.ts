/**
 * The Route 53 DNS-01 challenge writer (lib/storage/aws/route53Challenge.ts) with the real SDK client against
 * the Route 53 stand-in: the TXT record is UPSERTed quoted with the TTL its DELETE repeats, and each change
 * is waited for with GetChange (INSYNC) before the call resolves.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Route53Client } from '@aws-sdk/client-route-53';
import { LOCAL_CREDENTIALS } from '../../lib/storage/aws/clients.ts';
import { Route53ChallengeWriter } from '../../lib/storage/aws/route53Challenge.ts';
import { startRoute53 } from '../support/route53.ts';

const route53 = await startRoute53();
after(() => route53.stop());
const client = new Route53Client({ endpoint: route53.endpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS });
after(() => client.destroy());
const writer = new Route53ChallengeWriter(client, 'Z0123456789ABC', 30);
const name = '_acme-challenge.mail.example.org';

describe('Route 53 challenge writer', () => {
  it('sets the challenge as a quoted TXT value and waits for INSYNC; removes exactly that record', async () => {
    await writer.set(name, 'token-digest');
    assert.deepEqual(route53.records.get(`Z0123456789ABC ${name} TXT`), { ttl: 60, values: ['"token-digest"'] });
    assert.deepEqual(
      route53.requests.map((r) => `${r.method} ${r.path.replace(/\?.*/, '')}`),
      ['POST /2013-04-01/hostedzone/Z0123456789ABC/rrset', 'GET /2013-04-01/change/C1'],
    );
    await writer.remove(name, 'token-digest');
    assert.equal(route53.records.size, 0);
    assert.equal(route53.requests.at(-1)?.path.replace(/\?.*/, ''), '/2013-04-01/change/C2');
  });

  it('a DELETE of a record that is not there fails (Route 53 InvalidChangeBatch)', async () => {
    await assert.rejects(writer.remove(name, 'never-set'), /record not found/);
  });
});
