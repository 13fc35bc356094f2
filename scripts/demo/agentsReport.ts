// What `npm run demo` prints of the agents it laid out: who they are and how to act as one.
import type { SeededAgents } from './agents.ts';

export function agentsReport(s: SeededAgents): string {
  const lines = ['Agents (resellers) under the acquirer, each seeing only its own subtree:'];
  for (const a of s.agents)
    lines.push(`  ${a.name} (${a.orgId}): ${a.terminals} terminals, ${a.bound} bound to merchant ${a.merchantId}; operator token in ${a.tokenFile}`);
  lines.push(`Parameter template "acquirer" (${s.templateId}): values per model, agent and merchant, pushed to the fleet (GET /v1/devices/{id}/parameters)`);
  return `${lines.join('\n')}\n`;
}
