/**
 * The deployed processes start: the environment the stack gives the gateway task is one the gateway's
 * loadConfig accepts (it refuses unknown or malformed POSTERN_* settings at start, so a stray name in the
 * stack would crash-loop every task), and each Lambda's environment names the tables its code reads.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadAwsConfig, loadConfig, loadOutboundConfig } from '../../lib/core/config.ts';
import { type Json, synth } from './synth.ts';

const { template } = synth({ hostname: 'mail.example.com' });
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

  it('the deliver function environment passes the outbound settings and sends through SES', () => {
    const deliver = ofType('AWS::Lambda::Function').filter(
      (fn) => fn.Properties.Environment?.Variables?.POSTERN_TABLE_QUEUE,
    );
    assert.equal(deliver.length, 1, 'only deliver gets the queue table');
    const vars = deliver[0].Properties.Environment.Variables;
    const env = environment(Object.entries(vars).map(([Name, Value]) => ({ Name, Value })));
    assert.equal(loadOutboundConfig(env).transport, 'ses');
  });
});
