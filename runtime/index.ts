// Public surface of runtime/: containers from images (today: `tbuild run` in the foreground).
export { RunError } from './errors.ts';
export { type ContainerProcess, mergeEnv, type ProcessOverrides, resolveProcess } from './process.ts';
export { type RunRequest, runContainer } from './run.ts';
export { checkVolumeSources, parseVolume } from './volumes.ts';
