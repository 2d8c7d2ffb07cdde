#!/usr/bin/env node
// Entry point for `npx tbuild` and `npm link`: the sources are TypeScript run through tsx,
// so there is no separate compile step between a fresh clone and a working command.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
