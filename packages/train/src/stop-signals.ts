/** Ctrl-C / SIGTERM during training: the first asks for a checkpoint after the current step, a second exits at once. */
export class StopSignals {
  /** The signal received, null while none. */
  received: string | null = null;
  private readonly onInt = () => this.on('SIGINT');
  private readonly onTerm = () => this.on('SIGTERM');

  constructor(private readonly installed: boolean) {
    if (!installed) return;
    process.on('SIGINT', this.onInt);
    process.on('SIGTERM', this.onTerm);
  }

  private on(sig: string): void {
    if (this.received) {
      process.stderr.write(`second ${sig}: exiting without a checkpoint\n`);
      process.exit(130);
    }
    this.received = sig;
    process.stderr.write(`${sig}: saving a checkpoint after this step, then stopping\n`);
  }

  remove(): void {
    if (!this.installed) return;
    process.off('SIGINT', this.onInt);
    process.off('SIGTERM', this.onTerm);
  }
}
