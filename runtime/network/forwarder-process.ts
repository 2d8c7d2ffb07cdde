/**
 * The body of `tbuild port-forwarder RULES` (forwarder.ts starts it inside a network's namespace):
 * accepts on each inherited listening socket (opened on the host) and pipes every connection to
 * the container's address, dialled from inside the namespace. Half-closes are passed on, so a
 * client that shuts down its sending side still gets the whole answer. Runs until killed.
 */
import { connect, createServer } from 'node:net';
import type { ForwardRule } from './forwarder.ts';

export function runForwarder(rules: ForwardRule[], ready: () => void): void {
  let listening = 0;
  for (const rule of rules) {
    const server = createServer({ allowHalfOpen: true }, (client) => {
      const upstream = connect({ host: rule.targetIp, port: rule.targetPort, allowHalfOpen: true });
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    server.listen({ fd: rule.fd }, () => {
      listening++;
      if (listening === rules.length) ready();
    });
  }
}
