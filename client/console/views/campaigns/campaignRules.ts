// The campaign pages' decisions, as plain functions over data (unit-tested in
// test/unit/campaignConsole.test.ts): which controls a state allows, how a phase's counts read,
// what phase sizes a target count gives (the engine's own arithmetic), and the create body a form
// makes (an app deployment's own fields included).
import type { CampaignSpecInput } from '../../../../schemas/campaigns.ts';
import type { CampaignState } from '../../../../schemas/tables/campaigns.ts';
import { tally, type PhaseTally, type StateCounts } from '../../../../server/campaigns/campaignRules.ts';
import { phaseSizes } from '../../../../server/campaigns/phaseSizes.ts';
import type { packageSummary } from '../../../../server/apps/appRoutes.ts';
import type { AppAction } from '../../../../server/apps/appScreen.ts';
import { appParams, type AppParams } from '../../../../server/apps/appsKind.ts';
import type { z } from 'zod';
import { compareSemver } from '../../../../schemas/apps.ts';

export const controlVerbs = ['start', 'pause', 'resume', 'cancel'] as const;
export type ControlVerb = (typeof controlVerbs)[number];

const allowed: Record<CampaignState, readonly ControlVerb[]> = {
  draft: ['start', 'cancel'],
  running: ['pause', 'cancel'],
  paused: ['resume', 'cancel'],
  succeeded: [],
  failed: [],
  cancelled: [],
};

/** The controls the server accepts from this state (campaignEngine.ts); a finished campaign has none. */
export const controlsFor = (state: CampaignState): readonly ControlVerb[] => allowed[state];

/** Counts by device state as an answer carries them (a record of numbers) → the engine's tally. */
export function phaseTally(counts: Record<string, number>): PhaseTally & { other: number } {
  const known: StateCounts = counts;
  const t = tally(known);
  const other = (counts.skipped ?? 0) + (counts.cancelled ?? 0);
  return { ...t, other };
}

/** One line on how far a set of devices got, for lists and phases. */
export function progressText(t: PhaseTally & { other: number }): string {
  const parts = [`${t.succeeded} of ${t.total} succeeded`, `${t.inFlight} in progress`, `${t.errors} failed`, `${t.pending} waiting`];
  if (t.other) parts.push(`${t.other} skipped or cancelled`);
  return parts.join(', ');
}

export interface PhasePlan {
  name: string;
  percent: number;
  size: number;
}

/** The phases of a campaign of `targetCount` terminals, sized as the engine's draw sizes them at start. */
export function planPhases(targetCount: number, phases: readonly { name: string; percent: number }[]): PhasePlan[] {
  const sizes = phaseSizes(
    targetCount,
    phases.map((p) => p.percent),
  );
  return phases.map((p, i) => ({ ...p, size: sizes[i] ?? 0 }));
}

export const targetKinds = ['group', 'filter', 'query', 'devices'] as const;
export type TargetKind = (typeof targetKinds)[number];

/** What the form holds; every field as typed (strings), read into a request by createBody. */
export interface CampaignDraft {
  name: string;
  targetKind: TargetKind;
  groupId: string;
  filterId: string;
  query: string;
  deviceIds: string;
  phases: { name: string; percent: string }[];
  successThreshold: string;
  errorThreshold: string;
  /** `datetime-local` value (the browser's local time), or empty. */
  startAt: string;
}

export function targetOf(d: CampaignDraft): CampaignSpecInput['target'] {
  switch (d.targetKind) {
    case 'group':
      return { groupId: d.groupId };
    case 'filter':
      return { filterId: d.filterId };
    case 'query':
      return { query: d.query.trim() };
    case 'devices':
      return { deviceIds: [...new Set(d.deviceIds.split(/[\s,]+/).filter(Boolean))] };
  }
}

const targetMissing: Record<TargetKind, string> = {
  group: 'pick a group',
  filter: 'pick a saved filter',
  query: 'write a fleet query',
  devices: 'list at least one device id',
};

/** What the target part of the form lacks, in words (the server's schema only says its union did not match). */
export function targetProblem(d: CampaignDraft): string | null {
  const t = targetOf(d);
  const given =
    'groupId' in t ? t.groupId : 'filterId' in t ? t.filterId : 'query' in t ? t.query : 'deviceIds' in t ? t.deviceIds.join('') : '';
  return given ? null : `target: ${targetMissing[d.targetKind]}`;
}

/** The generic part of a create request (name and spec); the page adds its kind's own fields and checks the whole with the server's schema. */
export function createBody(d: CampaignDraft): { name: string } & CampaignSpecInput {
  const startAt = d.startAt ? new Date(d.startAt) : null;
  return {
    name: d.name.trim(),
    target: targetOf(d),
    phases: d.phases.map((p) => ({ name: p.name.trim(), percent: Number(p.percent) })),
    successThreshold: Number(d.successThreshold),
    errorThreshold: Number(d.errorThreshold),
    ...(startAt && !Number.isNaN(startAt.getTime()) ? { startAt: startAt.toISOString() } : {}),
  };
}

/** An app deployment's fields as the form holds them: the version picked (install, update) or the package typed (uninstall). */
export interface AppChoice {
  action: AppAction;
  appId: string;
  packageName: string;
}

/** The app deployment's own members of the create body: a version for install and update, a package name for uninstall. */
export function appParamsOf(c: AppChoice): AppParams {
  if (c.action === 'uninstall') {
    const name = c.packageName.trim();
    return name ? { action: c.action, packageName: name } : { action: c.action };
  }
  return c.appId ? { action: c.action, appId: c.appId } : { action: c.action };
}

/**
 * appParams with the rule the server applies only when the deployment is made (server/apps/appsKind.ts
 * answers 422 app_required): install and update name a version, uninstall a package.
 */
export const appDeploymentParams = appParams.superRefine((p, ctx) => {
  if (p.action !== 'uninstall' && !p.appId)
    ctx.addIssue({ code: 'custom', path: ['appId'], message: `pick the app version to ${p.action}` });
  if (p.action === 'uninstall' && !p.appId && !p.packageName)
    ctx.addIssue({ code: 'custom', path: ['packageName'], message: 'name the package to uninstall' });
});

export interface AppVersionChoice {
  id: string;
  label: string;
  /** Only a version whose content is uploaded can be installed (the server says app_not_ready). */
  ready: boolean;
}

/** The registered versions of GET /v1/apps as choices, newest (by semantic version) first within a package; versions only terminals report have no id and are left out. */
export function appVersionChoices(packages: readonly z.infer<typeof packageSummary>[]): AppVersionChoice[] {
  return packages.flatMap((p) =>
    p.versions
      .flatMap((v) => (v.id === null ? [] : [{ id: v.id, version: v.version, ready: v.state === 'ready', models: v.models ?? [] }]))
      .sort((a, b) => compareSemver(b.version, a.version))
      .map((v) => ({
        id: v.id,
        ready: v.ready,
        label: `${p.packageName} ${v.version}${v.models.length ? ` (${v.models.join(', ')})` : ''}${v.ready ? '' : ' (content not uploaded)'}`,
      })),
  );
}
