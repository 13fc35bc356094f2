// Registered scenarios.
import { chaos } from './chaos.ts';
import { cluster } from './cluster.ts';
import { core } from './core.ts';
import { keys } from './keys.ts';
import { rollout } from './rollout.ts';
import { soak } from './soak.ts';
import type { Scenario } from './scenario.ts';
import { storm } from './storm.ts';

export const scenarios: Record<string, Scenario> = {
  [core.name]: core,
  [keys.name]: keys,
  [rollout.name]: rollout,
  [cluster.name]: cluster,
  [storm.name]: storm,
  [chaos.name]: chaos,
  [soak.name]: soak,
};
