import { AVERROR_EAGAIN, AVERROR_EOF, AV_LOG_ERROR, AVMEDIA_TYPE_AUDIO, AVMEDIA_TYPE_VIDEO, AV_DISPOSITION_ATTACHED_PIC, AV_PKT_DATA_DISPLAYMATRIX } from 'node-av/constants';
import { Codec, CodecContext, FFmpegError, FormatContext, Frame, Log, Packet, type Stream } from 'node-av/lib';

// FFmpeg's own log (encoder banners, stream notes) would interleave with the stage's protocol lines; errors
// reach the caller as exceptions with FFmpeg's message
Log.setLevel(AV_LOG_ERROR);

/** FFmpeg's message for an error code, e.g. "Invalid data found when processing input". */
export function avError(code: number): string {
  return FFmpegError.fromCode(code)?.message ?? `error ${code}`;
}

/** An opened media file (FFmpeg's demuxer through node-av): streams, packets, and a decoder per stream. */
export class MediaInput {
  private constructor(readonly file: string, readonly ctx: FormatContext) {}

  /** Opens and probes `file`; errors name the file and say what FFmpeg said. */
  static async open(file: string, what = 'cannot read'): Promise<MediaInput> {
    const ctx = new FormatContext();
    let ret = await ctx.openInput(file, null, null);
    if (ret < 0) throw new Error(`${what} ${file} (corrupt, truncated or not a media file): FFmpeg says: ${avError(ret)}`);
    ret = await ctx.findStreamInfo(null);
    if (ret < 0) {
      await ctx.closeInput();
      throw new Error(`${what} ${file}: FFmpeg finds no stream info: ${avError(ret)}`);
    }
    return new MediaInput(file, ctx);
  }

  get streams(): Stream[] {
    return this.ctx.streams ?? [];
  }

  /** The first video stream that is not a cover picture. */
  video(): Stream | null {
    return this.streams.find((s) => s.codecpar.codecType === AVMEDIA_TYPE_VIDEO && !(s.disposition & AV_DISPOSITION_ATTACHED_PIC)) ?? null;
  }

  audio(): Stream | null {
    return this.streams.find((s) => s.codecpar.codecType === AVMEDIA_TYPE_AUDIO) ?? null;
  }

  /** Packets of one stream, in file order. */
  async *packets(streamIndex: number): AsyncGenerator<Packet> {
    const pkt = new Packet();
    pkt.alloc();
    try {
      for (;;) {
        const ret = await this.ctx.readFrame(pkt);
        if (ret === AVERROR_EOF) return;
        if (ret < 0) throw new Error(`cannot read ${this.file}: FFmpeg says: ${avError(ret)}`);
        if (pkt.streamIndex === streamIndex) yield pkt;
        pkt.unref();
      }
    } finally {
      pkt.free();
    }
  }

  /** A decoder opened for `stream` (all CPU threads). */
  async decoder(stream: Stream): Promise<CodecContext> {
    const codec = Codec.findDecoder(stream.codecpar.codecId);
    if (!codec) throw new Error(`${this.file}: FFmpeg has no decoder for stream ${stream.index}`);
    const dec = new CodecContext();
    dec.allocContext3(codec);
    dec.parametersToContext(stream.codecpar);
    dec.pktTimebase = stream.timeBase;
    dec.threadCount = 0;
    const ret = await dec.open2(codec, null);
    if (ret < 0) throw new Error(`${this.file}: cannot open the ${codec.name} decoder: ${avError(ret)}`);
    return dec;
  }

  /** Decoded frames of `stream` (the same Frame object, refilled: copy what you keep). */
  async *frames(stream: Stream): AsyncGenerator<Frame> {
    const dec = await this.decoder(stream);
    const frame = new Frame();
    frame.alloc();
    const drain = async function* (this: MediaInput): AsyncGenerator<Frame> {
      for (;;) {
        const r = await dec.receiveFrame(frame);
        if (r === AVERROR_EAGAIN || r === AVERROR_EOF) return;
        if (r < 0) throw new Error(`cannot decode ${this.file}: FFmpeg says: ${avError(r)}`);
        yield frame;
        frame.unref();
      }
    }.bind(this);
    try {
      for await (const pkt of this.packets(stream.index)) {
        const r = await dec.sendPacket(pkt);
        if (r < 0 && r !== AVERROR_EAGAIN) throw new Error(`cannot decode ${this.file}: FFmpeg says: ${avError(r)}`);
        yield* drain();
      }
      await dec.sendPacket(null);
      yield* drain();
    } finally {
      frame.free();
      dec.freeContext();
    }
  }

  /** Rotation in degrees (0, 90, 180, 270, clockwise as displayed) from the stream's display matrix. */
  rotation(stream: Stream): number {
    const m = stream.codecpar.getCodedSideData(AV_PKT_DATA_DISPLAYMATRIX);
    if (!m || m.length < 36) return 0;
    const v = (i: number) => m.readInt32LE(4 * i) / 65536;
    // as the ffmpeg CLI's autorotate: theta = -av_display_rotation_get(m), 90 -> transpose=clock
    const scale0 = Math.hypot(v(0), v(3)), scale1 = Math.hypot(v(1), v(4));
    if (!scale0 || !scale1) return 0;
    const theta = (Math.atan2(v(1) / scale1, v(0) / scale0) * 180) / Math.PI;
    return (((Math.round(theta / 90) * 90) % 360) + 360) % 360;
  }

  async close(): Promise<void> {
    await this.ctx.closeInput();
  }
}
