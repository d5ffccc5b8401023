/**
 * Reading settings from an environment, strictly: a malformed value throws with the variable's name, and
 * `unknownSettings` finds POSTERN_* variables nobody reads (a typo must not silently mean "default").
 */
export type Env = Readonly<Record<string, string | undefined>>;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off']);

/** Reads settings and remembers every name it was asked for. */
export class SettingsReader {
  readonly read = new Set<string>();

  constructor(private readonly env: Env) {}

  /** The raw value; unset and empty are both "not set". */
  raw(name: string): string | undefined {
    this.read.add(name);
    const value = this.env[name];
    return value === undefined || value === '' ? undefined : value;
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  optional(name: string): string | undefined {
    return this.raw(name);
  }

  /** A whole number >= min (and <= max when given). */
  int(name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    const value = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
      throw new ConfigError(`${name} must be a whole number ${range}, got ${JSON.stringify(raw)}`);
    }
    return value;
  }

  bool(name: string, fallback: boolean): boolean {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    const v = raw.trim().toLowerCase();
    if (TRUE.has(v)) return true;
    if (FALSE.has(v)) return false;
    throw new ConfigError(`${name} must be one of 1/0, true/false, yes/no, on/off, got ${JSON.stringify(raw)}`);
  }

  oneOf<T extends string>(name: string, choices: readonly T[], fallback: T): T {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    if (!(choices as readonly string[]).includes(raw)) {
      throw new ConfigError(`${name} must be one of ${choices.join(', ')}, got ${JSON.stringify(raw)}`);
    }
    return raw as T;
  }
}

/**
 * POSTERN_* variables in `env` that neither `reader` read nor `alsoKnown` names (exact names, or prefixes
 * ending in `_`): settings of the emulator, the tests and the benchmarks, read by those programs.
 */
export function unknownSettings(env: Env, reader: SettingsReader, alsoKnown: readonly string[]): string[] {
  const known = (name: string) =>
    reader.read.has(name) || alsoKnown.some((k) => (k.endsWith('_') ? name.startsWith(k) : name === k));
  return Object.keys(env)
    .filter((name) => name.startsWith('POSTERN_') && !known(name))
    .sort();
}
