// Registered scenarios. `rollout` and `keys` will be added here.
import { core } from './core.ts';
import { keys } from './keys.ts';
import { rollout } from './rollout.ts';
import type { Scenario } from './scenario.ts';

export const scenarios: Record<string, Scenario> = {
  [core.name]: core,
  [keys.name]: keys,
  [rollout.name]: rollout,
};
