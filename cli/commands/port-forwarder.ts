import { type ForwardRule, runForwarder } from '../../runtime/index.ts';
import type { Command } from '../command.ts';

/**
 * `tbuild port-forwarder RULES`: a container's published ports, started by `start` inside the
 * container's network namespace with the host's listening sockets inherited (runtime/network/
 * forwarder.ts). Not for users: left out of `tbuild --help`. Runs until killed.
 */
export const portForwarderCommand: Command = {
  summary: 'Forward published ports into a container network (run by start)',
  async run(ctx) {
    const rules = JSON.parse(ctx.argv[0] ?? '[]') as ForwardRule[];
    await new Promise<void>(() => runForwarder(rules, () => ctx.stdout.write('ready\n')));
    return 0;
  },
};
