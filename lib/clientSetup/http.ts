/**
 * The HTTPS front's answers, as a pure function of the request: the MTA-STS policy on mta-sts.<domain>,
 * Thunderbird's autoconfig on autoconfig.<domain>, Outlook's autodiscover on autodiscover.<domain>.
 * functions/clientconfig adapts API Gateway's events to it.
 */
import { AUTOCONFIG_PATHS, autoconfigXml } from './autoconfig.ts';
import { AUTODISCOVER_PATH, autodiscoverXml, parseAutodiscoverRequest } from './autodiscover.ts';
import { MTA_STS_POLICY_PATH, type MtaStsMode, mtaStsPolicyText } from './mtaSts.ts';
import type { ClientSetupSite } from './services.ts';

export interface ClientSetupSettings extends ClientSetupSite {
  readonly mtaSts: { readonly mode: MtaStsMode; readonly maxAgeSeconds: number };
}

/** The HTTPS front's host names under the domain. */
export function clientSetupHosts(domain: string): { mtaSts: string; autoconfig: string; autodiscover: string } {
  return { mtaSts: `mta-sts.${domain}`, autoconfig: `autoconfig.${domain}`, autodiscover: `autodiscover.${domain}` };
}

export interface FrontRequest {
  readonly method: string;
  /** The host name the client asked for (no port). */
  readonly host: string;
  readonly path: string;
  readonly body: string;
}

export interface FrontResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

const XML = 'application/xml; charset=utf-8';
/** Five minutes: a changed policy or setting reaches clients soon; MTA-STS senders cache by max_age anyway. */
const CACHE = 'max-age=300';

const answer = (status: number, type: string, body: string, extra: Record<string, string> = {}): FrontResponse => ({
  status,
  headers: { 'content-type': type, 'cache-control': CACHE, ...extra },
  body,
});
const notFound = () => answer(404, 'text/plain; charset=utf-8', 'not found\n');
const notAllowed = (allow: string) => answer(405, 'text/plain; charset=utf-8', 'method not allowed\n', { allow });

export function clientSetupResponse(settings: ClientSetupSettings, req: FrontRequest, now = new Date()): FrontResponse {
  const hosts = clientSetupHosts(settings.domain);
  const host = req.host.toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
  const path = req.path.split('?')[0];
  const read = req.method === 'GET' || req.method === 'HEAD';
  if (host === hosts.mtaSts && path === MTA_STS_POLICY_PATH) {
    if (!read) return notAllowed('GET, HEAD');
    // RFC 8461 §3.3: the policy is text/plain.
    const policy = mtaStsPolicyText({ ...settings.mtaSts, mx: [settings.host] });
    return answer(200, 'text/plain; charset=utf-8', policy);
  }
  if (host === hosts.autoconfig && AUTOCONFIG_PATHS.includes(path)) {
    return read ? answer(200, XML, autoconfigXml(settings)) : notAllowed('GET, HEAD');
  }
  // Outlook writes the path in either case (/Autodiscover/Autodiscover.xml).
  if (host === hosts.autodiscover && path.toLowerCase() === AUTODISCOVER_PATH) {
    if (req.method !== 'POST') return notAllowed('POST');
    return answer(200, XML, autodiscoverXml(settings, parseAutodiscoverRequest(req.body), now));
  }
  return notFound();
}
