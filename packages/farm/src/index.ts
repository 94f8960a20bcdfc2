export { FarmLauncher } from './launcher.js';
export { runWorker, parseSlots, type WorkerOptions, type WorkerRecord } from './worker.js';
export { farmStatus, readFarmStatus, type FarmStatus } from './status.js';
export { FarmError, checkRedis, parseFarmUrl, safeUrl } from './url.js';
export { PREFIX, QUEUES, queueFor, type FarmJobData } from './queues.js';
