// What the device page reads, parsed with the server's own answer schemas (leaf modules only), and
// the pure decisions over it: the relocation sentence, a diagnostics run's outcome.
import { z } from 'zod';
import { healthSample } from '../../../../schemas/wire.ts';
import { finalCommandStates } from '../../../../schemas/db.ts';
import { command } from '../../../../server/commands/commandSchemas.ts';
import { device, timelineEntry } from '../../../../server/devices/deviceSchemas.ts';
import { bundle, diagnostics } from '../../../../server/faults/deviceJobSchemas.ts';
import { faultListPage } from '../../../../server/faults/faultSchemas.ts';
import { page } from '../../../../server/http/schemas.ts';
import { bindingState } from '../../../../server/merchants/apiSchemas.ts';

// The Device schema is open (looseObject): these are the members of its answer this page shows.
export const deviceDetail = device.extend({
  lastSeenAt: z.string().nullish(),
  fwVersion: z.string().nullish(),
  reportedFwVersion: z.string().nullish(),
  slot: z.string().nullish(),
  enrolledAt: z.string().nullish(),
  labels: z.record(z.string(), z.string()).nullish(),
  health: healthSample.partial().extend({ ts: healthSample.shape.ts }).nullish(),
});
export const faultPage = faultListPage.extend({
  items: z.array(faultListPage.shape.items.element.extend({ assigneeName: z.string().nullish() })),
});
export const commandPage = page(
  command.extend({
    issuedAt: z.string().nullish(),
    stage: z.string().nullish(),
    progress: z.number().nullish(),
    error: z.object({ code: z.string(), message: z.string() }).nullish(),
    result: z.unknown(),
  }),
);
export const diagnosticsPage = page(diagnostics);
export const bundlePage = page(bundle.extend({ requestedAt: z.string().nullish() }));
export const timelinePage = page(timelineEntry);
export { bindingState };

export type DeviceDetail = z.infer<typeof deviceDetail>;
export type Fault = z.infer<typeof faultPage>['items'][number];
export type Command = z.infer<typeof commandPage>['items'][number];
export type DiagnosticsRun = z.infer<typeof diagnostics>;
export type LogBundle = z.infer<typeof bundlePage>['items'][number];
export type TimelineEntry = z.infer<typeof timelineEntry>;
export type BindingState = z.infer<typeof bindingState>;
export type Relocation = BindingState['relocation'];

export const isFinalCommandState = (state: string): boolean => finalCommandStates.some((s) => s === state);

// The run of out-of-fence fixes keeps growing after the `relocated` fault opened on the
// policy's count; while that fault is open the card says what the fault says, not a second number.
export function relocationText(r: Relocation, openFaults: Fault[]): string {
  if (r.exempt) return 'exempt (mobile merchant)';
  const fault = openFaults.find((f) => f.code === 'relocated');
  const away = r.lastDistanceM !== null ? `, last fix ${Math.round(r.lastDistanceM)} m away` : '';
  if (r.relocated && fault?.detail) return `${fault.detail}${r.consecutiveOut ? '; still outside' : ''}`;
  if (r.relocated || r.consecutiveOut)
    return `outside the merchant location (${r.consecutiveOut} ${r.consecutiveOut === 1 ? 'fix' : 'fixes'} in a row${away})`;
  return 'within the merchant location';
}

/** A finished self-test's verdict as the badge says it; null while there is none. */
export function diagVerdict(d: DiagnosticsRun): { outcome: 'passed' | 'failed'; label: string } | null {
  if (d.passed === null) return null;
  const notPassed = Object.entries(d.components).filter(([, v]) => v !== 'pass');
  const label = d.passed ? 'self-test passed' : `self-test failed${notPassed.length ? `: ${notPassed.map(([k]) => k).join(', ')}` : ''}`;
  return { outcome: d.passed ? 'passed' : 'failed', label };
}
