/**
 * The body of `tbuild port-forwarder RULES OWNER` (forwarder.ts starts it inside a network's
 * namespace): serves each inherited listening socket (opened on the host) and passes what comes
 * in on to the container's address, from inside the namespace. Runs until killed.
 *
 * TCP: every connection piped to one of its own to the container; half-closes are passed on, so a
 * client that shuts down its sending side still gets the whole answer.
 * UDP: one socket to the container per client address (a flow), whose answers go back to that
 * client from the host's socket; a flow quiet for 90 s is dropped, as docker-proxy's UDP proxy
 * drops its (UDPConnTrackTimeout).
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { connect, createServer, isIP } from 'node:net';
import type { ForwardRule } from './forwarder.ts';

const udpFlowIdleMs = 90_000;

export function runForwarder(rules: ForwardRule[], ready: () => void): void {
  let listening = 0;
  const oneReady = () => {
    listening++;
    if (listening === rules.length) ready();
  };
  for (const rule of rules) {
    if (rule.protocol === 'udp') forwardUdp(rule, oneReady);
    else forwardTcp(rule, oneReady);
  }
}

function forwardTcp(rule: ForwardRule, ready: () => void): void {
  const server = createServer({ allowHalfOpen: true }, (client) => {
    const upstream = connect({ host: rule.targetIp, port: rule.targetPort, allowHalfOpen: true });
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  server.listen({ fd: rule.fd }, ready);
}

function forwardUdp(rule: ForwardRule, ready: () => void): void {
  const type = isIP(rule.targetIp) === 6 ? 'udp6' : 'udp4';
  // The inherited socket's family is the host address's, which may differ from the target's.
  const host = createSocket({ type: isIP(rule.hostIp) === 6 ? 'udp6' : 'udp4' });
  const flows = new Map<string, { upstream: Socket; timer: NodeJS.Timeout }>();
  const flowFor = (client: RemoteInfo) => {
    const key = `${client.address}:${client.port}`;
    let flow = flows.get(key);
    if (flow === undefined) {
      const upstream = createSocket({ type });
      const drop = () => {
        clearTimeout(flows.get(key)?.timer);
        flows.delete(key);
        upstream.close();
      };
      upstream.on('message', (answer, from) => {
        if (from.address !== rule.targetIp || from.port !== rule.targetPort) return;
        host.send(answer, client.port, client.address);
        refresh();
      });
      upstream.on('error', drop);
      const created = { upstream, timer: setTimeout(drop, udpFlowIdleMs) };
      const refresh = () => created.timer.refresh();
      flows.set(key, created);
      flow = created;
    }
    flow.timer.refresh();
    return flow;
  };
  host.on('message', (datagram, client) => {
    flowFor(client).upstream.send(datagram, rule.targetPort, rule.targetIp);
  });
  host.on('error', () => undefined);
  host.bind({ fd: rule.fd }, ready);
}
