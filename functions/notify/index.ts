/**
 * The notify Lambda: a DynamoDB Streams event source on the changes table hands it each batch of change records;
 * lib/storage/aws/changeFeedRelay.ts tells every live gateway task (see docs/ARCHITECTURE.md, "Push across
 * tasks"). Clients and the UDP socket are made once per container.
 */
import { loadAwsConfig } from '../../lib/core/config.ts';
import { createLogger } from '../../lib/core/log.ts';
import { DynamoPresenceStore } from '../../lib/storage/aws/changeFeedPresence.ts';
import { type ChangeStreamRecord, type RelayDeps, relayChanges } from '../../lib/storage/aws/changeFeedRelay.ts';
import { makeDynamoClient } from '../../lib/storage/aws/clients.ts';
import { NoticeSender } from '../../lib/storage/changeFeedUdp.ts';

let deps: RelayDeps | undefined;

export async function handler(event: { Records?: ChangeStreamRecord[] }): Promise<void> {
  if (!deps) {
    const aws = loadAwsConfig(process.env);
    deps = {
      presence: new DynamoPresenceStore(makeDynamoClient(aws.endpoints), aws.names),
      sender: new NoticeSender(),
      log: createLogger({ fields: { component: 'notify' } }),
    };
  }
  await relayChanges(event.Records ?? [], deps);
}
