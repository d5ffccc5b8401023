import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../core/log.ts';

/**
 * Starts the deliver function: on a timer (the emulator; EventBridge does it in AWS) and whenever a message
 * was just queued (`kick`), so mail leaves at once instead of at the next tick. Kicks while a run is going
 * are folded into one more run after it, so a burst of submissions starts two runs, not hundreds. Runs start
 * at least `minIntervalMs` apart: in AWS a run only starts a Lambda, so without the spacing every submission
 * would start one, and concurrent runners race (each lost claim costs a write).
 */
export class DeliverKicker {
  private running: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly run: () => Promise<unknown>,
    private readonly log: Logger,
    private readonly minIntervalMs = 0,
  ) {}

  kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = undefined;
    });
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      const started = Date.now();
      try {
        await this.run();
      } catch (err) {
        this.log.warn('deliver run failed', { err });
      }
      const wait = this.minIntervalMs - (Date.now() - started);
      if (wait > 0) await sleep(wait);
    } while (this.again);
  }

  /** Kicks every `pollMs` until stop(); the timer does not keep the process alive. */
  start(pollMs: number): void {
    this.timer ??= setInterval(() => this.kick(), pollMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for the run in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.again = false;
    await this.running;
  }
}
