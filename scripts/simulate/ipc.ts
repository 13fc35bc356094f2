// Messages between the simulator's parent process and its workers (JSON over the fork IPC).
import type { FleetOptions } from './fleet.ts';
import type { FleetProgress, FleetSummary } from './summary.ts';

/** FleetOptions minus what cannot cross a process boundary. */
export type WorkerOptions = Omit<FleetOptions, 'log' | 'ca'> & { ca?: string };

export type ToWorker = { type: 'start'; options: WorkerOptions } | { type: 'stop' };

export type FromWorker =
  | { type: 'progress'; progress: FleetProgress }
  | { type: 'ready' }
  | { type: 'summary'; summary: FleetSummary }
  | { type: 'error'; message: string };
