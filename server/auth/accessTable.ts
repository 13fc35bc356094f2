// Who may call each operation of /openapi.json, written by hand as the expectation the routes are
// held to (test/security/authorizationMatrix.test.ts asks the real server every operation as every
// kind of caller). It is deliberately not read from the routes' role checks: a table derived from
// the code could never disagree with it. docs/api.md's endpoint table says the same, in prose.
//
// A new route needs an entry here, and an entry whose operation is gone fails the suite too.
// Each entry is an object so another kind of caller is one more field: once organisations
// exist, what a user of another subtree gets is added beside `roles`.
import type { Role } from '../../schemas/db.ts';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** `"<METHOD> <OpenAPI path>"`, e.g. `"GET /v1/devices/{id}"`. */
export type OperationKey = `${Method} /${string}`;

/** What, other than a bearer token, a route takes as its caller's proof (checked by the route itself). */
export type Credential =
  /** The fleet enrollment token, in the body (POST /v1/enroll). */
  | 'enrollToken'
  /** An expiring link signed by the server for one terminal (firmware downloads, log uploads). */
  | 'signedLink'
  /** A terminal's own id and secret as HTTP Basic. */
  | 'deviceBasic';

export interface Access {
  /** Roles whose bearer token passes (any other valid token: 403 `forbidden`); `public`: no token needed, and one sent is ignored. */
  readonly roles: 'public' | readonly Role[];
  /** Other proofs the route accepts in place of a token. */
  readonly credentials?: readonly Credential[];
  /** `self`: the path's `{id}` must be the caller's own user id (403 `own_tokens_only` otherwise). */
  readonly scope?: 'self';
}

const all: readonly Role[] = ['admin', 'operator', 'technician', 'auditor'];
const publicRoute: Access = { roles: 'public' };
const anyone: Access = { roles: all };
const onTerminals: Access = { roles: ['admin', 'operator', 'technician'] };
const fleetChanges: Access = { roles: ['admin', 'operator'] };
const adminOnly: Access = { roles: ['admin'] };

export const accessTable = {
  // Operations and enrollment
  'GET /healthz': publicRoute,
  'GET /readyz': publicRoute,
  'GET /metrics': publicRoute,
  'POST /v1/enroll': { roles: 'public', credentials: ['enrollToken'] },

  // Users, tokens, user requests
  'GET /v1/me': anyone,
  'POST /v1/users': adminOnly,
  'GET /v1/users': adminOnly,
  'POST /v1/users/{id}/tokens': { roles: all, scope: 'self' },
  'POST /v1/users/{id}/disable': adminOnly,
  'GET /v1/user-requests': adminOnly,
  'GET /v1/user-requests/{id}': adminOnly,
  'POST /v1/user-requests/{id}/approve': adminOnly,
  'POST /v1/user-requests/{id}/reject': adminOnly,

  // Audit
  'GET /v1/audit': { roles: ['admin', 'auditor'] },
  'GET /v1/audit/verify': { roles: ['admin', 'auditor'] },

  // Exports (docs/exports.md): the roles of the matching list route; the audit log's as for GET /v1/audit
  'GET /v1/exports/devices': anyone,
  'GET /v1/exports/faults': anyone,
  'GET /v1/exports/keys': anyone,
  'GET /v1/exports/campaigns/{id}/devices': anyone,
  'GET /v1/exports/audit': { roles: ['admin', 'auditor'] },

  // Devices and the fleet
  'POST /v1/devices': fleetChanges,
  'POST /v1/devices/import': fleetChanges,
  'GET /v1/devices': anyone,
  'GET /v1/devices/{id}': anyone,
  'GET /v1/devices/{id}/timeline': anyone,
  'GET /v1/devices/{id}/health-history': anyone,
  'POST /v1/devices/{id}/revoke': fleetChanges,
  'POST /v1/devices/{id}/reset-enrollment': fleetChanges,
  'GET /v1/fleet/summary': anyone,

  // Labels, static groups, saved filters (docs/groups-and-filters.md)
  'POST /v1/devices/labels': fleetChanges,
  'POST /v1/devices/labels.csv': fleetChanges,
  'POST /v1/groups': fleetChanges,
  'GET /v1/groups': anyone,
  'GET /v1/groups/{id}': anyone,
  'GET /v1/groups/{id}/members': anyone,
  'PATCH /v1/groups/{id}': fleetChanges,
  'DELETE /v1/groups/{id}': fleetChanges,
  'POST /v1/groups/{id}/members': fleetChanges,
  'POST /v1/filters': fleetChanges,
  'GET /v1/filters': anyone,
  'GET /v1/filters/{id}': anyone,
  'PATCH /v1/filters/{id}': fleetChanges,
  'DELETE /v1/filters/{id}': fleetChanges,
  'GET /v1/filters/{id}/count': anyone,
  'POST /v1/filters/preview': anyone,

  // Commands and the live stream
  'POST /v1/devices/{id}/commands': onTerminals,
  'GET /v1/devices/{id}/commands': anyone,
  'GET /v1/devices/{id}/commands/{cmdId}': anyone,
  'POST /v1/devices/{id}/commands/{cmdId}/cancel': onTerminals,
  'POST /v1/commands': fleetChanges,
  'GET /v1/command-batches/{batchId}': anyone,
  'GET /v1/stream': anyone,

  // Merchants
  'POST /v1/merchants': fleetChanges,
  'GET /v1/merchants': anyone,
  'GET /v1/merchants/{id}': anyone,
  'PATCH /v1/merchants/{id}': fleetChanges,
  'DELETE /v1/merchants/{id}': adminOnly,
  'POST /v1/merchants/{id}/approve': adminOnly,
  'POST /v1/merchants/{id}/reject': adminOnly,
  'POST /v1/merchants/{id}/suspend': fleetChanges,
  'POST /v1/merchants/{id}/reactivate': fleetChanges,
  'GET /v1/merchants/{id}/policy': anyone,
  'PUT /v1/merchants/{id}/policy': fleetChanges,
  'GET /v1/merchants/{id}/terminals': anyone,
  'POST /v1/merchants/{id}/move': fleetChanges,

  // Organisations and allocation (docs/organisations.md)
  'POST /v1/orgs': adminOnly,
  'GET /v1/orgs': anyone,
  'GET /v1/orgs/{id}': anyone,
  'PATCH /v1/orgs/{id}': adminOnly,
  'POST /v1/orgs/{id}/allocations': fleetChanges,

  // Binding and re-binding
  'PUT /v1/devices/{id}/binding': fleetChanges,
  'GET /v1/devices/{id}/binding': anyone,
  'GET /v1/devices/{id}/binding/history': anyone,
  'POST /v1/devices/{id}/rebind-requests': fleetChanges,
  'GET /v1/rebind-requests': anyone,
  'GET /v1/rebind-requests/{id}': anyone,
  'POST /v1/rebind-requests/{id}/approve': adminOnly,
  'POST /v1/rebind-requests/{id}/reject': adminOnly,

  // Terminal control: locks, relocation, blacklists, alerts
  'GET /v1/devices/{id}/lock': anyone,
  'POST /v1/devices/{id}/lock': onTerminals,
  'POST /v1/devices/{id}/unlock': fleetChanges,
  'PUT /v1/devices/{id}/relocation-exemption': fleetChanges,
  'POST /v1/devices/{id}/blacklist': fleetChanges,
  'DELETE /v1/devices/{id}/blacklist': adminOnly,
  'GET /v1/merchant-alerts': anyone,
  'GET /v1/card-blacklist': anyone,
  'POST /v1/card-blacklist': fleetChanges,
  'DELETE /v1/card-blacklist/{hash}': fleetChanges,

  // Faults, rules, the notifier
  'GET /v1/faults': anyone,
  'GET /v1/faults/summary': anyone,
  'GET /v1/faults/{id}': anyone,
  'POST /v1/faults/{id}/acknowledge': onTerminals,
  'POST /v1/faults/{id}/resolve': onTerminals,
  'POST /v1/faults/{id}/assign': onTerminals,
  'POST /v1/faults/{id}/notes': onTerminals,
  'GET /v1/fault-rules': anyone,
  'PUT /v1/fault-rules': fleetChanges,
  'GET /v1/fault-notifier': adminOnly,
  'PUT /v1/fault-notifier': adminOnly,
  'POST /v1/fault-notifier/test': adminOnly,

  // Diagnostics and log bundles
  'POST /v1/devices/{id}/diagnostics': onTerminals,
  'GET /v1/devices/{id}/diagnostics': anyone,
  'POST /v1/devices/{id}/logs': onTerminals,
  'GET /v1/devices/{id}/logs': onTerminals,
  'GET /v1/devices/{id}/logs/{bundleId}': onTerminals,
  'PUT /v1/uploads/logs/{bundleId}': { roles: 'public', credentials: ['signedLink'] },

  // Recurring maintenance windows (campaign sends honour them)
  'POST /v1/maintenance-windows': fleetChanges,
  'GET /v1/maintenance-windows': anyone,
  'GET /v1/maintenance-windows/{id}': anyone,
  'DELETE /v1/maintenance-windows/{id}': fleetChanges,

  // Firmware and rollouts
  'POST /v1/firmware': fleetChanges,
  'GET /v1/firmware': anyone,
  'GET /v1/firmware/{id}': anyone,
  'PUT /v1/firmware/{id}/content': fleetChanges,
  'GET /v1/firmware/{id}/content': { roles: ['admin', 'operator', 'technician'], credentials: ['signedLink', 'deviceBasic'] },
  'POST /v1/rollouts': fleetChanges,
  'GET /v1/rollouts': anyone,
  'GET /v1/rollouts/{id}': anyone,
  'GET /v1/rollouts/{id}/devices': anyone,
  'GET /v1/rollouts/{id}/failures': anyone,
  'POST /v1/rollouts/{id}/start': fleetChanges,
  'POST /v1/rollouts/{id}/pause': fleetChanges,
  'POST /v1/rollouts/{id}/resume': fleetChanges,
  'POST /v1/rollouts/{id}/cancel': fleetChanges,

  // Keys, the vault's dual control, key rotations
  'GET /v1/key-vault': anyone,
  'GET /v1/devices/{id}/keys': anyone,
  'POST /v1/devices/{id}/keys/report': fleetChanges,
  'POST /v1/devices/{id}/keys/revoke': adminOnly,
  'POST /v1/devices/{id}/compromised': adminOnly,
  'POST /v1/devices/{id}/compromised/clear': adminOnly,
  'GET /v1/key-policies': anyone,
  'PUT /v1/key-policies/{usage}': fleetChanges,
  'POST /v1/key-vault/requests': adminOnly,
  'GET /v1/key-vault/requests': anyone,
  'GET /v1/key-vault/requests/{id}': anyone,
  'GET /v1/bdks': anyone,
  'GET /v1/bdks/{id}': anyone,
  'GET /v1/devices/{id}/dukpt': anyone,
  'POST /v1/key-vault/requests/{id}/approve': adminOnly,
  'POST /v1/key-vault/requests/{id}/reject': adminOnly,
  'POST /v1/key-rotations': fleetChanges,
  'GET /v1/key-rotations': anyone,
  'GET /v1/key-rotations/{id}': anyone,
  'GET /v1/key-rotations/{id}/devices': anyone,
  'GET /v1/key-rotations/{id}/failures': anyone,
  'POST /v1/key-rotations/{id}/start': fleetChanges,
  'POST /v1/key-rotations/{id}/pause': fleetChanges,
  'POST /v1/key-rotations/{id}/resume': fleetChanges,
  'POST /v1/key-rotations/{id}/cancel': fleetChanges,

  // Terminal parameters (docs/parameters.md)
  'POST /v1/parameter-templates': fleetChanges,
  'GET /v1/parameter-templates': anyone,
  'GET /v1/parameter-templates/{id}': anyone,
  'PUT /v1/parameter-templates/{id}/assignments': fleetChanges,
  'GET /v1/devices/{id}/parameters': anyone,
  'GET /v1/parameters/drift': anyone,
  'POST /v1/parameter-pushes': fleetChanges,
  'GET /v1/parameter-pushes': anyone,
  'GET /v1/parameter-pushes/{id}': anyone,
  'GET /v1/parameter-pushes/{id}/devices': anyone,
  'GET /v1/parameter-pushes/{id}/failures': anyone,
  'POST /v1/parameter-pushes/{id}/start': fleetChanges,
  'POST /v1/parameter-pushes/{id}/pause': fleetChanges,
  'POST /v1/parameter-pushes/{id}/resume': fleetChanges,
  'POST /v1/parameter-pushes/{id}/cancel': fleetChanges,
  // Payment apps (docs/apps.md)
  'POST /v1/apps': fleetChanges,
  'GET /v1/apps': anyone,
  'GET /v1/apps/{id}': anyone,
  'PUT /v1/apps/{id}/content': fleetChanges,
  'GET /v1/apps/{id}/content': { roles: ['admin', 'operator', 'technician'], credentials: ['signedLink', 'deviceBasic'] },
  'GET /v1/devices/{id}/apps': anyone,
  'POST /v1/app-deployments': fleetChanges,
  'GET /v1/app-deployments': anyone,
  'GET /v1/app-deployments/{id}': anyone,
  'GET /v1/app-deployments/{id}/devices': anyone,
  'GET /v1/app-deployments/{id}/failures': anyone,
  'POST /v1/app-deployments/{id}/start': fleetChanges,
  'POST /v1/app-deployments/{id}/pause': fleetChanges,
  'POST /v1/app-deployments/{id}/resume': fleetChanges,
  'POST /v1/app-deployments/{id}/cancel': fleetChanges,
} satisfies Record<OperationKey, Access>;
