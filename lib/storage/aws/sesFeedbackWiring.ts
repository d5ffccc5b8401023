/**
 * What the sesFeedback function is built from: SES's account-level suppression list and the DSN path the
 * deliver step uses (lib/storage/aws/queueWiring.ts dsnReportDeps: the one ingestion path).
 */
import type { AwsEndpoints, OutboundConfig } from '../../core/config.ts';
import type { Logger } from '../../core/log.ts';
import type { Storage } from '../../core/ports.ts';
import type { SesFeedbackParts } from '../../outbound/sesFeedbackHandler.ts';
import { dsnReportDeps } from './queueWiring.ts';
import { SesSuppressionList } from './sesSuppressions.ts';
import { makeSesClient } from './sesTransport.ts';

export interface SesFeedbackContext {
  /** `ses` points the SESv2 client at a stand-in (tests); unset is the region's SES. */
  readonly endpoints: AwsEndpoints;
  readonly log: Logger;
}

export function sesFeedbackParts(storage: Storage, config: OutboundConfig, ctx: SesFeedbackContext): SesFeedbackParts {
  return {
    feedback: {
      suppressions: new SesSuppressionList(makeSesClient(ctx.endpoints)),
      report: dsnReportDeps(storage, config, ctx.log),
    },
    log: ctx.log,
  };
}
