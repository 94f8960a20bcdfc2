import Ffmpeg from 'fluent-ffmpeg';
import { findFfmpeg, findFfprobe } from './binaries.js';

/** A fluent-ffmpeg command with the ffmpeg/ffprobe binaries found by findFfmpeg/findFfprobe. */
export function command(input?: string): Ffmpeg.FfmpegCommand {
  const cmd = input === undefined ? Ffmpeg() : Ffmpeg(input);
  cmd.setFfmpegPath(findFfmpeg().path);
  cmd.setFfprobePath(findFfprobe().path);
  return cmd;
}

/** The lines of ffmpeg's stderr that say what went wrong (the banner and stream dump dropped). */
export function ffmpegSays(stderr: string | undefined, fallback = ''): string {
  const lines = (stderr ?? '')
    .split(/\r\n|\r|\n/)
    .map((l) => l.trimEnd())
    .filter((l) => l && !/^\s/.test(l) && !/^(ffmpeg|ffprobe) version|^(Input|Output|Stream mapping|Press \[q\]|frame=|size=|video:)/.test(l));
  const tail = lines.slice(-4).join(' | ');
  return tail || fallback || 'no message';
}

export interface RunOptions {
  /** Called with the number of frames written so far (parsed from ffmpeg's progress output). */
  onFrames?: (frames: number) => void;
  /** Start of the error message, e.g. "cannot decode video /x/a.mp4". */
  what: string;
}

/** Runs a prepared command (outputs already set); rejects with `what: ffmpeg says: ...`. */
export function run(cmd: Ffmpeg.FfmpegCommand, opts: RunOptions): Promise<{ stderr: string }> {
  return new Promise((resolve, reject) => {
    if (opts.onFrames) {
      const cb = opts.onFrames;
      cmd.on('progress', (p: { frames?: number }) => {
        if (typeof p.frames === 'number' && Number.isFinite(p.frames)) cb(p.frames);
      });
    }
    cmd.on('error', (err: Error, _stdout: string | null, stderr: string | null) => {
      const said = ffmpegSays(stderr ?? undefined, err.message.replace(/^ffmpeg exited with code \d+:\s*/, ''));
      reject(new Error(`${opts.what}: ffmpeg says: ${said}`));
    });
    cmd.on('end', (_stdout: string | null, stderr: string | null) => resolve({ stderr: stderr ?? '' }));
    cmd.run();
  });
}

let encoderCache: Promise<Set<string>> | null = null;

/** The encoder names the ffmpeg binary offers (e.g. libx264, mpeg4, prores_ks, aac). */
export function availableEncoders(): Promise<Set<string>> {
  if (!encoderCache) {
    encoderCache = new Promise((resolve, reject) => {
      command().getAvailableEncoders((err, encoders) => {
        if (err) reject(new Error(`cannot list ffmpeg's encoders (${findFfmpeg().path}): ${err.message}`));
        else resolve(new Set(Object.keys(encoders)));
      });
    });
    encoderCache.catch(() => (encoderCache = null));
  }
  return encoderCache;
}
