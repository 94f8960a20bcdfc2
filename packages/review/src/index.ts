export { startReviewServer, MAX_EVENT_CLIENTS, type ReviewOptions, type ReviewServer } from './server.js';
export { isLoopback } from './guard.js';
export { safeResolve, PathError } from './paths.js';
export { CacheReader } from './cache-reader.js';
export { trainMetrics, alignJitter, stageDetail, type StageDetail } from './details.js';
export type { PipelineStatus, StageStatus, StageView, StatusSource, RunningRecord } from './types.js';
