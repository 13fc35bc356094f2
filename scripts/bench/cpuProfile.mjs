// Profiles the process it is imported into and writes a .cpuprofile when it exits:
//   BENCH_SERVER_NODE_OPTIONS="--import ./scripts/bench/cpuProfile.mjs" CPU_PROFILE_OUT=/tmp/server npm run bench   # writes /tmp/server-<pid>.cpuprofile
// Node 20 refuses --cpu-prof in NODE_OPTIONS; an inspector session in the process itself does not
// need it. The server exits cleanly on SIGTERM, which is how the bench stops it.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const out = `${process.env.CPU_PROFILE_OUT ?? '/tmp/posfleet'}-${process.pid}.cpuprofile`;
const session = new Session();
session.connect();
session.post('Profiler.enable');
session.post('Profiler.setSamplingInterval', { interval: Number(process.env.CPU_PROFILE_INTERVAL_US ?? 500) });
session.post('Profiler.start');

let written = false;
process.on('exit', () => {
  if (written) return;
  written = true;
  // The inspector answers synchronously within the same thread.
  session.post('Profiler.stop', (err, result) => {
    if (!err) writeFileSync(out, JSON.stringify(result.profile));
  });
});
