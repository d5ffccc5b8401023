import type { FunctionName, Storage } from '../core/ports.ts';
import { deliverHandler, type OutboundParts } from '../outbound/deliver.ts';
import { type SesFeedbackParts, sesFeedbackHandler } from '../outbound/sesFeedbackHandler.ts';
import type { FilterRequest, RouteRequest, StoreBatchRequest } from './contracts.ts';
import { type Resolver, systemResolver } from './dns.ts';
import { filter } from './filter.ts';
import type { Handler } from './invoker.ts';
import { route } from './route.ts';
import { storeBatch } from './store.ts';
import { DefaultScorer, EicarScanner, type SpamScorer, type VirusScanner } from './verdict.ts';

/** What the filter uses besides storage; tests inject a stub resolver (this machine has no Internet). */
export interface HandlerOptions {
  readonly resolver?: Resolver;
  readonly scorer?: SpamScorer;
  readonly scanner?: VirusScanner;
  /** The deliver step's transport, signer and DSN hook; absent, `deliver` refuses to run. */
  readonly outbound?: OutboundParts;
  /** The SES feedback step's suppression list and DSN sender; absent, `sesFeedback` refuses to run. */
  readonly sesFeedback?: SesFeedbackParts;
}

/**
 * The mail-logic functions as plain handlers over library code: functions/<name>/index.ts wraps each one
 * for Lambda, and the emulator's LocalInvoker calls them in-process.
 */
export function createHandlers(storage: Storage, opts: HandlerOptions = {}): Record<FunctionName, Handler> {
  const filterDeps = {
    blobs: storage.blobs,
    resolver: opts.resolver ?? systemResolver(),
    scorer: opts.scorer ?? new DefaultScorer(),
    scanner: opts.scanner ?? new EicarScanner(),
  };
  return {
    route: (event) => route(storage.directory, event as RouteRequest),
    filter: (event) => filter(filterDeps, event as FilterRequest),
    store: (event) => storeBatch(storage, event as StoreBatchRequest),
    deliver: deliverHandler(storage, opts.outbound),
    sesFeedback: sesFeedbackHandler(opts.sesFeedback),
  };
}
