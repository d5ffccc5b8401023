/** The filter Lambda: parse nothing, decide nothing; lib/pipeline/filter.ts does the work (see lib/pipeline/lambda.ts). */
import { lambdaHandler } from '../../lib/pipeline/lambda.ts';

export const handler = lambdaHandler('filter');
