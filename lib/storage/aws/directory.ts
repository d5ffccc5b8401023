import {
  type DynamoDBClient,
  GetItemCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { normalizeDomain, parseAddress } from '../../core/address.ts';
import { AlreadyExistsError, InvalidInputError, NotFoundError } from '../../core/errors.ts';
import { randomId } from '../../core/ids.ts';
import type { Account, AddressEntry, Alias, Directory, Domain } from '../../core/ports.ts';
import type { StorageNames } from '../../core/schema.ts';
import { cancellationCodes, fromAttr, type Item, isConditionFailure, queryAll, temporary, toAttr } from './dynamo.ts';

/**
 * Directory items (table `directory`, pk/sk; index byDomain on gpk/gsk):
 *   DOMAIN#<d>  / DOMAIN    gpk DOMAINS      gsk <d>           postmaster (optional address)
 *   ADDR#<a>    / ADDR      gpk DOMAIN#<d>   gsk ADDR#<a>      kind account (accountId) | alias (targets)
 *   ACCOUNT#<id>/ ACCOUNT   gpk DOMAIN#<d>   gsk ACCOUNT#<a>
 * An address is claimed by exactly one ADDR item, so accounts and aliases can never collide.
 */
const domainKey = (d: string) => ({ pk: `DOMAIN#${d}`, sk: 'DOMAIN' });
const addressKey = (a: string) => ({ pk: `ADDR#${a}`, sk: 'ADDR' });
const accountKey = (id: string) => ({ pk: `ACCOUNT#${id}`, sk: 'ACCOUNT' });

/** Normalises an alias address, which may be a catch-all `@domain`. */
function normalizeAliasAddress(input: string): { address: string; domain: string } {
  if (input.startsWith('@')) {
    const domain = normalizeDomain(input.slice(1));
    return { address: `@${domain}`, domain };
  }
  const parsed = parseAddress(input);
  return { address: parsed.address, domain: parsed.domain };
}

function toDomain(item: Item): Domain {
  const domain = { domain: item.domain as string, createdAt: item.createdAt as number };
  return typeof item.postmaster === 'string' ? { ...domain, postmaster: item.postmaster } : domain;
}

function toAccount(item: Item): Account {
  return {
    accountId: item.accountId as string,
    address: item.address as string,
    domain: item.domain as string,
    passwordHash: item.passwordHash as string,
    quotaBytes: (item.quotaBytes as number) ?? 0,
    createdAt: item.createdAt as number,
  };
}

export class DynamoDirectory implements Directory {
  private readonly table: string;

  constructor(
    private readonly db: DynamoDBClient,
    names: StorageNames,
  ) {
    this.table = names.tables.directory;
  }

  private async get(key: { pk: string; sk: string }): Promise<Item | undefined> {
    try {
      const out = await this.db.send(
        new GetItemCommand({ TableName: this.table, Key: toAttr(key), ConsistentRead: true }),
      );
      return fromAttr(out.Item);
    } catch (err) {
      throw temporary('directory read failed', err);
    }
  }

  private async byDomainIndex(gpk: string, gskPrefix?: string): Promise<Item[]> {
    try {
      return await queryAll(this.db, {
        TableName: this.table,
        IndexName: 'byDomain',
        KeyConditionExpression: gskPrefix ? 'gpk = :g AND begins_with(gsk, :p)' : 'gpk = :g',
        ExpressionAttributeValues: toAttr(gskPrefix ? { ':g': gpk, ':p': gskPrefix } : { ':g': gpk }),
      });
    } catch (err) {
      throw temporary('directory query failed', err);
    }
  }

  async addDomain(input: string, opts: { readonly postmaster?: string } = {}): Promise<Domain> {
    const domain = normalizeDomain(input);
    const postmaster = opts.postmaster === undefined ? {} : { postmaster: parseAddress(opts.postmaster).address };
    const item = { ...domainKey(domain), gpk: 'DOMAINS', gsk: domain, domain, createdAt: Date.now(), ...postmaster };
    try {
      await this.db.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: this.table, Item: toAttr(item), ConditionExpression: 'attribute_not_exists(pk)' } },
          ],
        }),
      );
    } catch (err) {
      if (cancellationCodes(err)?.[0] === 'ConditionalCheckFailed')
        throw new AlreadyExistsError(`domain ${domain} exists`);
      throw temporary('domain write failed', err);
    }
    return toDomain(item);
  }

  async getDomain(input: string): Promise<Domain | undefined> {
    const item = await this.get(domainKey(normalizeDomain(input)));
    return item ? toDomain(item) : undefined;
  }

  async listDomains(): Promise<Domain[]> {
    return (await this.byDomainIndex('DOMAINS')).map(toDomain);
  }

  async removeDomain(input: string): Promise<void> {
    const domain = normalizeDomain(input);
    if (!(await this.get(domainKey(domain)))) throw new NotFoundError(`no domain ${domain}`);
    // Every account and alias claims exactly one ADDR# item, so those are what to count.
    const members = await this.byDomainIndex(`DOMAIN#${domain}`, 'ADDR#');
    if (members.length > 0) {
      throw new InvalidInputError(
        `domain ${domain} still has ${members.length} accounts or aliases; remove them first`,
      );
    }
    await this.deleteOne(domainKey(domain), `domain ${domain}`);
  }

  private async deleteOne(key: { pk: string; sk: string }, what: string): Promise<void> {
    try {
      await this.db.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Delete: { TableName: this.table, Key: toAttr(key), ConditionExpression: 'attribute_exists(pk)' } },
          ],
        }),
      );
    } catch (err) {
      if (cancellationCodes(err)?.[0] === 'ConditionalCheckFailed') throw new NotFoundError(`no ${what}`);
      throw temporary('directory delete failed', err);
    }
  }

  /** Writes a new address claim plus its companion items, checking that the domain exists and the address is free. */
  private async claimAddress(address: string, domain: string, addressItem: Item, extra: Item[]): Promise<void> {
    try {
      await this.db.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              ConditionCheck: {
                TableName: this.table,
                Key: toAttr(domainKey(domain)),
                ConditionExpression: 'attribute_exists(pk)',
              },
            },
            {
              Put: {
                TableName: this.table,
                Item: toAttr({
                  ...addressKey(address),
                  gpk: `DOMAIN#${domain}`,
                  gsk: `ADDR#${address}`,
                  ...addressItem,
                }),
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            ...extra.map((item) => ({
              Put: { TableName: this.table, Item: toAttr(item), ConditionExpression: 'attribute_not_exists(pk)' },
            })),
          ],
        }),
      );
    } catch (err) {
      const codes = cancellationCodes(err);
      if (codes?.[0] === 'ConditionalCheckFailed') throw new NotFoundError(`no domain ${domain}`);
      if (codes?.[1] === 'ConditionalCheckFailed') throw new AlreadyExistsError(`address ${address} is taken`);
      throw temporary('directory write failed', err);
    }
  }

  async addAccount(input: { address: string; passwordHash: string; quotaBytes?: number }): Promise<Account> {
    const { address, domain } = parseAddress(input.address);
    const quotaBytes = input.quotaBytes ?? 0;
    if (!Number.isSafeInteger(quotaBytes) || quotaBytes < 0)
      throw new InvalidInputError('quota must be a whole number of bytes');
    const account: Account = {
      accountId: randomId(),
      address,
      domain,
      passwordHash: input.passwordHash,
      quotaBytes,
      createdAt: Date.now(),
    };
    await this.claimAddress(address, domain, { kind: 'account', address, accountId: account.accountId }, [
      { ...accountKey(account.accountId), gpk: `DOMAIN#${domain}`, gsk: `ACCOUNT#${address}`, ...account },
    ]);
    return account;
  }

  async getAccount(accountId: string): Promise<Account | undefined> {
    const item = await this.get(accountKey(accountId));
    return item ? toAccount(item) : undefined;
  }

  async getAccountByAddress(input: string): Promise<Account | undefined> {
    const entry = await this.lookupAddress(parseAddress(input).address);
    return entry?.kind === 'account' ? this.getAccount(entry.accountId) : undefined;
  }

  async listAccounts(domain?: string): Promise<Account[]> {
    const domains = domain ? [normalizeDomain(domain)] : (await this.listDomains()).map((d) => d.domain);
    const lists = await Promise.all(domains.map((d) => this.byDomainIndex(`DOMAIN#${d}`, 'ACCOUNT#')));
    return lists.flat().map(toAccount);
  }

  private async requireAccount(input: string): Promise<Account> {
    const account = await this.getAccountByAddress(input);
    if (!account) throw new NotFoundError(`no account ${input}`);
    return account;
  }

  private async updateAccount(input: string, set: string, values: Item): Promise<void> {
    const account = await this.requireAccount(input);
    try {
      await this.db.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: toAttr(accountKey(account.accountId)),
          UpdateExpression: `SET ${set}`,
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: toAttr(values),
        }),
      );
    } catch (err) {
      if (isConditionFailure(err)) throw new NotFoundError(`no account ${input}`);
      throw temporary('account update failed', err);
    }
  }

  async setPasswordHash(address: string, passwordHash: string): Promise<void> {
    await this.updateAccount(address, 'passwordHash = :h', { ':h': passwordHash });
  }

  async setQuota(address: string, quotaBytes: number): Promise<void> {
    if (!Number.isSafeInteger(quotaBytes) || quotaBytes < 0)
      throw new InvalidInputError('quota must be a whole number of bytes');
    await this.updateAccount(address, 'quotaBytes = :q', { ':q': quotaBytes });
  }

  async removeAccount(input: string): Promise<void> {
    const account = await this.requireAccount(input);
    try {
      await this.db.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Delete: { TableName: this.table, Key: toAttr(addressKey(account.address)) } },
            { Delete: { TableName: this.table, Key: toAttr(accountKey(account.accountId)) } },
          ],
        }),
      );
    } catch (err) {
      throw temporary('account delete failed', err);
    }
  }

  async addAlias(input: string, targets: readonly string[]): Promise<Alias> {
    const { address, domain } = normalizeAliasAddress(input);
    if (targets.length === 0) throw new InvalidInputError('an alias needs at least one target');
    const normalized = [...new Set(targets.map((t) => parseAddress(t).address))];
    await this.claimAddress(address, domain, { kind: 'alias', address, targets: normalized }, []);
    return { address, domain, targets: normalized };
  }

  async listAliases(domain?: string): Promise<Alias[]> {
    const domains = domain ? [normalizeDomain(domain)] : (await this.listDomains()).map((d) => d.domain);
    const lists = await Promise.all(domains.map((d) => this.byDomainIndex(`DOMAIN#${d}`, 'ADDR#')));
    return lists
      .flat()
      .filter((i) => i.kind === 'alias')
      .map((i) => ({
        address: i.address as string,
        domain: (i.gpk as string).slice(7),
        targets: i.targets as string[],
      }));
  }

  async removeAlias(input: string): Promise<void> {
    const { address } = normalizeAliasAddress(input);
    const entry = await this.lookupAddress(address);
    if (entry?.kind !== 'alias') throw new NotFoundError(`no alias ${address}`);
    await this.deleteOne(addressKey(address), `alias ${address}`);
  }

  async lookupAddress(address: string): Promise<AddressEntry | undefined> {
    const item = await this.get(addressKey(address));
    if (!item) return undefined;
    if (item.kind === 'account') return { kind: 'account', address, accountId: item.accountId as string };
    return { kind: 'alias', address, targets: item.targets as string[] };
  }
}
