// Public surface of source/: build inputs from outside the Dockerfile — contexts on standard
// input, in archives, at URLs and in git repositories — fetched into directories the frontend
// then reads like any local context — and the ssh agents a build forwards to RUN steps.

export { extractContextArchive, isArchive, type PeekedStream, peekStream } from './archive-context.ts';
export {
  locateFetchedDockerfile,
  type OpenContextOptions,
  type OpenedContext,
  openContext,
  openRemote,
} from './context-input.ts';
export { SourceError } from './errors.ts';
export {
  checkoutGit,
  type GitCheckout,
  type GitCheckoutOptions,
  type GitSpec,
  resolveGitCommit,
} from './git-checkout.ts';
export {
  type GitRef,
  isGitAddress,
  type ParseGitOptions,
  parseGitRef,
  redactCredentials,
} from './git-url.ts';
export { type OpenedNamedContext, openNamedContext } from './named-context.ts';
export { openSshAgents, parseSshSpec, type SshAgents, type SshSpec } from './ssh-agent.ts';
