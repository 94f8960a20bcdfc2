import { AVERROR_EAGAIN, AVERROR_EOF, AVFMT_GLOBALHEADER, AVMEDIA_TYPE_VIDEO, AV_CODEC_FLAG_GLOBAL_HEADER } from 'node-av/constants';
import { Codec, CodecContext, Dictionary, FormatContext, Packet, type Frame, type Stream } from 'node-av/lib';
import { avError } from './input.js';
import type { Rational } from './rational.js';

/** Settings of an encoder: its FFmpeg name, context fields and private options (e.g. crf, profile). */
export interface EncoderSpec {
  codec: string;
  configure: (ctx: CodecContext) => void;
  options?: Record<string, string>;
}

/** Opens an encoder; `globalHeader` for containers that want codec headers out of band (mp4, mov). */
export async function openEncoder(spec: EncoderSpec, globalHeader = false): Promise<CodecContext> {
  const codec = Codec.findEncoderByName(spec.codec as never);
  if (!codec) throw new Error(`this FFmpeg build has no ${spec.codec} encoder`);
  const ctx = new CodecContext();
  ctx.allocContext3(codec);
  spec.configure(ctx);
  if (globalHeader) ctx.setFlags(AV_CODEC_FLAG_GLOBAL_HEADER);
  const ret = await ctx.open2(codec, spec.options ? Dictionary.fromObject(spec.options) : null);
  if (ret < 0) throw new Error(`cannot open the ${spec.codec} encoder: ${avError(ret)}`);
  return ctx;
}

/** Sends a frame (null: flush) and hands each packet it gives to `put`. */
export async function encodeFrame(enc: CodecContext, frame: Frame | null, pkt: Packet, put: (p: Packet) => Promise<void>): Promise<void> {
  let ret = await enc.sendFrame(frame);
  if (ret < 0 && ret !== AVERROR_EOF) throw new Error(`encoder: ${avError(ret)}`);
  for (;;) {
    ret = await enc.receivePacket(pkt);
    if (ret === AVERROR_EAGAIN || ret === AVERROR_EOF) return;
    if (ret < 0) throw new Error(`encoder: ${avError(ret)}`);
    await put(pkt);
    pkt.unref();
  }
}

/** A media file being written (FFmpeg's muxer): streams fed by encoders or copied packets. */
export class MediaOutput {
  private readonly encoders: { enc: CodecContext; stream: Stream }[] = [];
  private readonly pkt = new Packet();
  private started = false;

  private constructor(readonly file: string, readonly ctx: FormatContext) {
    this.pkt.alloc();
  }

  static create(file: string, format: string | null = null): MediaOutput {
    const ctx = new FormatContext();
    const ret = ctx.allocOutputContext2(null, format, file);
    if (ret < 0) throw new Error(`cannot write ${file}: FFmpeg has no muxer for it: ${avError(ret)}`);
    return new MediaOutput(file, ctx);
  }

  /** True when the container wants global codec headers (pass to openEncoder). */
  get globalHeader(): boolean {
    return ((this.ctx.oformat?.flags ?? 0) & AVFMT_GLOBALHEADER) !== 0;
  }

  /** Adds a stream fed by an opened encoder; returns its index. */
  addEncoder(enc: CodecContext): number {
    const stream = this.ctx.newStream(null);
    stream.codecpar.fromContext(enc);
    stream.timeBase = enc.timeBase;
    this.encoders.push({ enc, stream });
    return stream.index;
  }

  async start(): Promise<void> {
    let ret = await this.ctx.openOutput();
    if (ret < 0) throw new Error(`cannot open ${this.file} for writing: ${avError(ret)}`);
    ret = await this.ctx.writeHeader(null);
    if (ret < 0) throw new Error(`cannot write the header of ${this.file}: ${avError(ret)}`);
    this.started = true;
  }

  /** Writes a packet of stream `index`, its timestamps in `tb`. */
  async write(pkt: Packet, index: number, tb: Rational): Promise<void> {
    const stream = this.ctx.streams![index];
    pkt.streamIndex = index;
    pkt.rescaleTs(tb, stream.timeBase);
    const ret = await this.ctx.interleavedWriteFrame(pkt);
    if (ret < 0) throw new Error(`cannot write to ${this.file}: ${avError(ret)}`);
  }

  /** Encodes a frame into stream `index` (null: flush that encoder). */
  async encode(index: number, frame: Frame | null): Promise<void> {
    const e = this.encoders.find((x) => x.stream.index === index)!;
    const video = e.enc.codecType === AVMEDIA_TYPE_VIDEO;
    await encodeFrame(e.enc, frame, this.pkt, (p) => {
      // video encoders here run at time base 1/fps: a packet without a duration lasts one frame (else the
      // mov muxer gives the last frame no time and readers drop it)
      if (video && p.duration <= 0n) p.duration = 1n;
      return this.write(p, index, e.enc.timeBase);
    });
  }

  /** Flushes every encoder, writes the trailer, closes the file. */
  async finish(): Promise<void> {
    for (const e of this.encoders) await this.encode(e.stream.index, null);
    const ret = await this.ctx.writeTrailer();
    if (ret < 0) throw new Error(`cannot finish ${this.file}: ${avError(ret)}`);
    await this.close();
  }

  async close(): Promise<void> {
    if (this.started) await this.ctx.closeOutput();
    this.started = false;
    for (const e of this.encoders) e.enc.freeContext();
    this.encoders.length = 0;
    this.pkt.free();
    this.ctx.freeContext();
  }
}
