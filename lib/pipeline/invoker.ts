import type { InvokedFunction, Invoker } from '../core/ports.ts';

export type Handler = (event: unknown) => Promise<unknown>;

/**
 * The emulator's invoker: calls the same library handlers the Lambdas wrap, in-process. Events and results
 * are JSON round-tripped, so anything that would not survive a real invocation (Buffers, Dates, class
 * instances, undefined-vs-missing) fails here too.
 */
export class LocalInvoker implements Invoker {
  constructor(
    private readonly handlers: Readonly<Record<InvokedFunction, Handler>>,
    /** Where a background invocation's failure goes (nobody awaits it). */
    private readonly onEventError: (fn: InvokedFunction, err: unknown) => void = () => {},
  ) {}

  /** Starts the handler without waiting for it, as Lambda's InvocationType Event does. */
  async invokeEvent<Req>(fn: InvokedFunction, payload: Req): Promise<void> {
    this.invoke(fn, payload).catch((err) => this.onEventError(fn, err));
  }

  async invoke<Req, Res>(fn: InvokedFunction, payload: Req): Promise<Res> {
    const event = JSON.parse(JSON.stringify(payload));
    const result = await this.handlers[fn](event);
    return (result === undefined ? undefined : JSON.parse(JSON.stringify(result))) as Res;
  }
}
