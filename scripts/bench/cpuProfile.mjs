// Profiles the process it is imported into and writes a .cpuprofile:
//   BENCH_SERVER_NODE_OPTIONS="--import ./scripts/bench/cpuProfile.mjs" CPU_PROFILE_OUT=/tmp/server npm run bench
// writes /tmp/server-<pid>.cpuprofile when the process exits. With CPU_PROFILE_ON=signal the
// profiler starts at the first SIGUSR2 and writes /tmp/server-<pid>-<n>.cpuprofile at the next,
// so a profile covers one phase (the ingest steps) rather than the whole run.
// Node 20 refuses --cpu-prof in NODE_OPTIONS; an inspector session in the process itself does not
// need it. The server exits cleanly on SIGTERM, which is how the bench stops it.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const prefix = `${process.env.CPU_PROFILE_OUT ?? '/tmp/posfleet'}-${process.pid}`;
const session = new Session();
session.connect();
session.post('Profiler.enable');
session.post('Profiler.setSamplingInterval', { interval: Number(process.env.CPU_PROFILE_INTERVAL_US ?? 500) });

let running = false;
let written = 0;
const start = () => {
  session.post('Profiler.start');
  running = true;
};
// The inspector answers synchronously within the same thread, so this also works on exit.
const stopAndWrite = (file) => {
  running = false;
  session.post('Profiler.stop', (err, result) => {
    if (!err) writeFileSync(file, JSON.stringify(result.profile));
  });
};

if (process.env.CPU_PROFILE_ON === 'signal') {
  process.on('SIGUSR2', () => (running ? stopAndWrite(`${prefix}-${++written}.cpuprofile`) : start()));
} else {
  start();
  process.on('exit', () => running && stopAndWrite(`${prefix}.cpuprofile`));
}
