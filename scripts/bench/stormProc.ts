// A child process holding one storm's raw clients (stormClients.ts), so that their hammering
// runs on another event loop than the server and the code that measures it. Driven over IPC by
// stormHandle.ts: start, counts, cut, stop.
import { startStorm, type StormFleet } from './stormClients.ts';
import type { StormReply, StormRequest } from './stormHandle.ts';

let fleet: StormFleet | undefined;

process.on('message', (msg: { id: number; req: StormRequest }) => {
  const reply = (r: StormReply) => process.send?.({ id: msg.id, reply: r });
  const { req } = msg;
  switch (req.t) {
    case 'start':
      fleet?.stop();
      fleet = startStorm(req.target, req.clients, req.honest, req.backoff);
      return reply({ t: 'counts', counts: fleet.counts() });
    case 'counts':
      if (!fleet) return reply({ t: 'error', error: 'storm not started' });
      return reply({ t: 'counts', counts: fleet.counts() });
    case 'cut':
      fleet?.cut();
      return reply({ t: 'done' });
    case 'stop':
      fleet?.stop();
      reply({ t: 'done' });
      setTimeout(() => process.exit(0), 20);
  }
});
process.on('disconnect', () => process.exit(0));
