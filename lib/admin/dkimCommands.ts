/**
 * The admin CLI's DKIM commands: the first key pair of a new domain, rotation, listing, retiring a selector and
 * the TXT records to publish. Private keys stay in the key store: nothing here prints them. Given a hosted zone
 * that holds the domain, new selectors are published there before they are stored (so they never sign
 * unpublished) and a retired one leaves the zone before its key goes.
 */
import { normalizeDomain } from '../core/address.ts';
import { InvalidInputError, NotFoundError } from '../core/errors.ts';
import type { DkimKey } from '../core/outbound.ts';
import type { Directory } from '../core/ports.ts';
import { currentKeys, type DkimKeyAdmin, dkimRecordName, generateKeySet } from '../outbound/dkimKeys.ts';
import { publishDkimRecords, removeDkimRecords, type TxtZone, zoneOf } from './dkimDns.ts';

export interface DkimCommandDeps {
  readonly directory: Directory;
  readonly keys: DkimKeyAdmin;
  readonly now?: () => number;
  /** Where the TXT records go (with --aws and POSTERN_HOSTED_ZONE_ID); without it, `admin dns` prints them. */
  readonly zone?: TxtZone;
}

async function requireDomain(directory: Directory, input: string): Promise<string> {
  const domain = normalizeDomain(input);
  if (!(await directory.getDomain(domain))) throw new NotFoundError(`unknown domain ${domain}`);
  return domain;
}

const describeKeys = (keys: readonly DkimKey[]) => keys.map((k) => `${k.selector} (${k.algorithm})`).join(', ');

const publishNote = (domain: string, zone: TxtZone | undefined) =>
  zone
    ? `published their TXT records in hosted zone ${zone.id}`
    : `publish their records (npm run admin -- dns ${domain})`;

/** Adds a new pair of each algorithm; they sign from now on, the older keys stay until retired. */
async function addKeySet(deps: DkimCommandDeps, domain: string): Promise<{ set: DkimKey[]; zone?: TxtZone }> {
  const set = generateKeySet(domain, await deps.keys.list(domain), (deps.now ?? Date.now)());
  const zone = await zoneOf(deps.zone, domain);
  if (zone) await publishDkimRecords(zone, set);
  for (const key of set) await deps.keys.add(key);
  return { set, zone };
}

/** For `domain add`: the domain's first keys, unless it already has some (left from before; they are kept). */
export async function dkimKeysForNewDomain(deps: DkimCommandDeps, domain: string): Promise<string[]> {
  const existing = await deps.keys.list(domain);
  if (existing.length > 0) return [`kept its DKIM keys ${describeKeys(currentKeys(existing))}`];
  try {
    const { set, zone } = await addKeySet(deps, domain);
    const note = zone ? publishNote(domain, zone) : `publish them: npm run admin -- dns ${domain}`;
    return [`added DKIM keys ${describeKeys(set)}; ${note}`];
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(
      `domain ${domain} added, but its DKIM keys could not be stored (${reason}); run dkim rotate ${domain}`,
    );
  }
}

export async function dkimRotate(deps: DkimCommandDeps, input: string): Promise<string[]> {
  const domain = await requireDomain(deps.directory, input);
  const { set, zone } = await addKeySet(deps, domain);
  return [
    `added DKIM keys ${describeKeys(set)} for ${domain}; they sign from now on`,
    `${publishNote(domain, zone)}; keep the older ones until mail signed with them has been delivered, then dkim retire`,
  ];
}

/** Writes every selector of the domain into the hosted zone (again): for keys made before it was configured. */
export async function dkimPublish(deps: DkimCommandDeps, input: string): Promise<string[]> {
  const domain = await requireDomain(deps.directory, input);
  if (!deps.zone) throw new InvalidInputError('dkim publish needs --aws and POSTERN_HOSTED_ZONE_ID');
  if (!(await deps.zone.holds(domain))) throw new InvalidInputError(`${domain} is not in hosted zone ${deps.zone.id}`);
  const keys = await deps.keys.list(domain);
  if (keys.length === 0) throw new NotFoundError(`${domain} has no DKIM key; dkim rotate ${domain}`);
  await publishDkimRecords(deps.zone, keys);
  return keys.map((k) => `published ${dkimRecordName(k)} TXT in hosted zone ${deps.zone?.id}`);
}

export async function dkimList(deps: DkimCommandDeps, input: string): Promise<string[]> {
  const domain = await requireDomain(deps.directory, input);
  const keys = await deps.keys.list(domain);
  const signing = new Set(currentKeys(keys).map((k) => k.selector));
  const width = Math.max(0, ...keys.map((k) => k.selector.length));
  return keys.map(
    (k) =>
      `${k.selector.padEnd(width)}  ${k.algorithm.padEnd(14)}  ${new Date(k.createdAt).toISOString()}  ${signing.has(k.selector) ? 'signing' : 'published'}`,
  );
}

/** Deletes a key that no longer signs; its TXT record can go from DNS afterwards. */
export async function dkimRetire(deps: DkimCommandDeps, input: string, selector: string): Promise<string[]> {
  const domain = await requireDomain(deps.directory, input);
  const keys = await deps.keys.list(domain);
  if (!keys.some((k) => k.selector === selector)) throw new NotFoundError(`${domain} has no DKIM key ${selector}`);
  if (currentKeys(keys).some((k) => k.selector === selector)) {
    throw new InvalidInputError(`${selector} signs mail of ${domain} now; dkim rotate first`);
  }
  const zone = await zoneOf(deps.zone, domain);
  const retired = keys.filter((k) => k.selector === selector);
  if (zone) await removeDkimRecords(zone, retired);
  await deps.keys.removeKey(domain, selector);
  const name = dkimRecordName(retired[0]);
  return [
    `retired DKIM key ${selector} of ${domain}; ${zone ? `removed ${name} from hosted zone ${zone.id}` : `remove ${name} from DNS`}`,
  ];
}

/** For `domain remove`, once its checks have passed: the selectors leave the zone, then the keys go. */
export async function dkimRemoveDomain(deps: Omit<DkimCommandDeps, 'directory'>, domain: string): Promise<void> {
  const zone = await zoneOf(deps.zone, domain);
  if (zone) await removeDkimRecords(zone, await deps.keys.list(domain));
  await deps.keys.removeDomain(domain);
}
