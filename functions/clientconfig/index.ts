/** The clientconfig Lambda: MTA-STS policy, autoconfig and autodiscover behind the HTTPS front (lib/clientSetup). */
import type { ClientSetupSettings } from '../../lib/clientSetup/http.ts';
import { type HttpApiEvent, handleHttpApiEvent } from '../../lib/clientSetup/lambda.ts';
import { loadClientSetupSettings } from '../../lib/clientSetup/settings.ts';

/** Read at the first invocation, once per container (as the other functions do). */
let settings: ClientSetupSettings | undefined;

export const handler = async (event: HttpApiEvent) => {
  settings ??= loadClientSetupSettings(process.env);
  return handleHttpApiEvent(settings, event);
};
