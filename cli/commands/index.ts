// Every first word of the CLI. An area's module is imported only when its word is typed: the
// server schemas a module parses with pull parts of the server in, and `posfleet faults list`
// need not load the key vault's.
import type { Area } from '../context.ts';

export const areas: Record<string, Area> = {
  login: { summary: 'check a token and save it as a profile', load: async () => (await import('./login.ts')).login },
  logout: { summary: 'remove a saved profile', load: async () => (await import('./login.ts')).logoutCommand },
  whoami: { summary: 'who the token belongs to', load: async () => (await import('./login.ts')).whoami },
  profiles: { summary: 'saved profiles: list, use', load: async () => (await import('./login.ts')).profilesGroup },
  devices: { summary: 'terminals: list, get, import, export', load: async () => (await import('./devices.ts')).devicesGroup },
  rollouts: {
    summary: 'firmware rollouts: create -f, start, pause, resume, cancel, watch, devices',
    load: async () => (await import('./rollouts.ts')).rolloutsGroup,
  },
  firmware: { summary: 'firmware: keygen, sign, upload, list, get', load: async () => (await import('./firmware.ts')).firmwareGroup },
  apps: {
    summary: 'payment apps: list, get, sign, upload, deploy, deployments …',
    load: async () => (await import('./apps.ts')).appsGroup,
  },
  orgs: { summary: 'organisations: list, create, allocate', load: async () => (await import('./orgs.ts')).orgsGroup },
  groups: { summary: 'static groups: list, create, members, add, remove', load: async () => (await import('./groups.ts')).groupsGroup },
  filters: { summary: 'saved filters: list, preview, create', load: async () => (await import('./filters.ts')).filtersGroup },
  params: { summary: 'parameters: templates list, drift, pushes …', load: async () => (await import('./params.ts')).paramsGroup },
  faults: { summary: 'the fault queue: list, get, ack, resolve', load: async () => (await import('./faults.ts')).faultsGroup },
  maintenance: {
    summary: 'maintenance windows: list, create, delete',
    load: async () => (await import('./maintenance.ts')).maintenanceGroup,
  },
  exports: {
    summary: 'streamed exports: faults, keys (KCVs only), audit, campaign results',
    load: async () => (await import('./exports.ts')).exportsGroup,
  },
  keys: { summary: 'key rotations and dual-control approvals', load: async () => (await import('./keys.ts')).keysGroup },
  users: { summary: 'users: list, create, disable', load: async () => (await import('./users.ts')).usersGroup },
  tokens: { summary: 'API tokens: issue, revoke', load: async () => (await import('./users.ts')).tokensGroup },
};
