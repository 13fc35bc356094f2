// Scenario `soak` (issue 16): the real server (child process on its embedded defaults) holding
// a fleet (10,000 by default) for a long time: health at the agent's normal interval, a share of
// terminals with injected faults (soakFaults.ts), periodic commands through the API. Sampled
// every 10 s; after warm-up (the second half) RSS, open descriptors, buffers and the commands
// queue must stay flat, the event-loop p99 low, and every command must be acked.
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { connectFleet } from './campaignRun.ts';
import { enrollFleet, importSerials } from './fleet.ts';
import { startPosfleet, type PosfleetFixture } from './fixture.ts';
import type { GeneratorClient } from './generatorIpc.ts';
import { startGenerators, stopGenerators } from './generatorProcs.ts';
import { shareOf } from './interference.ts';
import { machineInfo } from './machine.ts';
import { generatorCount } from './pool.ts';
import { foreignCpu } from './procstat.ts';
import type { BenchOptions, Scenario } from './scenario.ts';
import { drainBatches, sendRound, type CommandTally, type SentBatch } from './soakCommands.ts';
import { faultModeOf } from './soakFaults.ts';
import type { SoakDeviceSpec, SoakGenRequest, SoakGenStatus, SoakTiming } from './soakGen.ts';
import { reliabilityEntry, soakRows } from './soakReport.ts';
import { cpuSince, takeSample } from './soakSampler.ts';
import { judgeSoak, lagContext, soakFigures, soakLimits, type SoakSample } from './soakStats.ts';
import { errorText, round, sleep } from './util.ts';

const entry = fileURLToPath(new URL('./soakGen.ts', import.meta.url));
const SAMPLE_MS = 10_000;
const COMMAND_ROUND_MS = 60_000;
const FAULTY_SHARE = 0.1;
const DRAIN_MS = 120_000;
const timing: SoakTiming = { healthIntervalMs: 60_000, flapMs: [60_000, 180_000], garbageMs: [30_000, 90_000] };

interface Load {
  samples: SoakSample[];
  batches: SentBatch[];
  runS: number;
}

/** The load itself: samples every 10 s, a command round every minute, for `minutes`. */
async function soakLoad(
  fx: PosfleetFixture,
  ids: readonly string[],
  minutes: number,
  errors: string[],
  log: (l: string) => void,
  cpu: ReturnType<typeof cpuSince>,
): Promise<Load> {
  const samples: SoakSample[] = [];
  const batches: SentBatch[] = [];
  const runMs = minutes * 60_000;
  const t0 = performance.now();
  const at = () => (performance.now() - t0) / 1000;
  let nextRound = 0;
  let lastLog = -Infinity;
  // The last sample at the end itself, so the judged half is as long as the warm-up.
  for (let i = 0; i * SAMPLE_MS <= runMs; i++) {
    const due = i * SAMPLE_MS;
    await sleep(Math.max(0, due - (performance.now() - t0)));
    if (performance.now() - t0 >= nextRound && nextRound < runMs) {
      nextRound += COMMAND_ROUND_MS;
      batches.push(...(await sendRound(fx.api, ids, at()).catch((err: unknown) => (errors.push(`command round: ${errorText(err)}`), []))));
    }
    const sample = await takeSample(fx.api, fx.server().pid, at(), cpu).catch(
      (err: unknown) => (errors.push(`sample: ${errorText(err)}`), undefined),
    );
    if (sample) samples.push(sample);
    if (sample && performance.now() - lastLog >= 60_000) {
      lastLog = performance.now();
      log(
        `  ${round(sample.tS / 60, 1)} min: RSS ${sample.rssMiB} MiB, heap ${sample.heapUsedMiB} MiB, fds ${sample.openFds}, lag p99 ${sample.lagP99Ms} ms, connected ${sample.connected}, CPU server ${sample.serverCores} / others ${sample.otherCores} cores, faults open ${sample.faultsOpen}, buffers ${JSON.stringify(sample.buffers)}`,
      );
    }
  }
  return { samples, batches, runS: runMs / 1000 };
}

export const soak: Scenario = {
  name: 'soak',
  description: 'a fleet held for minutes with faults and periodic commands: RSS, descriptors, buffers, lag and commands over time',
  // The load's length is --minutes; the watchdog is only for a run that hangs.
  maxMinutes: { quick: 15, full: 150 },
  async run(opts: BenchOptions) {
    const devices = opts.quick ? 1000 : opts.devices;
    const minutes = opts.minutes ?? (opts.quick ? 3 : 30);
    const limits = soakLimits(devices);
    const errors: string[] = [];
    const result: Record<string, unknown> = {
      devices,
      minutes,
      faultyShare: FAULTY_SHARE,
      timing,
      machine: machineInfo(),
      errors,
    };
    opts.log(`soak: ${devices} terminals (${FAULTY_SHARE * 100} % faulty) for ${minutes} min`);
    const fx = await startPosfleet(opts.log);
    let gens: GeneratorClient<SoakGenRequest>[] = [];
    let load: Load = { samples: [], batches: [], runS: minutes * 60 };
    let commands: CommandTally = { batches: 0, sent: 0, succeeded: 0, lost: 0, byState: {}, errors: [] };
    try {
      await importSerials(fx.api, devices);
      const fleet = await enrollFleet(fx.api, devices, fx.settings.enrollToken);
      opts.log(`  enrolled ${devices} in ${fleet.seconds} s; connecting…`);
      const specs: SoakDeviceSpec[] = fleet.devices.map((d, index) => ({
        id: d.id,
        password: d.password!,
        index,
        fault: faultModeOf(index, FAULTY_SHARE),
      }));
      gens = startGenerators<SoakGenRequest>(entry, 'soak', generatorCount(devices));
      await connectFleet(gens, specs, (slice, localAddress) => ({
        t: 'setup',
        host: '127.0.0.1',
        port: fx.settings.mqttPort,
        localAddress,
        ...timing,
        devices: slice,
      }));
      opts.log(`  ${devices} terminals connected; load for ${minutes} min`);
      const other = foreignCpu(() => [fx.server().pid, ...gens.map((g) => g.child.pid ?? -1)]);
      const wall0 = performance.now();
      load = await soakLoad(
        fx,
        specs.map((s) => s.id),
        minutes,
        errors,
        opts.log,
        cpuSince(
          () => fx.server().pid,
          () => [fx.server().pid, ...gens.map((g) => g.child.pid ?? -1)],
        ),
      );
      result.otherCpuShare = shareOf(other(), (performance.now() - wall0) / 1000, cpus().length);
      opts.log(`  load done; following ${load.batches.length} command batches to their end`);
      commands = await drainBatches(fx.api, load.batches, DRAIN_MS);
      // Garbage must show up here, refused by reason, and nothing else.
      result.serverDropped = (await fx.api.metrics()).dropped;
      const statuses = await Promise.all(gens.map((g) => g.request<SoakGenStatus>({ t: 'status' }, 10_000)));
      result.terminals = {
        connectedAtEnd: statuses.reduce((n, s) => n + s.connected, 0),
        healthSent: statuses.reduce((n, s) => n + s.healthSent, 0),
        flaps: statuses.reduce((n, s) => n + s.flaps, 0),
        garbageSent: statuses.reduce((n, s) => n + s.garbageSent, 0),
        commandsAnswered: statuses.reduce<Record<string, number>>((acc, s) => {
          for (const [k, n] of Object.entries(s.commandsAnswered)) acc[k] = (acc[k] ?? 0) + n;
          return acc;
        }, {}),
        errors: statuses.flatMap((s) => s.errors).slice(0, 10),
      };
    } catch (err) {
      errors.push(errorText(err));
      opts.log(`  soak: ${errorText(err)}\n${fx.server().lastOutput()}`);
    } finally {
      await stopGenerators(gens);
      await fx.close(opts.keepFiles || errors.length > 0, 30_000);
    }
    const figures = soakFigures(load.samples, load.runS);
    const verdicts = judgeSoak(figures, limits, commands);
    result.commandErrors = commands.errors;
    const lag = lagContext(load.samples, load.runS, limits.lagP99Ms);
    result.reliability = reliabilityEntry(figures, verdicts, limits, commands, load.samples, lag);
    const notes = [
      `slopes are least squares over the samples after warm-up (the run's second half), ± one standard error`,
      ...(verdicts.rss === null
        ? [`RSS slope not judged: ${round(figures.judgedMinutes, 1)} min after warm-up, under ${limits.minJudgedMinutes} min is noise`]
        : []),
      ...(typeof result.otherCpuShare === 'number' && result.otherCpuShare > 0.1
        ? [`other processes used ${Math.round(result.otherCpuShare * 100)} % of the machine's CPU during the load`]
        : []),
    ];
    return {
      result,
      rows: [
        { metric: 'soak: terminals × minutes', ours: `${devices} × ${minutes}`, pass: null },
        ...soakRows(figures, verdicts, limits, commands, lag),
      ],
      notes,
    };
  },
};
