import type { FunctionName } from '../core/ports.ts';
import { namesFromEnv } from '../core/schema.ts';
import { endpointsFromEnv } from '../storage/aws/clients.ts';
import { createAwsStorage } from '../storage/storage.ts';
import { createHandlers } from './handlers.ts';
import type { Handler } from './invoker.ts';

/**
 * A Lambda entry point for one mail-logic function: the same library handler the emulator runs in-process.
 * Storage clients are built on the first invocation and reused for the life of the container.
 */
export function lambdaHandler(name: FunctionName): Handler {
  let cached: Handler | undefined;
  return async (event) => {
    cached ??= createHandlers(createAwsStorage(endpointsFromEnv(), namesFromEnv()))[name];
    return cached(event);
  };
}
