/**
 * The listeners' connection caps against the process's file-descriptor limit. Every accepted connection is a
 * descriptor; so is every storage connection (the AWS SDK keeps up to 50 sockets per client) and every file.
 * When the caps of all listeners together do not fit the soft RLIMIT_NOFILE less a reserve, a flood of
 * connections would take the descriptors that storage needs (EMFILE, then 451 on delivery), so the caps are
 * scaled down at start, in proportion, with a warning. A limit that leaves not even one connection per
 * listener fails the start.
 */
import { readFileSync } from 'node:fs';
import { LISTENER_FAMILY, type ListenerFamily, type NetConfig } from '../core/config.ts';

/** The soft "Max open files" of /proc/self/limits (Node raises it to the hard limit at start). */
export function parseNofileSoftLimit(limits: string): number | undefined {
  const match = /^Max open files\s+(\d+|unlimited)\s/m.exec(limits);
  if (!match || match[1] === 'unlimited') return undefined;
  return Number(match[1]);
}

/** This process's soft descriptor limit; undefined where /proc is not there (not Linux) or says unlimited. */
export function readFdSoftLimit(): number | undefined {
  try {
    return parseNofileSoftLimit(readFileSync('/proc/self/limits', 'utf8'));
  } catch {
    return undefined;
  }
}

export interface CapsFit {
  readonly maxConnections: Readonly<Record<ListenerFamily, number>>;
  /** Descriptors the configured caps need (all listeners together) and what the limit leaves for them. */
  readonly needed: number;
  readonly available: number;
  readonly scaled: boolean;
}

const listenersOf = (family: ListenerFamily) => Object.values(LISTENER_FAMILY).filter((f) => f === family).length;

/** The caps to use under `fdLimit` (unchanged when they fit, or when the limit is unknown). */
export function fitConnectionCaps(net: NetConfig, fdLimit: number | undefined): CapsFit {
  const families = Object.keys(net.maxConnections) as ListenerFamily[];
  const needed = families.reduce((sum, f) => sum + net.maxConnections[f] * listenersOf(f), 0);
  if (fdLimit === undefined) {
    return { maxConnections: net.maxConnections, needed, available: Number.POSITIVE_INFINITY, scaled: false };
  }
  const available = fdLimit - net.fdReserve;
  if (needed <= available) return { maxConnections: net.maxConnections, needed, available, scaled: false };
  const listeners = families.reduce((sum, f) => sum + listenersOf(f), 0);
  if (available < listeners) {
    throw new Error(
      `the file-descriptor limit (${fdLimit}) less POSTERN_FD_RESERVE (${net.fdReserve}) leaves no room for ` +
        `${listeners} listeners: raise the limit (ulimit -n) or lower the reserve`,
    );
  }
  const factor = available / needed;
  const scaled = Object.fromEntries(
    families.map((f) => [f, Math.max(1, Math.floor(net.maxConnections[f] * factor))]),
  ) as Record<ListenerFamily, number>;
  // Caps raised to 1 may tip the total over: take the excess from the largest.
  const total = () => families.reduce((sum, f) => sum + scaled[f] * listenersOf(f), 0);
  while (total() > available) {
    const largest = families.reduce((a, b) => (scaled[b] > scaled[a] ? b : a));
    scaled[largest] -= 1;
  }
  return { maxConnections: scaled, needed, available, scaled: true };
}
