/**
 * An in-memory DynamoDB stand-in for the benchmarks' "memory" storage mode: the DynamoDB JSON 1.0 API over
 * HTTP on loopback, for the operations Postern uses, with an optional service time added per operation so
 * that a benchmark sees AWS-like latencies instead of DynamoDB Local's. Scaffold: the engine lands with
 * the memdb work; until then starting it throws.
 */

/** Added service time per request in ms, keyed by DynamoDB operation (GetItem, TransactWriteItems, ...). */
export type OperationLatency = Readonly<Partial<Record<string, number>>> & { readonly default?: number };

export interface MemoryDynamoDbOptions {
  /** Default 0: an ephemeral port. Always 127.0.0.1. */
  readonly port?: number;
  readonly latencyMs?: OperationLatency;
}

export interface MemoryDynamoDb {
  /** e.g. http://127.0.0.1:43211 */
  readonly endpoint: string;
  readonly port: number;
  /** The serving process (a child of its own, so that a benchmark can meter its CPU apart). */
  readonly pid: number;
  stop(): Promise<void>;
}

/** Starts the stand-in in a child process of its own. */
export async function spawnMemoryDynamoDb(_opts: MemoryDynamoDbOptions = {}): Promise<MemoryDynamoDb> {
  throw new Error('the in-memory DynamoDB stand-in is not built yet');
}
