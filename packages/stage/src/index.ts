export { BACKENDS, readStageEnv, resolveInput, needInput, chunkFrames, StageEnvError, type StageEnv } from './env.js';
export { progress, summary, engine, parseReportLine, type Progress } from './report.js';
export { runStage, type StageMain } from './run.js';
export { readUpstream, requireOneSource, type Upstream } from './upstream.js';
export { frameName, frameNumber, readJson, readJsonOrNull, writeFileAtomic } from './files.js';
