import { InvalidInputError } from '../core/errors.ts';

/** Options the admin CLI understands: which take a value, which are plain switches. */
const VALUE_OPTIONS = new Set([
  'quota',
  'host',
  'ip',
  'outbound',
  'postmaster',
  'grace',
  'format',
  'out',
  'mailbox',
  'imap',
  'port',
  'password-file',
]);
const SWITCHES = new Set(['aws', 'password-stdin', 'allow-weak-password', 'help', 'tls', 'starttls']);

export interface ParsedArgs {
  /** Command words and their arguments, in order. */
  readonly positionals: string[];
  /** Options given with a value (`--quota 10M`, `--quota=10M`). */
  readonly values: Readonly<Record<string, string>>;
  /** Switches given (`--aws`, `--password-stdin`, `--help` / `-h`). */
  readonly switches: ReadonlySet<string>;
}

/**
 * Splits argv into positionals, valued options and switches. Options may appear anywhere; `--` ends them.
 * Unknown options, a missing value or a repeated valued option are input errors.
 */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const positionals: string[] = [];
  const values: Record<string, string> = {};
  const switches = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-h') {
      switches.add('help');
      continue;
    }
    if (!arg.startsWith('--') || arg === '-') {
      if (arg.startsWith('-') && arg !== '-') throw new InvalidInputError(`unknown option ${arg}`);
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    if (SWITCHES.has(name)) {
      if (eq >= 0) throw new InvalidInputError(`option --${name} takes no value`);
      switches.add(name);
    } else if (VALUE_OPTIONS.has(name)) {
      let value: string | undefined;
      if (eq >= 0) value = arg.slice(eq + 1);
      else if (i + 1 < argv.length) value = argv[++i];
      if (value === undefined || value === '') throw new InvalidInputError(`option --${name} needs a value`);
      if (name in values) throw new InvalidInputError(`option --${name} given twice`);
      values[name] = value;
    } else {
      throw new InvalidInputError(`unknown option --${name}`);
    }
  }
  return { positionals, values, switches };
}

const UNITS: Readonly<Record<string, number>> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** Parses a quota: bytes, or a number with a binary unit (`10M` = 10 MiB, `2G`, `512K`); `0` means unlimited. */
export function parseQuota(input: string): number {
  const match = /^(\d+)([KMGT]?)(?:i?B)?$/i.exec(input.trim());
  const bytes = match ? Number(match[1]) * UNITS[match[2].toUpperCase()] : Number.NaN;
  if (!Number.isSafeInteger(bytes)) {
    throw new InvalidInputError(
      `invalid quota ${JSON.stringify(input)}: use bytes or a size such as 10M or 2G (0 = unlimited)`,
    );
  }
  return bytes;
}

/** Shows a quota the way it can be typed back: `unlimited`, `10M`, `2G`, or plain bytes. */
export function formatQuota(bytes: number): string {
  if (bytes === 0) return 'unlimited';
  for (const unit of ['T', 'G', 'M', 'K']) {
    if (bytes % UNITS[unit] === 0) return `${bytes / UNITS[unit]}${unit}`;
  }
  return String(bytes);
}

const DURATION_UNITS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses an age in milliseconds: `0`, or a number with a unit (`90s`, `30m`, `2h`, `7d`). */
export function parseDuration(input: string): number {
  const match = /^(\d+)([smhd])$/i.exec(input.trim());
  const ms = input.trim() === '0' ? 0 : match ? Number(match[1]) * DURATION_UNITS[match[2].toLowerCase()] : Number.NaN;
  if (!Number.isSafeInteger(ms)) {
    throw new InvalidInputError(
      `invalid duration ${JSON.stringify(input)}: use 0 or a number with s, m, h or d (30m, 2h)`,
    );
  }
  return ms;
}
