/**
 * The stack's monitoring (lib/infra/monitoring.ts) as synthesized: one encrypted alarm topic (with an email
 * subscription only when asked), the alarms with the metric each watches and the topic as their action, and
 * one dashboard over the gateway's EMF metrics.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Duration } from 'aws-cdk-lib';
import { METRICS_NAMESPACE } from '../../lib/core/metrics.ts';
import { GATEWAY_PORTS } from '../../lib/infra/ports.ts';
import { type Json, logicalIdOf, synth } from './synth.ts';

const { stack, template } = synth({ alarmEmail: 'ops@example.com', queueAgeAlarm: Duration.hours(2) });
const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as Json[];
const topicId = logicalIdOf(stack, stack.monitoring.topic);

/** The metric names an alarm watches (a plain metric, or each metric of its math expression). */
function metricNames(alarm: Json): string[] {
  const p = alarm.Properties;
  if (p.MetricName) return [p.MetricName];
  return (p.Metrics as Json[]).filter((m) => m.MetricStat).map((m) => m.MetricStat.Metric.MetricName);
}
const watching = (name: string) => alarms.filter((a) => metricNames(a).includes(name));

describe('monitoring', () => {
  it('one alarm topic, encrypted with a key CloudWatch may use, TLS only, mailed to alarmEmail', () => {
    const topics = Object.values(template.findResources('AWS::SNS::Topic')) as Json[];
    assert.equal(topics.length, 1);
    assert.ok(topics[0].Properties.KmsMasterKeyId, 'encrypted');
    const keys = Object.values(template.findResources('AWS::KMS::Key')) as Json[];
    const key = keys.find((k) =>
      k.Properties.KeyPolicy.Statement.some((s: Json) => s.Principal?.Service === 'cloudwatch.amazonaws.com'),
    );
    assert.ok(key, 'CloudWatch may use the key');
    assert.equal(key.Properties.EnableKeyRotation, true);
    const policies = Object.values(template.findResources('AWS::SNS::TopicPolicy')) as Json[];
    assert.ok(
      policies.some((p) =>
        p.Properties.PolicyDocument.Statement.some(
          (s: Json) => s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false',
        ),
      ),
    );
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
  });

  it('no email subscription unless one is asked for', () => {
    const other = synth().template;
    assert.equal(Object.keys(other.findResources('AWS::SNS::Subscription')).length, 0);
  });

  it('every alarm notifies the topic when it fires and when it clears', () => {
    assert.ok(alarms.length > 0);
    for (const alarm of alarms) {
      assert.deepEqual(alarm.Properties.AlarmActions, [{ Ref: topicId }]);
      assert.deepEqual(alarm.Properties.OKActions, [{ Ref: topicId }]);
    }
  });

  it('alarms: targets, tasks, every function errors and throttles, queue age, dead letters (count and metrics)', () => {
    const functions = stack.allFunctions.length;
    assert.equal(functions, 6, 'the five mail-logic functions and notify');
    assert.equal(alarms.length, 2 + 1 + 2 * functions + 1 + 1);
    const unhealthy = watching('UnHealthyHostCount');
    assert.equal(unhealthy.length, 1);
    assert.equal(metricNames(unhealthy[0]).length, GATEWAY_PORTS.length, 'every listener target group');
    assert.equal(unhealthy[0].Properties.TreatMissingData, 'notBreaching');
    const healthy = watching('HealthyHostCount');
    assert.equal(healthy.length, 1);
    assert.equal(healthy[0].Properties.Threshold, 1);
    assert.equal(healthy[0].Properties.ComparisonOperator, 'LessThanThreshold');
    assert.equal(healthy[0].Properties.TreatMissingData, 'breaching', 'no data: nothing healthy reports');
    const tasks = watching('RunningTaskCount');
    assert.equal(tasks.length, 1);
    assert.ok(metricNames(tasks[0]).includes('DesiredTaskCount'));
    assert.equal(tasks[0].Properties.TreatMissingData, 'breaching');
    assert.equal(watching('Errors').length, functions);
    assert.equal(watching('Throttles').length, functions);
    for (const a of [...watching('Errors'), ...watching('Throttles')]) {
      assert.equal(a.Properties.Namespace, 'AWS/Lambda');
      assert.equal(a.Properties.TreatMissingData, 'notBreaching');
    }
    const fnIds = new Set(stack.allFunctions.map((fn) => logicalIdOf(stack, fn)));
    const watched = new Set(watching('Errors').map((a) => a.Properties.Dimensions[0].Value.Ref));
    assert.deepEqual(watched, fnIds, 'one errors alarm per function');
    const [age] = watching('QueueOldestAgeSeconds');
    assert.equal(age.Properties.Namespace, METRICS_NAMESPACE);
    assert.equal(age.Properties.Threshold, 7200, 'the queueAgeAlarm prop');
    const [dead] = watching('ApproximateNumberOfMessagesVisible');
    assert.deepEqual(dead.Properties.Dimensions[0].Value, {
      'Fn::GetAtt': [logicalIdOf(stack, stack.sesFeedback.failed), 'QueueName'],
    });
  });

  it('the gateway cluster reports task counts (Container Insights)', () => {
    template.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }],
    });
  });

  it('one dashboard, over the Postern metrics and the alarms', () => {
    const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard')) as Json[];
    assert.equal(dashboards.length, 1);
    const body = JSON.stringify(dashboards[0].Properties.DashboardBody);
    for (const name of [
      'MessagesAccepted',
      'MessagesRejected',
      'relay-denied',
      'LoginsFailed',
      'Connections',
      'QueueDepth',
      'QueueOldestAgeSeconds',
      'StoreErrors',
      'HealthyHostCount',
      'RunningTaskCount',
      'Errors',
    ]) {
      assert.ok(body.includes(name), `the dashboard shows ${name}`);
    }
    assert.ok(body.includes(`\\"${METRICS_NAMESPACE}\\"`));
  });
});
