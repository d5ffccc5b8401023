import type { FunctionName } from '../core/ports.ts';
import type { Storage } from '../storage/storage.ts';
import type { Handler } from './invoker.ts';
import { type RouteRequest, route } from './route.ts';
import { type StoreRequest, store } from './store.ts';

/**
 * The mail-logic functions as plain handlers over library code: functions/<name>/index.ts wraps each one
 * for Lambda, and the emulator's LocalInvoker calls them in-process.
 */
export function createHandlers(storage: Storage): Record<FunctionName, Handler> {
  return {
    route: (event) => route(storage.directory, event as RouteRequest),
    filter: async () => ({ verdict: 'accept', headers: [] }),
    store: (event) => store(storage, event as StoreRequest),
  };
}
