/**
 * DynamoDB capacity as on-demand billing counts it, worked out from the requests themselves (DynamoDB Local's
 * ConsumedCapacity counts a transactional write as 1 unit, not 2, so it cannot be the measure):
 * a write is 1 WRU per KB of the item (PutItem sizes are in the request; UpdateItem and DeleteItem are taken as
 * one unit: the items this code updates are under 1 KB), twice that inside a transaction; a read of up to 4 KB
 * is 1 RRU strongly consistent, ½ eventually. Index writes are not visible in a request; lib/cost/requests.ts
 * states them apart.
 */
// biome-ignore lint/suspicious/noExplicitAny: DynamoDB JSON is untyped.
type Json = any;

/** Write and read units by request (`PutItem mailbox`), summed. */
export type MeasuredCapacity = Record<string, { wru: number; rru: number }>;

/** The size DynamoDB bills for one attribute value (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html). */
function valueSize(value: Json): number {
  const [type, v] = Object.entries(value)[0] as [string, Json];
  switch (type) {
    case 'S':
      return Buffer.byteLength(v);
    case 'N':
      return Math.ceil(String(v).replace(/^-|\.|^0+/g, '').length / 2) + 1;
    case 'B':
      return Buffer.from(v, 'base64').length;
    case 'BOOL':
    case 'NULL':
      return 1;
    case 'SS':
      return (v as string[]).reduce((n, s) => n + Buffer.byteLength(s), 0);
    case 'NS':
      return (v as string[]).reduce((n, s) => n + valueSize({ N: s }), 0);
    case 'L':
      return 3 + (v as Json[]).reduce((n, x) => n + 1 + valueSize(x), 0);
    case 'M':
      return 3 + itemSize(v) + Object.keys(v).length;
    default:
      throw new Error(`no size for ${type}`);
  }
}

/** Bytes of an item as DynamoDB counts them: each attribute's name plus its value. */
export function itemSize(item: Record<string, Json>): number {
  return Object.entries(item).reduce((n, [name, value]) => n + Buffer.byteLength(name) + valueSize(value), 0);
}

const writeUnits = (item: Json) => Math.max(1, Math.ceil(itemSize(item) / 1024));
const readUnits = (consistent: boolean | undefined) => (consistent ? 1 : 0.5);

function transactionUnits(items: Json[]): number {
  return items.reduce((n, t) => n + 2 * (t.Put ? writeUnits(t.Put.Item) : 1), 0);
}

function unitsOf(operation: string, request: Json): { wru: number; rru: number } {
  switch (operation) {
    case 'PutItem':
      return { wru: writeUnits(request.Item), rru: 0 };
    case 'UpdateItem':
    case 'DeleteItem':
      return { wru: 1, rru: 0 };
    case 'TransactWriteItems':
      return { wru: transactionUnits(request.TransactItems), rru: 0 };
    case 'BatchWriteItem': {
      const writes = Object.values(request.RequestItems).flat() as Json[];
      return { wru: writes.reduce((n, w) => n + (w.PutRequest ? writeUnits(w.PutRequest.Item) : 1), 0), rru: 0 };
    }
    case 'GetItem':
    case 'Query':
    case 'Scan':
      return { wru: 0, rru: readUnits(request.ConsistentRead) };
    case 'BatchGetItem':
      return {
        wru: 0,
        rru: Object.values(request.RequestItems as Record<string, Json>).reduce(
          (n, t) => n + t.Keys.length * readUnits(t.ConsistentRead),
          0,
        ),
      };
    case 'TransactGetItems':
      return { wru: 0, rru: 2 * request.TransactItems.length };
    default:
      return { wru: 0, rru: 0 };
  }
}

/** Adds one request's units to `into` under its counted name (`TransactWriteItems mailbox+messages`). */
export function dynamoCapacity(into: MeasuredCapacity, op: string, body: string): void {
  const units = unitsOf(op.split(' ')[0], JSON.parse(body));
  const sum = into[op] ?? { wru: 0, rru: 0 };
  into[op] = { wru: sum.wru + units.wru, rru: sum.rru + units.rru };
}
