/**
 * The DKIM selectors' TXT records written straight into a DNS zone the admin CLI may change (the stack's
 * Route 53 hosted zone, lib/storage/aws/route53Txt.ts): the very records `admin dns` prints.
 */
import { dkimRecord, zoneData } from '../clientSetup/records.ts';
import type { DkimKey } from '../core/outbound.ts';

/** TXT records of one hosted zone. */
export interface TxtZone {
  readonly id: string;
  /** Whether the domain's names belong in this zone (the zone's name or under it). */
  holds(domain: string): Promise<boolean>;
  /** Sets TXT `name` (fully qualified) to `data` in zone-file form; resolves once the name servers answer it. */
  upsertTxt(name: string, data: string): Promise<void>;
  /** Removes the TXT record `name`, whatever its value; nothing to do when there is none. */
  removeTxt(name: string): Promise<void>;
}

/** The zone, when there is one and the domain's records belong in it. */
export async function zoneOf(zone: TxtZone | undefined, domain: string): Promise<TxtZone | undefined> {
  return zone && (await zone.holds(domain)) ? zone : undefined;
}

export async function publishDkimRecords(zone: TxtZone, keys: readonly DkimKey[]): Promise<void> {
  for (const key of keys) {
    const record = dkimRecord(key);
    await zone.upsertTxt(record.name, zoneData(record).join(' '));
  }
}

export async function removeDkimRecords(zone: TxtZone, keys: readonly DkimKey[]): Promise<void> {
  for (const key of keys) await zone.removeTxt(dkimRecord(key).name);
}
