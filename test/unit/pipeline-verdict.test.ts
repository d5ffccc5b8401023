/** The streaming test-string finder behind the EICAR scanner and the GTUBE check. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EicarScanner, streamingFinder } from '../../lib/pipeline/verdict.ts';

test('finds the needle whichever chunk boundary splits it, byte by byte included', () => {
  const needle = Buffer.from('NEEDLE-123');
  const hay = Buffer.from(`prefix ${needle} suffix`);
  for (let cut = 0; cut <= hay.length; cut++) {
    const f = streamingFinder(needle);
    f.write(hay.subarray(0, cut));
    f.write(hay.subarray(cut));
    assert.equal(f.found, true, `cut at ${cut}`);
  }
  const bytewise = streamingFinder(needle);
  for (const b of hay) bytewise.write(Buffer.from([b]));
  assert.equal(bytewise.found, true);
  const none = streamingFinder(needle);
  none.write(Buffer.from('NEEDLE-12'));
  none.write(Buffer.from('4 NEEDLE-1 23'));
  assert.equal(none.found, false);
});

test('EicarScanner reports the EICAR test file split over chunks, and nothing for clean text', async () => {
  const eicar = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
  const scan = new EicarScanner().start();
  scan.write(Buffer.from(`body ${eicar.slice(0, 20)}`));
  scan.write(Buffer.from(`${eicar.slice(20)} end`));
  assert.deepEqual(await scan.end(), { infected: true, name: 'Eicar-Test-Signature' });
  const clean = new EicarScanner().start();
  clean.write(Buffer.from('hello'));
  assert.deepEqual(await clean.end(), { infected: false });
});
