/**
 * The route Lambda: a thin wrapper over the library handler (lib/pipeline/route.ts), the same code the emulator
 * runs in-process. Storage clients are built once per container from the environment the stack sets.
 */
import { namesFromEnv } from '../../lib/core/schema.ts';
import { createHandlers } from '../../lib/pipeline/handlers.ts';
import type { Handler } from '../../lib/pipeline/invoker.ts';
import { endpointsFromEnv } from '../../lib/storage/aws/clients.ts';
import { createAwsStorage } from '../../lib/storage/storage.ts';

let cached: Handler | undefined;

export async function handler(event: unknown): Promise<unknown> {
  cached ??= createHandlers(createAwsStorage(endpointsFromEnv(), namesFromEnv())).route;
  return cached(event);
}
