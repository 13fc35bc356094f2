// What `npm run demo` prints of the agents it laid out and of the payment app it deployed: who
// they are, where the app went, and how to look at it as one of them.
import type { SeededAgents } from './agents.ts';
import type { DemoApp } from './app.ts';

export function agentsReport(s: SeededAgents): string {
  const lines = ['Agents (resellers) under the acquirer, each seeing only its own subtree:'];
  for (const a of s.agents)
    lines.push(
      `  ${a.name} (${a.orgId}): ${a.terminals} terminals, ${a.bound} bound to merchant ${a.merchantId}; operator token in ${a.tokenFile}`,
    );
  lines.push(
    `Parameter template "acquirer" (${s.templateId}): values per model, agent and merchant, pushed to the fleet (GET /v1/devices/{id}/parameters)`,
  );
  return `${lines.join('\n')}\n`;
}

export function appReport(app: DemoApp, where: { httpUrl: string; operatorTokenFile: string }): string {
  const versions = app.versions.map((v) =>
    v.id === app.appId
      ? `${v.version} (${v.id}, signed with the demo publisher key)`
      : v.id
        ? `${v.version} (${v.id})`
        : `${v.version} (from the factory)`,
  );
  const bearer = (file: string) => `-H "Authorization: Bearer $(cat ${file})"`;
  const d = app.deployment;
  return [
    `Payment app ${app.packageName}: versions ${versions.join(', ')}`,
    `  app deployment ${d.id} (${d.state}): updates ${app.agent}'s terminals, made by its operator; other terminals keep their version`,
    `  versions and installs:  curl ${bearer(where.operatorTokenFile)} ${where.httpUrl}/v1/apps   (console: ${where.httpUrl}/ui/firmware)`,
    `  the deployment:         curl ${bearer(app.operatorTokenFile)} ${where.httpUrl}/v1/app-deployments/${d.id}/devices`,
    `  a terminal's apps:      curl ${bearer(where.operatorTokenFile)} ${where.httpUrl}/v1/devices/{id}/apps`,
    `  CLI:                    POSFLEET_URL=${where.httpUrl} POSFLEET_TOKEN=$(cat ${app.operatorTokenFile}) npm run cli -- apps deployments get ${d.id}   (or: apps list)`,
    '',
  ].join('\n');
}
