export { loadPipeline, PIPELINE_SCHEMA, envName, dependents, type Pipeline, type StageDef, type InputFile } from './pipeline.js';
export { loadRegistry, STAGE_PACKAGES, SHELL_SCHEMA, RegistryError, type KindSpec, type Registry } from './registry.js';
export { PipelineError, formatDiagnostic, type Diagnostic } from './diagnostics.js';
export { planPipeline, stageKey, canonicalJson, type StagePlan } from './plan.js';
export { Cache, cacheRootFor, type Manifest, type IndexRecord } from './cache.js';
export { Executor, type RunOptions, type RunResult } from './execute.js';
export { runCommand, statusCommand, dagCommand, showCommand, lsCommand, gcCommand, openPipeline, type StatusEntry } from './commands.js';
export { HashIndex, expandInput, globToRegExp } from './files.js';
export { closest, editDistance } from './hint.js';
