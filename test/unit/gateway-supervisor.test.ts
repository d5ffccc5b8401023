import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { superviseGateway } from '../../local/gatewaySupervisor.ts';

/** A stand-in gateway: prints a line, then runs until killed, or exits at once with `exitCode`. */
const child = (exitCode?: number) =>
  spawn(
    process.execPath,
    ['-e', exitCode === undefined ? 'console.log("up"); setInterval(() => {}, 1000)' : `process.exit(${exitCode})`],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );

describe('the emulator keeps its gateway running', () => {
  it('starts it again after it is killed, with a growing pause', async (t) => {
    const said: string[] = [];
    let ups = 0;
    const sup = superviseGateway({
      start: () => child(),
      onLine: (line) => line === 'up' && ups++,
      say: (line) => said.push(line),
      onGiveUp: () => assert.fail('must not give up'),
      firstDelayMs: 20,
    });
    t.after(() => sup.stop(100));
    for (let round = 1; round <= 3; round++) {
      while (ups < round) await new Promise((r) => setTimeout(r, 10));
      const current = sup.current!;
      current.kill('SIGKILL');
      await once(current, 'exit');
    }
    while (ups < 4) await new Promise((r) => setTimeout(r, 10));
    assert.equal(sup.restarts, 3);
    assert.deepEqual(
      said.map((l) => /again in (\d+) ms/.exec(l)?.[1]),
      ['20', '40', '80'],
      'the pause doubles while the gateway keeps dying quickly',
    );
  });

  it('gives up on a configuration error (exit 2) instead of looping', async () => {
    let gaveUp: number | undefined;
    let starts = 0;
    const sup = superviseGateway({
      start: () => {
        starts++;
        return child(2);
      },
      onLine: () => {},
      say: () => {},
      onGiveUp: (code) => (gaveUp = code),
      firstDelayMs: 10,
    });
    while (gaveUp === undefined) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(gaveUp, 2);
    assert.equal(starts, 1);
    await sup.stop();
  });

  it('stop() ends the gateway and starts no other', async () => {
    const sup = superviseGateway({ start: () => child(), onLine: () => {}, say: () => {}, onGiveUp: () => {} });
    const running = sup.current!;
    await sup.stop(1000);
    assert.notEqual(running.signalCode ?? running.exitCode, null);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(sup.current, undefined);
  });
});
