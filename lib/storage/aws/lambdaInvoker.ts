import { InvokeCommand, type InvokeCommandOutput, LambdaClient } from '@aws-sdk/client-lambda';
import { TemporaryError } from '../../core/errors.ts';
import type { InvokedFunction, Invoker } from '../../core/ports.ts';

/** Invokes the deployed functions; a function error or a transport failure is a TemporaryError (answer 4xx). */
export class LambdaInvoker implements Invoker {
  constructor(
    private readonly lambda: LambdaClient,
    private readonly functionNames: Readonly<Record<InvokedFunction, string>>,
  ) {}

  static create(functionNames: Readonly<Record<InvokedFunction, string>>): LambdaInvoker {
    return new LambdaInvoker(new LambdaClient({}), functionNames);
  }

  async invoke<Req, Res>(fn: InvokedFunction, payload: Req): Promise<Res> {
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

  /** InvocationType Event: Lambda queues the invocation and answers 202 at once. */
  async invokeEvent<Req>(fn: InvokedFunction, payload: Req): Promise<void> {
    try {
      await this.lambda.send(
        new InvokeCommand({
          FunctionName: this.functionNames[fn],
          InvocationType: 'Event',
          Payload: Buffer.from(JSON.stringify(payload)),
        }),
      );
    } catch (err) {
      throw new TemporaryError(`invoke ${fn} (event) failed: ${(err as Error).message}`, err);
    }
  }
}
