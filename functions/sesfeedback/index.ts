/** The sesFeedback Lambda: SES bounce and complaint events from EventBridge; lib/outbound/sesFeedbackHandler.ts does the work. */
import { lambdaHandler } from '../../lib/storage/aws/lambdaHandler.ts';

export const handler = lambdaHandler('sesFeedback');
