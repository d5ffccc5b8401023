import { InvokeCommand, type InvokeCommandOutput, LambdaClient } from '@aws-sdk/client-lambda';
import { TemporaryError } from '../core/errors.ts';
import type { FunctionName, Invoker } from '../core/ports.ts';

export type Handler = (event: unknown) => Promise<unknown>;

/**
 * The emulator's invoker: calls the same library handlers the Lambdas wrap, in-process. Events and results
 * are JSON round-tripped, so anything that would not survive a real invocation (Buffers, Dates, class
 * instances, undefined-vs-missing) fails here too.
 */
export class LocalInvoker implements Invoker {
  constructor(private readonly handlers: Readonly<Record<FunctionName, Handler>>) {}

  async invoke<Req, Res>(fn: FunctionName, payload: Req): Promise<Res> {
    const event = JSON.parse(JSON.stringify(payload));
    const result = await this.handlers[fn](event);
    return (result === undefined ? undefined : JSON.parse(JSON.stringify(result))) as Res;
  }
}

/** Invokes the deployed functions; a function error or a transport failure is a TemporaryError (answer 4xx). */
export class LambdaInvoker implements Invoker {
  constructor(
    private readonly lambda: LambdaClient,
    private readonly functionNames: Readonly<Record<FunctionName, string>>,
  ) {}

  static fromEnv(env: NodeJS.ProcessEnv = process.env): LambdaInvoker {
    const names = { route: env.POSTERN_FN_ROUTE, filter: env.POSTERN_FN_FILTER, store: env.POSTERN_FN_STORE };
    for (const [fn, name] of Object.entries(names)) {
      if (!name) throw new Error(`POSTERN_FN_${fn.toUpperCase()} is not set`);
    }
    return new LambdaInvoker(new LambdaClient({}), names as Record<FunctionName, string>);
  }

  async invoke<Req, Res>(fn: FunctionName, payload: Req): Promise<Res> {
    let out: InvokeCommandOutput;
    try {
      out = await this.lambda.send(
        new InvokeCommand({ FunctionName: this.functionNames[fn], Payload: Buffer.from(JSON.stringify(payload)) }),
      );
    } catch (err) {
      throw new TemporaryError(`invoke ${fn} failed: ${(err as Error).message}`, err);
    }
    const text = out.Payload ? Buffer.from(out.Payload).toString('utf8') : '';
    if (out.FunctionError) throw new TemporaryError(`${fn} failed: ${text.slice(0, 500)}`);
    return (text ? JSON.parse(text) : undefined) as Res;
  }
}
