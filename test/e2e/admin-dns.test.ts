/** `npm run admin -- dns` as a user runs it: every record, in a zone file dnspython reads, no storage needed. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { assertInputError, assertOk, runAdmin } from '../support/adminCli.ts';
import { parseZone } from '../support/pythonParsers.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'postern-admin-dns-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));
const admin = (args: readonly string[]) => runAdmin(args, { dataDir });

describe('admin dns', () => {
  it('prints a zone with MX, A, SPF, DMARC, MTA-STS, TLS-RPT, six SRV and CAA records', async () => {
    const lines = assertOk(await admin(['dns', 'example.org', '--ip', '203.0.113.7']));
    const zone = parseZone(lines, 'example.org.');
    const count = (type: string) => zone.filter((r) => r.type === type).length;
    assert.deepEqual(
      { MX: count('MX'), A: count('A'), TXT: count('TXT'), SRV: count('SRV'), CAA: count('CAA') },
      { MX: 1, A: 1, TXT: 4, SRV: 6, CAA: 3 },
    );
    assert.ok(zone.some((r) => r.name === '_smtp._tls.example.org.' && r.text?.startsWith('v=TLSRPTv1;')));
    assert.ok(lines.some((l) => l === '; PTR: set the reverse DNS of 203.0.113.7 to mail.example.org.'));
  });

  it('--outbound ses authorizes SES in SPF; a bad route is an input error', async () => {
    const zone = parseZone(assertOk(await admin(['dns', 'example.org', '--outbound', 'ses'])), 'example.org.');
    const spf = zone.find((r) => r.type === 'TXT' && r.name === 'example.org.');
    assert.equal(spf?.text, 'v=spf1 include:amazonses.com -all');
    assertInputError(await admin(['dns', 'example.org', '--outbound', 'carrier-pigeon']), /--outbound must be/);
  });
});
