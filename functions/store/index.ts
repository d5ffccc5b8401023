/** The store Lambda: parse nothing, decide nothing; lib/pipeline/store.ts does the work (see lib/pipeline/lambda.ts). */
import { lambdaHandler } from '../../lib/pipeline/lambda.ts';

export const handler = lambdaHandler('store');
