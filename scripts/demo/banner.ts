// What the demo prints once it is up: where to look, which tokens to use, and the one command
// that rolls a signed image out to the demo fleet.
import { relative } from 'node:path';

export interface BannerFacts {
  httpUrl: string;
  mqttUrl: string;
  dataDir: string;
  /** Only on the very first start. */
  adminToken?: string;
  operatorTokenFile: string;
  enrollToken: string;
  publisherKeyFile: string;
  devices: number;
  notes: readonly string[];
}

const shown = (path: string) => {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : `./${rel}`;
};

export function demoBanner(f: BannerFacts): string {
  const tokenFile = shown(f.operatorTokenFile);
  return [
    ...f.notes,
    'posfleet demo',
    `  dashboard  ${f.httpUrl}/ui/`,
    `  HTTP API   ${f.httpUrl}   (docs: ${f.httpUrl}/docs)`,
    `  MQTT       ${f.mqttUrl}`,
    f.adminToken
      ? `  admin token (shown once, keep it): ${f.adminToken}`
      : '  admin token: the one printed at the first start (or ADMIN_TOKEN)',
    `  operator token (dashboard, API, scripts): in ${tokenFile}`,
    `  enrollment token (also in ${shown(f.dataDir)}/enroll.token): ${f.enrollToken}`,
    `  firmware publisher key of the demo: ${shown(f.publisherKeyFile)} (trusted by this server and its terminals)`,
    `  try:  curl -H "Authorization: Bearer $(cat ${tokenFile})" ${f.httpUrl}/v1/fleet/summary`,
    `  roll out a signed sample image to the demo fleet:  DATA_DIR=${shown(f.dataDir)} npm run demo:rollout`,
    `  starting ${f.devices} simulated terminals (battery, paper, reader, tamper, flapping links, garbage)...`,
    '',
  ].join('\n');
}
