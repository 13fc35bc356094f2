// The sets of roles routes accept, each written once. No role implies another (docs/api.md): a
// set is only the roles a route names, and `readers` is the "all" of the route tables there.
import { requireRole } from './middleware.ts';

/** All four roles: what any user may read. */
export const readers = requireRole('admin', 'operator', 'technician', 'auditor');
/** Work on one terminal: commands, diagnostics, logs, fault triage, locks. */
export const technicians = requireRole('admin', 'operator', 'technician');
/** Changes to the fleet: registration, merchants, bindings, firmware, campaigns, policies. */
export const operators = requireRole('admin', 'operator');
/** Users, reviews (approve/reject), blacklist removal, the notifier, compromised terminals. */
export const admins = requireRole('admin');
