/**
 * `npm run bench -- <name>`: runs bench/<name>.ts, calling its `run<Name>Bench()` export (or `run`).
 */
const name = process.argv[2];
if (!name || !/^[a-z0-9-]+$/.test(name)) {
  console.error('usage: npm run bench -- <name>   (e.g. pop3)');
  process.exit(2);
}
const mod = (await import(`./${name}.ts`)) as Record<string, unknown>;
const pascal = name.replace(/(^|-)([a-z0-9])/g, (_, __, c: string) => c.toUpperCase());
const run = (mod[`run${pascal}Bench`] ?? mod.run) as (() => Promise<void>) | undefined;
if (typeof run !== 'function') {
  console.error(`bench/${name}.ts exports no run${pascal}Bench()`);
  process.exit(2);
}
await run();
process.exit(0);
