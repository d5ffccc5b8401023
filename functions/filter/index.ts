/** The filter Lambda: parse nothing, decide nothing; lib/pipeline/filter.ts does the work (see lib/storage/aws/lambdaHandler.ts). */
import { lambdaHandler } from '../../lib/storage/aws/lambdaHandler.ts';

export const handler = lambdaHandler('filter');
