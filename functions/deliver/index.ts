/** The deliver Lambda: one or more queue passes per run; lib/outbound/runner.ts does the work (see lib/storage/aws/lambdaHandler.ts). */
import { lambdaHandler } from '../../lib/storage/aws/lambdaHandler.ts';

export const handler = lambdaHandler('deliver');
