import { AV_SAMPLE_FMT_FLTP } from 'node-av/constants';
import { avChannelLayoutDefault, avChannelLayoutDescribe, avGetSampleFmtName, avRescaleQ, type Frame } from 'node-av/lib';
import { Graph, filterFrames } from './graph.js';
import { MediaInput } from './input.js';
import { openEncoder, type MediaOutput } from './output.js';

export interface AudioCut {
  /** Start in the source, seconds. */
  start: number;
  /** Length, seconds. */
  duration: number;
}

/**
 * Adds an AAC (192 kb/s) stream to `out` made from [start, start + duration) of `src`'s first audio stream,
 * cut to the sample. Call before `out.start()`; the returned function writes the audio (after start()).
 */
export async function addAudio(out: MediaOutput, src: string, cut: AudioCut): Promise<() => Promise<void>> {
  const input = await MediaInput.open(src, 'cannot read the audio of');
  const stream = input.audio();
  if (!stream) {
    await input.close();
    throw new Error(`${src} has no audio stream`);
  }
  const p = stream.codecpar;
  const rate = p.sampleRate;
  // the standard layout for the channel count (AVI/WAV PCM often leaves the order unspecified)
  const layout = avChannelLayoutDefault(p.channels);
  const layoutName = avChannelLayoutDescribe(layout) ?? 'mono';
  const enc = await openEncoder({
    codec: 'aac',
    configure: (c) => {
      c.sampleRate = rate;
      c.channelLayout = layout;
      c.sampleFormat = AV_SAMPLE_FMT_FLTP;
      c.bitRate = 192000n;
      c.timeBase = { num: 1, den: rate } as never;
    },
  }, out.globalHeader);
  const index = out.addEncoder(enc);
  const frameSize = enc.frameSize || 1024;
  return async () => {
    const tb = { num: 1, den: rate };
    let next = 0n;
    const take = async (graph: Graph) => {
      for await (const f of graph.pull()) {
        f.pts = next;
        next += BigInt(f.nbSamples);
        await out.encode(index, f);
      }
    };
    const open = (f: Frame) => {
      const inLayout = avChannelLayoutDescribe(f.channelLayout) ?? `${f.channels}c`;
      const args = `time_base=1/${rate}:sample_rate=${f.sampleRate}:sample_fmt=${avGetSampleFmtName(f.format as never)}:channel_layout=${inLayout}`;
      return Graph.create([{ audio: args }], `[src0]atrim=start=${cut.start.toFixed(6)}:duration=${cut.duration.toFixed(6)},aresample=${rate},aformat=sample_fmts=fltp:channel_layouts=${layoutName},asetnsamples=n=${frameSize}:p=0`);
    };
    try {
      await filterFrames(input.frames(stream), open, take, (f) => (f.pts = avRescaleQ(f.pts, stream.timeBase, tb)));
    } finally {
      await input.close();
    }
  };
}
