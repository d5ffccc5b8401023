/**
 * When to try a deferred recipient again, and when to give up: the retry schedule (POSTERN_RETRY_SCHEDULE,
 * seconds between attempts, the last repeating) and the queue lifetime (POSTERN_QUEUE_LIFETIME), both from
 * OutboundConfig. Like Postfix's minimal/maximal backoff and maximal_queue_lifetime.
 */

export interface RetryPolicy {
  /** Seconds to wait after the 1st, 2nd, ... attempt; the last value repeats. Never empty. */
  readonly retrySchedule: readonly number[];
  readonly queueLifetimeMs: number;
}

/** The wait after an entry's `attempts`-th attempt (1 for the first), in milliseconds. */
export function retryDelayMs(policy: RetryPolicy, attempts: number): number {
  const steps = policy.retrySchedule;
  return steps[Math.min(Math.max(attempts, 1), steps.length) - 1] * 1000;
}

/** Whether a message queued at `createdAt` has been in the queue too long at `at`: its deferred recipients fail. */
export function expired(policy: RetryPolicy, createdAt: number, at: number): boolean {
  return at - createdAt >= policy.queueLifetimeMs;
}

/**
 * When the next attempt after this one (the entry's `attempts`-th) is due: never past the end of the lifetime,
 * so the attempt that finds the message expired comes on time rather than one long step later.
 */
export function nextAttemptAt(policy: RetryPolicy, createdAt: number, at: number, attempts: number): number {
  return Math.min(at + retryDelayMs(policy, attempts), createdAt + policy.queueLifetimeMs);
}
