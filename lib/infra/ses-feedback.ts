import { Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as ses from 'aws-cdk-lib/aws-ses';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledgeSuppressionListGrant } from './nagAcknowledgements.ts';

export interface SesFeedbackProps {
  /** Sends with the configuration set (POSTERN_SES_CONFIGURATION_SET is added to its environment). */
  readonly deliver: nodejs.NodejsFunction;
  /** Gets the bounce and complaint events. */
  readonly sesFeedback: nodejs.NodejsFunction;
}

/** SES's names for the two events in EventBridge (detail-type), as its event destination publishes them. */
export const SES_FEEDBACK_DETAIL_TYPES = ['Email Bounced', 'Email Complaint Received'];

/**
 * Bounces and complaints back from Amazon SES: the configuration set the ses transport sends with, its event
 * destination (BOUNCE and COMPLAINT to the default EventBridge bus: SES events there cost nothing, SNS would
 * bill each publish, see docs/ARCHITECTURE.md), and a rule for this configuration set's events → the
 * sesFeedback Lambda.
 *
 * Retries are bounded: EventBridge retries an invocation Lambda refused (throttling) for at most 2 hours;
 * once accepted, a run that throws is retried twice by Lambda (asynchronous invocation) within 6 hours. Either
 * way an event that still fails lands in a dead-letter queue kept 14 days, for the operator. Unreadable events
 * are acknowledged by the handler, so only storage or SES outages are retried.
 */
export class SesFeedback extends Construct {
  readonly configurationSet: ses.ConfigurationSet;
  readonly rule: events.Rule;
  readonly failed: sqs.Queue;

  constructor(scope: Construct, id: string, props: SesFeedbackProps) {
    super(scope, id);
    this.configurationSet = new ses.ConfigurationSet(this, 'ConfigurationSet');
    const bus = events.EventBus.fromEventBusName(this, 'DefaultBus', 'default');
    this.configurationSet.addEventDestination('BouncesAndComplaints', {
      destination: ses.EventDestination.eventBus(bus),
      events: [ses.EmailSendingEvent.BOUNCE, ses.EmailSendingEvent.COMPLAINT],
    });
    props.deliver.addEnvironment('POSTERN_SES_CONFIGURATION_SET', this.configurationSet.configurationSetName);
    // SendEmail naming a configuration set is authorized on it as well as on the identity.
    const stack = Stack.of(this);
    props.deliver.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['ses:SendEmail', 'ses:SendRawEmail'],
        resources: [
          `arn:${stack.partition}:ses:${stack.region}:${stack.account}:configuration-set/${this.configurationSet.configurationSetName}`,
        ],
      }),
    );

    this.failed = new sqs.Queue(this, 'Failed', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    props.sesFeedback.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
      onFailure: new destinations.SqsDestination(this.failed),
    });
    this.rule = new events.Rule(this, 'Events', {
      description: 'SES bounces and complaints of the Postern configuration set → sesFeedback',
      eventPattern: {
        source: ['aws.ses'],
        detailType: SES_FEEDBACK_DETAIL_TYPES,
        detail: { mail: { tags: { 'ses:configuration-set': [this.configurationSet.configurationSetName] } } },
      },
      targets: [
        new targets.LambdaFunction(props.sesFeedback, {
          retryAttempts: 8,
          maxEventAge: Duration.hours(2),
          deadLetterQueue: this.failed,
        }),
      ],
    });
    grantSuppressionList(props.sesFeedback);
  }
}

/**
 * PutSuppressedDestination acts on the account's suppression list, which has no ARN: the action supports no
 * resource-level permission, so the statement names `*` and nothing but that one action.
 */
function grantSuppressionList(fn: nodejs.NodejsFunction): void {
  fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['ses:PutSuppressedDestination'], resources: ['*'] }));
  acknowledgeSuppressionListGrant(fn);
}
