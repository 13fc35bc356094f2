// Scenario `storm`: the whole fleet connected, the server restarted, every terminal reconnecting
// the moment it can with no jitter (a hostile client set) but for 1% that back off as the agent
// does. Measures how long the honest ones and the whole fleet take to be back, the authentication
// rate the server sustains behind its connect admission, and what the storm costs it.
import { startPosfleet } from './fixture.ts';
import { enrollFleet, importSerials } from './fleet.ts';
import { machineInfo } from './machine.ts';
import { sourceAddress } from './ports.ts';
import { track } from './procs.ts';
import type { Scenario, TableRow } from './scenario.ts';
import { forkStorm } from './stormHandle.ts';
import { stormPhase, type StormResult } from './stormPhase.ts';
import { cell } from './table.ts';
import { errorText, pollUntil, round } from './util.ts';
import { defaultBackoff } from '../../agent/backoff.ts';
import { configSchema } from '../../server/config.ts';

const SHUTDOWN_GRACE_MS = 30_000;

export const storm: Scenario = {
  name: 'storm',
  description: 'reconnect storm after a server restart: clients without jitter, honest agents backing off, connect admission',
  maxMinutes: { quick: 5, full: 30 },
  async run(opts) {
    const machine = machineInfo();
    const devices = opts.devices;
    const honest = Math.max(5, Math.round(devices / 100));
    // The server inherits the bench's environment: MQTT_MAX_CONNECTS_PER_S=300 npm run bench … measures another limit.
    const admission = configSchema.pick({ MQTT_MAX_CONNECTS_PER_S: true, MQTT_MAX_PENDING_CONNECTS: true }).parse({
      MQTT_MAX_CONNECTS_PER_S: process.env.MQTT_MAX_CONNECTS_PER_S || undefined,
      MQTT_MAX_PENDING_CONNECTS: process.env.MQTT_MAX_PENDING_CONNECTS || undefined,
    });
    const errors: string[] = [];
    let connect: { seconds: number; perSec: number } | undefined;
    let result: StormResult | undefined;
    opts.log(
      `storm: ${devices} devices (${honest} honest), admission ${admission.MQTT_MAX_CONNECTS_PER_S}/s and ${admission.MQTT_MAX_PENDING_CONNECTS} pending, load average ${machine.loadAverageAtStart.join(' ')}`,
    );
    const fx = await startPosfleet(opts.log);
    const handle = forkStorm(track);
    try {
      await importSerials(fx.api, devices);
      const fleet = await enrollFleet(fx.api, devices, fx.settings.enrollToken);
      opts.log(`  enrolled ${devices} in ${fleet.seconds} s; connecting (itself a storm: no jitter)…`);
      const credentials = fleet.devices.map((d) => ({ id: d.id, username: d.username ?? d.id, password: d.password ?? '' }));
      const localAddresses = Array.from({ length: Math.max(1, Math.ceil(devices / 2500)) }, (_, i) => sourceAddress(i));
      const startedAt = performance.now();
      await handle.start({ host: '127.0.0.1', port: fx.settings.mqttPort, localAddresses }, credentials, honest, defaultBackoff);
      await pollUntil(async () => ((await handle.counts()).connected === devices ? true : undefined), {
        everyMs: 250,
        timeoutMs: 10 * 60_000,
        what: 'whole fleet connected',
      });
      const seconds = (performance.now() - startedAt) / 1000;
      connect = { seconds: round(seconds, 2), perSec: Math.round(devices / seconds) };
      opts.log(`  connected in ${connect.seconds} s (${connect.perSec}/s); restarting the server…`);
      result = await stormPhase(
        { current: fx.server, restart: fx.restart },
        fx.api,
        handle,
        devices,
        honest,
        10 * 60_000,
        SHUTDOWN_GRACE_MS,
      );
      opts.log(
        `  honest back after ${result.honestBackSeconds ?? '-'} s, the others after ${result.hostileBackSeconds ?? '-'} s, all after ${result.allBackSeconds ?? '-'} s (ready after ${result.readySeconds ?? '-'} s); ` +
          `${result.authPerSec ?? '-'} auth/s, ${result.refusedAtAdmission} refused, lag max ${result.maxEventLoopLagMs ?? '-'} ms, RSS peak ${result.rssPeakMb} MB`,
      );
      if (result.error) errors.push(`storm: ${result.error}`);
    } catch (err) {
      errors.push(errorText(err));
      opts.log(`  storm: ${errorText(err)}\n  last server output:\n${fx.server().lastOutput()}`);
    } finally {
      await handle.stop().catch((err: unknown) => errors.push(`storm clients: ${errorText(err)}`));
      await fx.close(opts.keepFiles || errors.length > 0, SHUTDOWN_GRACE_MS);
    }
    const rows: TableRow[] = [
      {
        metric: 'first connect (no jitter)',
        ours: connect ? `${cell(connect.seconds, ' s', 1)} (${cell(connect.perSec, '/s')})` : '-',
        pass: null,
      },
      { metric: 'server ready after restart', ours: cell(result?.readySeconds, ' s', 1), pass: null },
      { metric: `honest back (${honest})`, ours: cell(result?.honestBackSeconds, ' s', 1), pass: null },
      { metric: `without jitter back (${devices - honest})`, ours: cell(result?.hostileBackSeconds, ' s', 1), pass: null },
      { metric: 'whole fleet back', ours: cell(result?.allBackSeconds, ' s', 1), pass: null },
      { metric: 'authentications sustained', ours: cell(result?.authPerSec, '/s'), pass: null },
      {
        metric: 'refused at admission (CONNACK 3)',
        ours: result ? `${cell(result.refusedAtAdmission)} (${cell(result.refusedPerSec, '/s')})` : '-',
        pass: null,
      },
      { metric: 'max event-loop lag', ours: cell(result?.maxEventLoopLagMs, ' ms'), pass: null },
      { metric: 'slowest /healthz', ours: cell(result?.healthzMaxMs, ' ms'), pass: null },
      {
        metric: 'server RSS before → peak',
        ours: result ? `${cell(result.rssBeforeMb, ' MB')} → ${cell(result.rssPeakMb, ' MB')}` : '-',
        pass: null,
      },
    ];
    return {
      result: { devices, mode: opts.quick ? 'quick' : 'full', machine, admission, connect, reliability: { storm: result ?? null }, errors },
      rows,
      notes: [
        'the storm clients run in one child process on the same machine: their reconnect loop (including ECONNREFUSED while the server is down) takes CPU the server would otherwise have',
      ],
    };
  },
};
