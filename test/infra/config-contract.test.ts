/**
 * The deployed processes start: the environment the stack gives the gateway task is one the gateway's
 * loadConfig accepts (it refuses unknown or malformed POSTERN_* settings at start, so a stray name in the
 * stack would crash-loop every task), and each Lambda's environment names the tables its code reads.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadAwsConfig, loadConfig, loadDkimConfig, loadOutboundConfig } from '../../lib/core/config.ts';
import { BUCKET_ENV, DKIM_SECRET_PREFIX, TABLE_ENV } from '../../lib/core/schema.ts';
import {
  type ComponentAccess,
  DELIVER_ACCESS,
  FILTER_ACCESS,
  ROUTE_ACCESS,
  SES_FEEDBACK_ACCESS,
  STORE_ACCESS,
  tablesOf,
} from '../../lib/infra/access.ts';
import { type Json, logicalIdOf, synth } from './synth.ts';

const { stack, template } = synth({ hostname: 'mail.example.com' });
const resources = template.toJSON().Resources as Record<string, Json>;
const ofType = (type: string) => Object.values(resources).filter((r: Json) => r.Type === type);

/** A CloudFormation environment as the process sees it: references become placeholder strings. */
function environment(vars: readonly { Name: string; Value: unknown }[]): Record<string, string> {
  return Object.fromEntries(vars.map((v) => [v.Name, typeof v.Value === 'string' ? v.Value : `resolved-${v.Name}`]));
}

describe('the stack and the configuration agree', () => {
  it('the gateway task environment passes loadConfig (no unknown or malformed setting)', () => {
    const [task] = ofType('AWS::ECS::TaskDefinition');
    const env = environment(task.Properties.ContainerDefinitions[0].Environment);
    const config = loadConfig(env);
    assert.equal(config.net.proxyProtocol, true);
    assert.equal(config.allowPlaintextAuth, false);
    assert.equal(config.invoker.kind, 'lambda');
    assert.equal(config.tls.kind, 'secret');
    assert.equal(config.hostname, 'mail.example.com');
  });

  it('each function environment names its tables and bucket by the settings the code reads', () => {
    for (const fn of ofType('AWS::Lambda::Function')) {
      const vars = fn.Properties.Environment?.Variables ?? {};
      const env = environment(Object.entries(vars).map(([Name, Value]) => ({ Name, Value })));
      const names = loadAwsConfig(env).names;
      for (const name of Object.keys(env).filter((n) => n.startsWith('POSTERN_TABLE_'))) {
        assert.ok(Object.values(names.tables).includes(env[name]), `${name} is read as a table name`);
      }
    }
  });

  /** A function's environment as its process sees it. */
  const envOf = (fn: Parameters<typeof logicalIdOf>[1]) => {
    const vars = resources[logicalIdOf(stack, fn)].Properties.Environment.Variables;
    return environment(Object.entries(vars).map(([Name, Value]) => ({ Name, Value })));
  };
  const functions: readonly [string, Parameters<typeof logicalIdOf>[1], ComponentAccess][] = [
    ['route', stack.functions.route, ROUTE_ACCESS],
    ['filter', stack.functions.filter, FILTER_ACCESS],
    ['store', stack.functions.store, STORE_ACCESS],
    ['deliver', stack.functions.deliver, DELIVER_ACCESS],
    ['sesFeedback', stack.functions.sesFeedback, SES_FEEDBACK_ACCESS],
  ];

  it('every function gets the name of each table and bucket it is granted (the code would fall back to a default name)', () => {
    for (const [name, fn, access] of functions) {
      const env = envOf(fn);
      for (const table of tablesOf(access)) assert.ok(env[TABLE_ENV[table]], `${name}: ${TABLE_ENV[table]}`);
      assert.equal(BUCKET_ENV in env, access.messageObjects.length > 0, `${name}: ${BUCKET_ENV}`);
    }
  });

  it('every POSTERN_* setting a function gets is one the code reads (loadConfig refuses unknown ones)', () => {
    for (const [name, fn] of functions) {
      assert.doesNotThrow(() => loadConfig({ ...envOf(fn), POSTERN_INVOKER: 'local' }), name);
    }
  });

  it("deliver: our host name, DKIM keys from Secrets Manager, SES with the stack's configuration set", () => {
    const env = envOf(stack.functions.deliver);
    const outbound = loadOutboundConfig(env);
    assert.equal(outbound.hostname, 'mail.example.com');
    assert.equal(outbound.transport, 'ses');
    assert.equal(outbound.sesConfigurationSet, 'resolved-POSTERN_SES_CONFIGURATION_SET');
    const dkim = loadDkimConfig(env);
    assert.equal(dkim.store, 'secrets-manager');
    // The key secrets it reads are the ones it is granted (lib/infra/functions.ts).
    assert.equal(dkim.secretPrefix, DKIM_SECRET_PREFIX);
  });

  it('sesFeedback: its DSNs name our host (Reporting-MTA, MAILER-DAEMON@)', () => {
    assert.equal(loadOutboundConfig(envOf(stack.functions.sesFeedback)).hostname, 'mail.example.com');
  });
});
