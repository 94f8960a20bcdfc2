import { AVERROR_EAGAIN, AVERROR_EOF } from 'node-av/constants';
import { FilterGraph, Frame, type FilterContext } from 'node-av/lib';
import { avError } from './input.js';

/** One source of a filter graph: a `buffer` (video) or `abuffer` (audio) filter's arguments. */
export type GraphSource = { video: string } | { audio: string };

/**
 * An FFmpeg filter graph with named sources (`src0`, `src1`, ...) and one sink: feed frames in, take frames
 * out. `description` uses [src0], [src1] ... as its inputs and ends where the sink is attached, e.g.
 * "[src0]scale=640:-2,format=rgb24".
 */
export class Graph {
  private readonly out: Frame;
  private constructor(private readonly graph: FilterGraph, private readonly srcs: FilterContext[], private readonly sink: FilterContext) {
    this.out = new Frame();
    this.out.alloc();
  }

  static async create(sources: GraphSource[], description: string): Promise<Graph> {
    const graph = new FilterGraph();
    graph.alloc();
    graph.nbThreads = 0;
    const heads = sources.map((s, i) => ('video' in s ? `buffer@src${i}=${s.video}[src${i}]` : `abuffer@src${i}=${s.audio}[src${i}]`));
    const audioOut = sources.length > 0 && 'audio' in sources[0];
    const full = `${heads.join(';')};${description}[out];[out]${audioOut ? 'abuffersink' : 'buffersink'}@sink`;
    let ret = graph.parse2(full);
    if (ret < 0) throw new Error(`bad filter graph "${full}": ${avError(ret)}`);
    ret = await graph.config();
    if (ret < 0) throw new Error(`cannot configure filter graph "${full}": ${avError(ret)}`);
    const srcs = sources.map((_, i) => graph.getFilter(`${'video' in sources[i] ? 'buffer' : 'abuffer'}@src${i}`)!);
    const sink = graph.getFilter(`${audioOut ? 'abuffersink' : 'buffersink'}@sink`)!;
    return new Graph(graph, srcs, sink);
  }

  /** Feeds a frame (null: end of that input). False when the graph wants no more (e.g. a trim has ended). */
  async push(frame: Frame | null, input = 0): Promise<boolean> {
    const ret = await this.srcs[input].buffersrcAddFrame(frame);
    if (ret === AVERROR_EOF) return false;
    if (ret < 0) throw new Error(`filter graph: cannot add a frame: ${avError(ret)}`);
    return true;
  }

  /** The frames ready at the sink (the same Frame object, refilled: copy what you keep). */
  async *pull(): AsyncGenerator<Frame> {
    for (;;) {
      const ret = await this.sink.buffersinkGetFrame(this.out);
      if (ret === AVERROR_EAGAIN || ret === AVERROR_EOF) return;
      if (ret < 0) throw new Error(`filter graph: ${avError(ret)}`);
      yield this.out;
      this.out.unref();
    }
  }

  close(): void {
    this.out.free();
    this.graph.free();
  }
}

/** `buffer` arguments for frames like `f` (size, pixel format, time base, aspect, colour). */
export function videoSourceArgs(f: { width: number; height: number; format: number; sampleAspectRatio: { num: number; den: number }; colorSpace: number; colorRange: number }, timeBase: { num: number; den: number }): string {
  const sar = f.sampleAspectRatio.num > 0 ? `${f.sampleAspectRatio.num}/${f.sampleAspectRatio.den}` : '1/1';
  return `video_size=${f.width}x${f.height}:pix_fmt=${f.format}:time_base=${timeBase.num}/${timeBase.den}:pixel_aspect=${sar}:colorspace=${f.colorSpace}:range=${f.colorRange}`;
}


/**
 * Runs decoded frames through a graph opened on the first one (only then is the input's format known), taking
 * the graph's output after every push, then flushes it; decoding stops once the graph wants no more (a trim that
 * has ended: a range near the start of a long file). `prepare` adjusts each frame before it goes in.
 */
export async function filterFrames(frames: AsyncIterable<Frame>, open: (first: Frame) => Promise<Graph>, take: (graph: Graph) => Promise<void>, prepare?: (f: Frame) => void): Promise<void> {
  let graph: Graph | null = null;
  try {
    for await (const f of frames) {
      graph ??= await open(f);
      prepare?.(f);
      const more = await graph.push(f);
      await take(graph);
      if (!more) break;
    }
    if (graph) {
      await graph.push(null);
      await take(graph);
    }
  } finally {
    graph?.close();
  }
}
