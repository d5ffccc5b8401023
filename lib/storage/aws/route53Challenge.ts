import {
  ChangeResourceRecordSetsCommand,
  type Route53Client,
  waitUntilResourceRecordSetsChanged,
} from '@aws-sdk/client-route-53';
import type { DnsChallengeWriter } from '../../certs/ports.ts';

/**
 * DNS-01 challenges in a Route 53 hosted zone: UPSERT and DELETE of the `_acme-challenge` TXT record, each
 * waited for until the change is INSYNC (every Route 53 name server answers it), so the CA's lookup finds it.
 */
export class Route53ChallengeWriter implements DnsChallengeWriter {
  constructor(
    private readonly client: Route53Client,
    private readonly hostedZoneId: string,
    /** Longest wait for INSYNC (Route 53 takes about a minute at most). */
    private readonly maxWaitSeconds = 300,
  ) {}

  set(name: string, value: string): Promise<void> {
    return this.change('UPSERT', name, value);
  }

  remove(name: string, value: string): Promise<void> {
    return this.change('DELETE', name, value);
  }

  private async change(action: 'UPSERT' | 'DELETE', name: string, value: string): Promise<void> {
    const out = await this.client.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: this.hostedZoneId,
        ChangeBatch: {
          Comment: 'Postern certificate renewal (ACME DNS-01)',
          Changes: [
            {
              Action: action,
              // a DELETE must name the record exactly as it was set, TTL included
              ResourceRecordSet: { Name: name, Type: 'TXT', TTL: 60, ResourceRecords: [{ Value: `"${value}"` }] },
            },
          ],
        },
      }),
    );
    const id = out.ChangeInfo?.Id;
    if (!id) throw new Error('Route 53 returned no change id');
    await waitUntilResourceRecordSetsChanged(
      { client: this.client, maxWaitTime: this.maxWaitSeconds, minDelay: 5 },
      { Id: id },
    );
  }
}
