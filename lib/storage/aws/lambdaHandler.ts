import { loadAwsConfig } from '../../core/config.ts';
import type { FunctionName } from '../../core/ports.ts';
import { createHandlers } from '../../pipeline/handlers.ts';
import type { Handler } from '../../pipeline/invoker.ts';
import { createAwsStorage } from './storage.ts';

/**
 * A Lambda entry point for one mail-logic function: the same library handler the emulator runs in-process.
 * Configuration is read once per container, storage clients are built on the first invocation and reused for
 * the life of the container.
 */
export function lambdaHandler(name: FunctionName): Handler {
  let cached: Handler | undefined;
  return async (event) => {
    cached ??= createHandlers(createAwsStorage(loadAwsConfig(process.env)))[name];
    return cached(event);
  };
}
