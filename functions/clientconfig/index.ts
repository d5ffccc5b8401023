/** The clientconfig Lambda: MTA-STS policy, autoconfig and autodiscover behind the HTTPS front (lib/clientSetup). */
import { type HttpApiEvent, handleHttpApiEvent } from '../../lib/clientSetup/lambda.ts';
import { loadClientSetupSettings } from '../../lib/clientSetup/settings.ts';

const settings = loadClientSetupSettings(process.env);

export const handler = async (event: HttpApiEvent) => handleHttpApiEvent(settings, event);
