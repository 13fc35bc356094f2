// The HAProxy configuration of a test cluster: TCP (L4) balancing of MQTT and HTTP over the
// instances, checks fast enough that a killed instance leaves the pool within a second.

export interface Backend {
  /** Server name in HAProxy (the instance id). */
  name: string;
  mqttPort: number;
  httpPort: number;
  host?: string;
}

export function haproxyConfig(o: {
  backends: Backend[];
  balance: 'roundrobin' | 'leastconn';
  idleTimeoutS: number;
  mqttPort: number;
  httpPort: number;
  socketPath: string;
  maxconn: number;
}): string {
  const servers = (port: (b: Backend) => number) =>
    o.backends.map((b) => `  server ${b.name} ${b.host ?? '127.0.0.1'}:${port(b)}`).join('\n');
  return `global
  maxconn ${o.maxconn}
  stats socket ${o.socketPath} mode 600 level admin
  stats timeout 5s

defaults
  mode tcp
  timeout connect 2s
  timeout client ${o.idleTimeoutS}s
  timeout server ${o.idleTimeoutS}s
  timeout check 1s
  # A connect refused by an instance just killed, before its checks fail, goes to another one.
  retries 2
  option redispatch
  # Checks every 500 ms, out after 2 failures: a killed instance leaves the pool within ~1 s;
  # its sessions are cut at once so its terminals reconnect to another instance.
  default-server check inter 500 fall 2 rise 1 on-marked-down shutdown-sessions

frontend mqtt_in
  bind 127.0.0.1:${o.mqttPort}
  default_backend mqtt

backend mqtt
  balance ${o.balance}
${servers((b) => b.mqttPort)}

frontend http_in
  bind 127.0.0.1:${o.httpPort}
  default_backend http

backend http
  balance ${o.balance}
${servers((b) => b.httpPort)}
`;
}
