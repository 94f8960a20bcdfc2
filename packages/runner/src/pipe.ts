/**
 * `runner show FILE STAGE --json | head`: once the reader closes the pipe, every write to stdout fails with
 * EPIPE, emitted as an 'error' event that would crash the process with a stack trace. Instead the command ends
 * quietly: `onClosed` runs once (a run stops its stages as on Ctrl-C; other commands just exit), and later
 * write errors on the closed stream are ignored.
 */
export function endQuietlyOnClosedPipe(onClosed: () => void, streams: NodeJS.WriteStream[] = [process.stdout, process.stderr]): void {
  let closed = false;
  for (const s of streams) {
    s.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED') throw e;
      if (closed) return;
      closed = true;
      onClosed();
    });
  }
}
