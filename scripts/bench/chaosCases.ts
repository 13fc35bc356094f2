// The cases of the `chaos` scenario, run in this order. Add a case by writing a module under
// scripts/bench/chaos/ that exports a ChaosCase and listing it here.
import { killInstance } from './chaos/killInstance.ts';
import { killMidFleetCommand } from './chaos/killMidFleetCommand.ts';
import { killMidRollout } from './chaos/killMidRollout.ts';
import { killMidRotation } from './chaos/killMidRotation.ts';
import { fullDisk } from './chaos/fullDisk.ts';
import { postgresRestart } from './chaos/postgresRestart.ts';
import { redisRestart } from './chaos/redisRestart.ts';
import type { ChaosCase } from './chaosCase.ts';

export const chaosCases: ChaosCase[] = [
  killMidRollout,
  killMidRotation,
  killMidFleetCommand,
  killInstance,
  redisRestart,
  postgresRestart,
  fullDisk,
];
