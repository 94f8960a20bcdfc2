/** metrics.jsonl of a training run: one record per step, the latest loss per identity, progress lines with the ETA. */
import { appendFile, writeFile } from 'node:fs/promises';
import type { Batch } from './data.js';
import { Eta } from './eta.js';
import type { TrainConfig } from './config.js';

export interface MetricsRecord {
  step: number;
  resolution: number;
  level: number;
  alpha: number;
  /** Identity trained at this step. */
  identity: string;
  loss: number;
  /** Latest loss of every identity (null before its first step). */
  losses: Record<string, number | null>;
  imgPerSec: number;
  msPerStep: number;
  /** Share of the step spent waiting for data. */
  dataWait: number;
  /** Every heldoutEvery steps: the loss on the datasets' held-out frames (mean over identities), and per identity. */
  heldoutLoss?: number;
  heldoutLosses?: Record<string, number>;
}

export function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.floor(s % 60);
  return h ? `${h}h${String(m).padStart(2, '0')}m` : m ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
}

export class MetricsLog {
  /** The records of this run (a resumed run's earlier ones are in `lines` only). */
  readonly records: MetricsRecord[] = [];
  private readonly losses: Record<string, number | null>;
  private readonly eta: Eta;

  /** `lines`: the records so far (a resumed checkpoint's curve), kept and written to `file` again. */
  constructor(
    readonly file: string,
    readonly lines: string[],
    private readonly names: string[],
    cfg: TrainConfig,
    private readonly total: number,
    private readonly hooks: { onStep?: (m: MetricsRecord) => void; onProgress?: (done: number, total: number, msg: string) => void },
  ) {
    this.losses = Object.fromEntries(names.map((n) => [n, null]));
    for (const l of lines) {
      const m = JSON.parse(l) as MetricsRecord;
      this.losses[m.identity] = m.loss;
    }
    this.eta = new Eta(cfg);
  }

  async start(): Promise<void> {
    await writeFile(this.file, this.lines.length ? this.lines.join('\n') + '\n' : '');
  }

  /** The record of one step (`ms` its time, `waitMs` the data wait in it), before the held-out loss is added. */
  make(batch: Batch, loss: number, ms: number, waitMs: number): MetricsRecord {
    this.eta.observe(batch.resolution, ms);
    const name = this.names[batch.identity];
    this.losses[name] = loss;
    return {
      step: batch.step + 1,
      resolution: batch.resolution,
      level: Math.log2(batch.resolution),
      alpha: batch.alpha,
      identity: name,
      loss,
      losses: { ...this.losses },
      imgPerSec: (batch.size * 1000) / ms,
      msPerStep: ms,
      dataWait: waitMs / ms,
    };
  }

  /** Appends the record to metrics.jsonl and reports it. */
  async write(rec: MetricsRecord): Promise<void> {
    this.records.push(rec);
    const line = JSON.stringify(rec);
    this.lines.push(line);
    await appendFile(this.file, line + '\n');
    this.hooks.onStep?.(rec);
    const at = rec.step;
    this.hooks.onProgress?.(
      at,
      this.total,
      `step ${at}/${this.total} ${rec.resolution}px alpha ${rec.alpha.toFixed(2)} loss ${rec.loss.toFixed(4)} (${rec.identity}) ${rec.imgPerSec.toFixed(1)} img/s ETA ${fmtTime(this.eta.remainingSeconds(at, this.total))}`,
    );
  }
}
