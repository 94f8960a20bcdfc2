import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));

export interface StageRun {
  code: number;
  stdout: string;
  stderr: string;
  lines: { type: string; value: Record<string, unknown> }[];
}

/** Runs a stage of this package the way the runner does: `node cli <kind>` with the FACECOMB_* environment. */
export function runStage(kind: string, out: string, params: Record<string, unknown>, inputs: Record<string, string>, pipelineDir = process.cwd()): Promise<StageRun> {
  return runCli(cli, kind, out, params, inputs, pipelineDir);
}

/** The same for the stage entry (src/cli.ts) of any package. */
export function runCli(cliFile: string, kind: string, out: string, params: Record<string, unknown>, inputs: Record<string, string>, pipelineDir = process.cwd()): Promise<StageRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', cliFile, kind],
      {
        env: {
          ...process.env,
          FACECOMB_OUT: out,
          FACECOMB_PARAMS: JSON.stringify(params),
          FACECOMB_INPUTS: JSON.stringify(inputs),
          FACECOMB_STAGE: kind,
          FACECOMB_PIPELINE_DIR: pipelineDir,
        },
        maxBuffer: 64 << 20,
      },
      (err, stdout, stderr) => {
        const lines = stdout
          .split('\n')
          .map((l) => /^::(progress|summary|engine) (.*)$/.exec(l))
          .filter((m): m is RegExpExecArray => !!m)
          .map((m) => ({ type: m[1], value: JSON.parse(m[2]) as Record<string, unknown> }));
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr, lines });
      },
    );
  });
}
