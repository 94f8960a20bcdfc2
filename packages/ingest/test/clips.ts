import { AV_PKT_DATA_DISPLAYMATRIX, AV_SAMPLE_FMT_FLTP, AV_SAMPLE_FMT_S16 } from 'node-av/constants';
import { avChannelLayoutDefault, avGetCodecName, avGetPixFmtFromName, avGetPixFmtName, Frame } from 'node-av/lib';
import { packedFrame } from '@facecomb/image';
import { colourEnums, Graph, MediaInput, MediaOutput, openEncoder, type Rational } from '../src/index.js';

/** The picture of test frame `n`: a horizontal ramp, a bar that moves with n, and a blue level of 20·n. */
export function testPicture(w: number, h: number, n: number): Buffer {
  const buf = Buffer.alloc(w * h * 3);
  const bar = (n * 7) % w;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 3;
      buf[o] = Math.round((255 * x) / Math.max(1, w - 1));
      buf[o + 1] = Math.abs(x - bar) <= 1 ? 250 : 40;
      buf[o + 2] = (n * 20) % 256;
    }
  }
  return buf;
}

/** The frame number a test picture shows (its mean blue level / 20), from decoded float RGB. */
export function pictureNumber(rgb: Float32Array, w: number, h: number): number {
  let s = 0;
  for (let i = 0; i < w * h; i++) s += rgb[i * 3 + 2];
  return Math.round(((s / (w * h)) * 255) / 20);
}

export interface ClipSpec {
  width: number;
  height: number;
  frames: number;
  fps: Rational;
  /** Video encoder (default mpeg4) and its pixel format (default yuv420p). */
  codec?: string;
  pixFmt?: string;
  /** Muxer name (default: from the file extension). */
  container?: string;
  /** Per-frame durations in units of `timeBase` (variable frame rate); default 1 each at time base 1/fps. */
  durations?: number[];
  timeBase?: Rational;
  /** Display-matrix rotation to record, as av_display_rotation_set(angle) (the ffmpeg CLI's -display_rotation). */
  rotation?: number;
  colour?: { primaries: string; transfer: string; matrix: string; range: string };
  /** A sine tone muxed beside the video, as long as the video. */
  audio?: { codec: 'aac' | 'pcm_s16le'; sampleRate: number; frequency: number };
}

/** Writes a test clip with FFmpeg's encoders (node-av): test pictures, optional tone, rotation, VFR timing, colour tags. */
export async function makeClip(file: string, spec: ClipSpec): Promise<void> {
  const out = MediaOutput.create(file, spec.container ?? null);
  const tb = spec.timeBase ?? { num: spec.fps.den, den: spec.fps.num };
  const pix = spec.pixFmt ?? 'yuv420p';
  const tags = spec.colour ? colourEnums(spec.colour) : null;
  const codec = spec.codec ?? 'mpeg4';
  const enc = await openEncoder({
    codec,
    configure: (c) => {
      c.width = spec.width; c.height = spec.height; c.timeBase = tb as never; c.framerate = spec.fps as never;
      c.pixelFormat = avGetPixFmtFromName(pix);
      if (tags) { c.colorPrimaries = tags.primaries as never; c.colorTrc = tags.transfer as never; c.colorSpace = tags.matrix as never; c.colorRange = tags.range as never; }
    },
    options: codec === 'libx264' ? { preset: 'ultrafast', crf: '18' } : codec === 'mpeg4' ? { qscale: '3' } : undefined,
  }, out.globalHeader);
  const vi = out.addEncoder(enc);
  if (spec.rotation) {
    const r = (-spec.rotation * Math.PI) / 180;
    const m = Buffer.alloc(36);
    const fix = (v: number) => Math.round(v * 65536);
    m.writeInt32LE(fix(Math.cos(r)), 0);
    m.writeInt32LE(fix(-Math.sin(r)), 4);
    m.writeInt32LE(fix(Math.sin(r)), 12);
    m.writeInt32LE(fix(Math.cos(r)), 16);
    m.writeInt32LE(1 << 30, 32);
    out.ctx.streams![vi].codecpar.addCodedSideData(AV_PKT_DATA_DISPLAYMATRIX, m);
  }
  let ai = -1;
  const a = spec.audio;
  let chunk = 1024;
  if (a) {
    const aenc = await openEncoder({
      codec: a.codec,
      configure: (c) => {
        c.sampleRate = a.sampleRate; c.channelLayout = avChannelLayoutDefault(1);
        c.sampleFormat = a.codec === 'aac' ? AV_SAMPLE_FMT_FLTP : AV_SAMPLE_FMT_S16; c.timeBase = { num: 1, den: a.sampleRate } as never;
      },
    }, out.globalHeader);
    chunk = aenc.frameSize || 1024;
    ai = out.addEncoder(aenc);
  }
  await out.start();
  if (a) {
    const ticks = spec.durations ? spec.durations.reduce((x, y) => x + y, 0) : spec.frames;
    const total = Math.round(((ticks * tb.num) / tb.den) * a.sampleRate);
    const fl = a.codec === 'aac';
    for (let t = 0; t < total; t += chunk) {
      const n = Math.min(chunk, total - t);
      const buf = Buffer.alloc(n * (fl ? 4 : 2));
      for (let i = 0; i < n; i++) {
        const v = 0.5 * Math.sin((2 * Math.PI * a.frequency * (t + i)) / a.sampleRate);
        if (fl) buf.writeFloatLE(v, 4 * i);
        else buf.writeInt16LE(Math.round(v * 32767), 2 * i);
      }
      const f = Frame.fromAudioBuffer(buf, { nbSamples: n, format: fl ? AV_SAMPLE_FMT_FLTP : AV_SAMPLE_FMT_S16, sampleRate: a.sampleRate, channelLayout: avChannelLayoutDefault(1), pts: BigInt(t) } as never);
      await out.encode(ai, f);
      f.free();
    }
  }
  const rgb = avGetPixFmtFromName('rgb24');
  const graph = await Graph.create([{ video: `video_size=${spec.width}x${spec.height}:pix_fmt=${rgb}:time_base=${tb.num}/${tb.den}:pixel_aspect=1/1` }], `[src0]format=${pix}`);
  const tag = (g: Frame) => {
    if (tags) { g.colorPrimaries = tags.primaries as never; g.colorTrc = tags.transfer as never; g.colorSpace = tags.matrix as never; g.colorRange = tags.range as never; }
  };
  let pts = 0;
  for (let n = 0; n < spec.frames; n++) {
    const f = packedFrame(testPicture(spec.width, spec.height, n + 1), spec.width, spec.height, rgb, tb);
    f.pts = BigInt(pts);
    pts += spec.durations?.[n] ?? 1;
    await graph.push(f);
    f.free();
    for await (const g of graph.pull()) { tag(g); await out.encode(vi, g); }
  }
  await graph.push(null);
  for await (const g of graph.pull()) { tag(g); await out.encode(vi, g); }
  graph.close();
  await out.finish();
}

export interface CountedStream {
  codec_type: string;
  codec_name: string;
  nb_read_frames: string;
  r_frame_rate?: string;
  duration?: string;
  width?: number;
  height?: number;
  pix_fmt?: string;
  colour?: { primaries: number; transfer: number; matrix: number; range: number };
}

/** The streams of a media file, frames counted by decoding (read back with FFmpeg through node-av). */
export async function countStreams(file: string): Promise<CountedStream[]> {
  const input = await MediaInput.open(file);
  const out: CountedStream[] = [];
  try {
    for (const s of input.streams) {
      const p = s.codecpar;
      const video = p.codecType === 0;
      let n = 0, samples = 0;
      const again = await MediaInput.open(file);
      try {
        for await (const f of again.frames(again.streams[s.index])) {
          n++;
          samples += f.nbSamples;
        }
      } finally {
        await again.close();
      }
      const r = s.rFrameRate;
      out.push({
        codec_type: video ? 'video' : p.codecType === 1 ? 'audio' : 'other',
        codec_name: avGetCodecName(p.codecId) ?? 'unknown',
        nb_read_frames: String(n),
        r_frame_rate: video ? `${r.num}/${r.den}` : undefined,
        duration: String(video ? (Number(s.duration) * s.timeBase.num) / s.timeBase.den : samples / p.sampleRate),
        width: video ? p.width : undefined,
        height: video ? p.height : undefined,
        pix_fmt: video ? avGetPixFmtName(p.format as never) ?? undefined : undefined,
        colour: video ? { primaries: p.colorPrimaries, transfer: p.colorTrc, matrix: p.colorSpace, range: p.colorRange } : undefined,
      });
    }
  } finally {
    await input.close();
  }
  return out;
}
