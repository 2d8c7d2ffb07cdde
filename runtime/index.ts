// Public surface of runtime/: containers from images, kept on disk with one monitor each
// (see README.md), and `tbuild run` in the foreground.

export { copyFromContainer, copyToContainer, exportContainer } from './archive.ts';
export {
  type AttachEnd,
  type AttachRequest,
  type AttachSession,
  attachContainer,
} from './attach.ts';
export { type Change, containerChanges } from './changes.ts';
export { type CommitContainerRequest, commitContainer } from './commit.ts';
export type {
  Container,
  ContainerRecord,
  ContainerState,
  ContainerStatus,
  RestartPolicy,
} from './container.ts';
export { listContainers } from './container-store.ts';
export { type CreateRequest, createContainer } from './create.ts';
export { DetachKeyWatcher, defaultDetachKeys, parseDetachKeys } from './detach-keys.ts';
export { containerDocument } from './document.ts';
export { ContainerError, RunError } from './errors.ts';
export { type ExecRequest, execInContainer } from './exec.ts';
export { type ContainerFsckReport, fsckContainers } from './fsck.ts';
export { writableLayerSize } from './layer-size.ts';
export {
  cleanupContainer,
  inspectContainer,
  killContainer,
  parseSignal,
  removeContainer,
  type SelfCommand,
  type StartHooks,
  startContainer,
  stopContainer,
  waitContainer,
} from './lifecycle.ts';
export {
  formatLogTime,
  type LogEntry,
  parseLogTime,
  readLog,
  readLogFrom,
  selectLogEntries,
} from './logs.ts';
export { pauseContainer, renameContainer, restartContainer, topContainer } from './manage.ts';
export { checkExtraHost } from './network/container-config.ts';
export {
  findNetwork,
  listNetworks,
  type NetworkCreateRequest,
  type NetworkDefinition,
} from './network/definitions.ts';
export { NetworkError } from './network/errors.ts';
export type { ForwardRule } from './network/forwarder.ts';
export { runForwarder } from './network/forwarder-process.ts';
export { type ForwarderCheck, restoreForwarder } from './network/forwarder-restore.ts';
export {
  connectContainer,
  createNetwork,
  disconnectContainer,
  networkDocument,
  pruneNetworks,
  removeNetwork,
} from './network/manage.ts';
export { type BoundPort, portsText } from './network/ports.ts';
export { publishedPorts } from './network/published.ts';
export { sweepNetworkLeftovers } from './network/sweep.ts';
export { portAddressLines, portMappingLines } from './ports.ts';
export { type ContainerProcess, mergeEnv, type ProcessOverrides, resolveProcess } from './process.ts';
export { type PruneFilters, type PruneReport, pruneContainers } from './prune.ts';
export { type AttachedRun, attachRunning, startAttached } from './run.ts';
export { syncState } from './state-sync.ts';
export { type ContainerStats, containerStats } from './stats.ts';
export type { ContainerMount } from './volume/container-mount.ts';
export { VolumeError } from './volume/errors.ts';
export {
  createVolume,
  findVolume,
  labelMatches as volumeLabelMatches,
  listVolumesInUse,
  pruneVolumes,
  removeVolume,
  type VolumeInUse,
  volumeDiskUsage,
} from './volume/manage.ts';
export { checkMountTarget, type MountRequest, parseVolumeFlag } from './volume/mount-request.ts';
export type { Volume } from './volume/store.ts';
