import {
  ChangeResourceRecordSetsCommand,
  GetHostedZoneCommand,
  ListResourceRecordSetsCommand,
  type Route53Client,
  waitUntilResourceRecordSetsChanged,
} from '@aws-sdk/client-route-53';
import type { TxtZone } from '../../admin/dkimDns.ts';

const withDot = (name: string) => (name.endsWith('.') ? name : `${name}.`).toLowerCase();

/**
 * TXT records of one Route 53 hosted zone. Every change is waited for until INSYNC (every Route 53 name server
 * answers it). Values are in zone-file form (`"part" "part"`), which Route 53 takes as is.
 */
export class Route53TxtRecords implements TxtZone {
  private zoneName?: Promise<string>;

  constructor(
    private readonly client: Route53Client,
    readonly id: string,
    private readonly opts: {
      readonly comment: string;
      readonly ttl: number;
      /** Longest wait for INSYNC (Route 53 takes about a minute at most). */
      readonly maxWaitSeconds?: number;
    },
  ) {}

  async holds(domain: string): Promise<boolean> {
    this.zoneName ??= this.client
      .send(new GetHostedZoneCommand({ Id: this.id }))
      .then((out) => withDot(out.HostedZone?.Name ?? ''));
    const zone = await this.zoneName;
    const name = withDot(domain);
    return name === zone || name.endsWith(`.${zone}`);
  }

  upsertTxt(name: string, data: string): Promise<void> {
    return this.change('UPSERT', name, [data], this.opts.ttl);
  }

  /** A DELETE must name the record set exactly as it is, so it is read first; no record, nothing to do. */
  async removeTxt(name: string): Promise<void> {
    const out = await this.client.send(
      new ListResourceRecordSetsCommand({
        HostedZoneId: this.id,
        StartRecordName: name,
        StartRecordType: 'TXT',
        MaxItems: 1,
      }),
    );
    const set = out.ResourceRecordSets?.[0];
    if (set?.Type !== 'TXT' || withDot(set.Name ?? '') !== withDot(name)) return;
    const values = (set.ResourceRecords ?? []).map((r) => r.Value ?? '');
    await this.change('DELETE', name, values, set.TTL ?? this.opts.ttl);
  }

  async change(action: 'UPSERT' | 'DELETE', name: string, values: readonly string[], ttl: number): Promise<void> {
    const out = await this.client.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: this.id,
        ChangeBatch: {
          Comment: this.opts.comment,
          Changes: [
            {
              Action: action,
              ResourceRecordSet: {
                Name: name,
                Type: 'TXT',
                TTL: ttl,
                ResourceRecords: values.map((Value) => ({ Value })),
              },
            },
          ],
        },
      }),
    );
    const id = out.ChangeInfo?.Id;
    if (!id) throw new Error('Route 53 returned no change id');
    await waitUntilResourceRecordSetsChanged(
      { client: this.client, maxWaitTime: this.opts.maxWaitSeconds ?? 300, minDelay: 5 },
      { Id: id },
    );
  }
}
