import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/**
 * What the stack keeps and guards, decided once in the stack (PosternStackProps) and handed to each construct.
 * The defaults keep everything an operator could not recreate: the mail (tables, bucket), the keys (TLS, SRS),
 * the logs and the public addresses (MX, PTR). A throwaway test stack turns them off.
 */
export interface Protection {
  /** RETAIN (default) or DESTROY for the tables, buckets, secrets, log groups and Elastic IPs. */
  readonly removalPolicy: RemovalPolicy;
  /** Deletion protection on the tables and the NLB (default on). */
  readonly deletionProtection: boolean;
  /** Retention of every log group the stack owns (default one month). */
  readonly logRetention: logs.RetentionDays;
  /** How long an overwritten or deleted message object stays recoverable (default 30 days). */
  readonly noncurrentVersionExpiration: Duration;
}

export interface ProtectionProps {
  /** Keep data, keys, logs and addresses when the stack is deleted. Default true. */
  readonly retainOnDelete?: boolean;
  /** Deletion protection on the tables and the NLB. Default true. */
  readonly deletionProtection?: boolean;
  readonly logRetention?: logs.RetentionDays;
  readonly noncurrentVersionExpiration?: Duration;
}

export function protectionOf(props: ProtectionProps): Protection {
  return {
    removalPolicy: props.retainOnDelete === false ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    deletionProtection: props.deletionProtection ?? true,
    logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    noncurrentVersionExpiration: props.noncurrentVersionExpiration ?? Duration.days(30),
  };
}

/** A log group owned by the stack: its retention, kept (or not) with the data. */
export function ownedLogGroup(scope: Construct, id: string, protection: Protection): logs.LogGroup {
  return new logs.LogGroup(scope, id, { retention: protection.logRetention, removalPolicy: protection.removalPolicy });
}
