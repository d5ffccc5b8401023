/**
 * Alarms to one SNS topic the operator subscribes to, and one dashboard. What is watched:
 *
 * - the NLB's targets: any unhealthy (UnHealthyHostCount > 0) or none healthy (HealthyHostCount < 1), over
 *   every listener's target group;
 * - the gateway service: fewer tasks running than desired for 5 minutes (Container Insights' task counts);
 * - every Lambda: Errors > 0 and Throttles > 0;
 * - the outbound queue: QueueOldestAgeSeconds (the deliver function's EMF metric) above a threshold;
 * - every dead-letter queue: a message visible.
 *
 * TreatMissingData is chosen per alarm: "no data" means "nothing happened" for counts of errors and for queues
 * (notBreaching), but for healthy hosts and running tasks it means nothing is reporting, which is an outage
 * (breaching).
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, REJECT_REASONS } from '../core/metrics.ts';

export interface MonitoringProps {
  readonly service: ecs.FargateService;
  readonly listeners: readonly elbv2.NetworkListener[];
  /** Every function of the stack, by name. */
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  readonly deadLetterQueues: readonly sqs.IQueue[];
  /** Container Insights is on for the cluster: without it the task counts do not exist, so no task alarm. */
  readonly containerInsights: boolean;
  /** Where the alarms are mailed (a confirmation mail comes first); absent: subscribe to the topic yourself. */
  readonly alarmEmail?: string;
  /** Age of the oldest due queue entry that raises the alarm. Default 4 hours (when its sender is warned). */
  readonly queueAgeAlarm?: Duration;
}

const PROTOCOLS = ['smtp', 'submission', 'pop3', 'imap'] as const;
const FIVE_MINUTES = Duration.minutes(5);

const postern = (metricName: string, statistic: string, dimensionsMap?: Record<string, string>) =>
  new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName, statistic, dimensionsMap, period: FIVE_MINUTES });

export class Monitoring extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.topic = alarmTopic(this);
    if (props.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));

    const groups = props.listeners.flatMap(targetGroupsOf);
    // one metric per target group; ids differ between the two expressions, which share a dashboard graph
    const hosts = (prefix: string, m: (g: elbv2.NetworkTargetGroup) => cloudwatch.Metric) =>
      Object.fromEntries(groups.map((g, i) => [`${prefix}${i}`, m(g)]));
    const ids = (prefix: string) => groups.map((_, i) => `${prefix}${i}`).join(',');
    const unhealthy = new cloudwatch.MathExpression({
      expression: `MAX([${ids('u')}])`,
      usingMetrics: hosts('u', (g) =>
        g.metrics.unHealthyHostCount({ statistic: 'Maximum', period: Duration.minutes(1) }),
      ),
      label: 'Unhealthy targets (worst listener)',
    });
    const healthy = new cloudwatch.MathExpression({
      expression: `MIN([${ids('h')}])`,
      usingMetrics: hosts('h', (g) =>
        g.metrics.healthyHostCount({ statistic: 'Minimum', period: Duration.minutes(1) }),
      ),
      label: 'Healthy targets (worst listener)',
    });
    this.alarm('UnhealthyTargets', unhealthy, {
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: 'A gateway task fails the NLB health check on some port',
    });
    this.alarm('NoHealthyTargets', healthy, {
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 2,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      alarmDescription: 'Some mail port has no healthy gateway task behind the NLB: mail is refused',
    });

    const tasks = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: 'ECS/ContainerInsights',
        metricName,
        statistic: 'Average',
        period: Duration.minutes(1),
        dimensionsMap: { ClusterName: props.service.cluster.clusterName, ServiceName: props.service.serviceName },
      });
    const missingTasks = new cloudwatch.MathExpression({
      expression: 'desired - running',
      usingMetrics: { desired: tasks('DesiredTaskCount'), running: tasks('RunningTaskCount') },
      label: 'Gateway tasks missing',
    });
    if (props.containerInsights) {
      this.alarm('GatewayTasksMissing', missingTasks, {
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 5,
        // a deployment replaces tasks within a few minutes; 5 minutes short is a task that does not come up
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        alarmDescription: 'Fewer gateway tasks running than desired for 5 minutes',
      });
    }

    for (const [name, fn] of Object.entries(props.functions)) {
      const title = name[0].toUpperCase() + name.slice(1);
      for (const [what, metric] of [
        ['Errors', fn.metricErrors({ statistic: 'Sum', period: FIVE_MINUTES })],
        ['Throttles', fn.metricThrottles({ statistic: 'Sum', period: FIVE_MINUTES })],
      ] as const) {
        this.alarm(`${title}${what}`, metric, {
          threshold: 0,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
          alarmDescription: `The ${name} function: ${what.toLowerCase()} in the last 5 minutes`,
        });
      }
    }

    const queueAge = props.queueAgeAlarm ?? Duration.hours(4);
    this.alarm('QueueAge', postern('QueueOldestAgeSeconds', 'Maximum'), {
      threshold: queueAge.toSeconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      // the deliver function writes the value on every run (0 when nothing is due); its errors alarm on their own
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `A message due for delivery has been queued for more than ${queueAge.toHumanString()}`,
    });

    props.deadLetterQueues.forEach((queue, i) => {
      const visible = queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: FIVE_MINUTES });
      this.alarm(`DeadLetters${i + 1}`, visible, {
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: 'Events that failed every retry are waiting in a dead-letter queue (kept 14 days)',
      });
    });

    this.dashboard = this.makeDashboard({ unhealthy, healthy, missingTasks, props });
  }

  private alarm(id: string, metric: cloudwatch.IMetric, props: Omit<cloudwatch.AlarmProps, 'metric'>): void {
    const alarm = new cloudwatch.Alarm(this, id, { ...props, metric });
    alarm.addAlarmAction(new actions.SnsAction(this.topic));
    alarm.addOkAction(new actions.SnsAction(this.topic));
    this.alarms.push(alarm);
  }

  private makeDashboard(parts: {
    unhealthy: cloudwatch.IMetric;
    healthy: cloudwatch.IMetric;
    missingTasks: cloudwatch.IMetric;
    props: MonitoringProps;
  }): cloudwatch.Dashboard {
    const { props } = parts;
    const graph = (title: string, left: cloudwatch.IMetric[]) =>
      new cloudwatch.GraphWidget({ title, left, width: 8, height: 6 });
    const fns = Object.values(props.functions);
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { defaultInterval: Duration.days(1) });
    dashboard.addWidgets(
      graph('Messages accepted', [
        postern('MessagesAccepted', 'Sum', { Listener: 'mx' }),
        postern('MessagesAccepted', 'Sum', { Listener: 'submission' }),
      ]),
      graph(
        'Messages and recipients rejected, by reason',
        REJECT_REASONS.map((reason) => postern('MessagesRejected', 'Sum', { Reason: reason })),
      ),
      graph(
        'Failed logins',
        PROTOCOLS.filter((p) => p !== 'smtp').map((p) => postern('LoginsFailed', 'Sum', { Protocol: p })),
      ),
    );
    dashboard.addWidgets(
      graph(
        'Open connections',
        PROTOCOLS.map((p) => postern('Connections', 'Maximum', { Protocol: p })),
      ),
      graph('Outbound queue', [postern('QueueDepth', 'Maximum'), postern('QueueOldestAgeSeconds', 'Maximum')]),
      graph(
        'Outbound recipients',
        (['delivered', 'deferred', 'failed'] as const).map((r) => postern('OutboundRecipients', 'Sum', { Result: r })),
      ),
    );
    dashboard.addWidgets(
      graph('Gateway targets and tasks', [parts.healthy, parts.unhealthy, parts.missingTasks]),
      graph(
        'Function errors and throttles',
        fns.flatMap((fn) => [fn.metricErrors({ period: FIVE_MINUTES }), fn.metricThrottles({ period: FIVE_MINUTES })]),
      ),
      graph('Store errors and dead letters', [
        postern('StoreErrors', 'Sum'),
        ...props.deadLetterQueues.map((q) => q.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES })),
      ]),
    );
    return dashboard;
  }
}

/**
 * The alarm topic, encrypted with a key of its own: CloudWatch can publish to an encrypted topic only when the
 * key's policy lets it use the key, which the AWS-managed aws/sns key does not.
 */
function alarmTopic(scope: Construct): sns.Topic {
  const key = new kms.Key(scope, 'AlarmTopicKey', {
    description: 'Postern alarm topic',
    enableKeyRotation: true,
  });
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
    }),
  );
  return new sns.Topic(scope, 'AlarmTopic', { displayName: 'Postern alarms', masterKey: key, enforceSSL: true });
}

/**
 * The target groups behind a listener. LoadBalancer makes them with `addTargets`, which puts each one under its
 * listener; they are found there rather than handed over, so the load balancer construct needs no change.
 */
function targetGroupsOf(listener: elbv2.NetworkListener): elbv2.NetworkTargetGroup[] {
  return listener.node.children.filter((c): c is elbv2.NetworkTargetGroup => c instanceof elbv2.NetworkTargetGroup);
}
