import type { Route53Client } from '@aws-sdk/client-route-53';
import type { DnsChallengeWriter } from '../../certs/ports.ts';
import { Route53TxtRecords } from './route53Txt.ts';

/**
 * DNS-01 challenges in a Route 53 hosted zone: UPSERT and DELETE of the `_acme-challenge` TXT record, each
 * waited for until the change is INSYNC, so the CA's lookup finds it.
 */
/** Short: the record lives only while the CA checks it. */
const CHALLENGE_TTL = 60;

export class Route53ChallengeWriter implements DnsChallengeWriter {
  private readonly txt: Route53TxtRecords;

  constructor(client: Route53Client, hostedZoneId: string, maxWaitSeconds = 300) {
    this.txt = new Route53TxtRecords(client, hostedZoneId, {
      comment: 'Postern certificate renewal (ACME DNS-01)',
      ttl: CHALLENGE_TTL,
      maxWaitSeconds,
    });
  }

  set(name: string, value: string): Promise<void> {
    return this.txt.change('UPSERT', name, [`"${value}"`], CHALLENGE_TTL);
  }

  /** Exactly what `set` put there, TTL included (a DELETE must match it). */
  remove(name: string, value: string): Promise<void> {
    return this.txt.change('DELETE', name, [`"${value}"`], CHALLENGE_TTL);
  }
}
