import type { Ora } from 'ora';
import { ACTION_WORDS, type Action, type EngineEvent, type Reporter } from '../engine/events.js';
import type { Io } from './output.js';

const SYMBOLS: Record<Action, string> = { create: '+', adopt: '&', update: '~', replace: '±', delete: '-', noop: '=' };

/** Formats a duration for progress lines: 850ms, 4.2s, 2m05s. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`;
}

/**
 * Turns engine events into one line per resource: on a terminal one ora spinner names the steps in
 * progress (steps run concurrently, and concurrent spinners would overwrite each other's line) while
 * finished steps print above it; otherwise plain lines (CI logs). Every line is masked. Under --json or
 * --quiet it only records events.
 */
export class TerminalReporter implements Reporter {
  private spinner?: Ora;
  private readonly active = new Map<string, string>();
  readonly events: EngineEvent[] = [];

  constructor(
    private readonly io: Io,
    private readonly createSpinner?: () => Ora,
  ) {}

  emit(event: EngineEvent): void {
    this.events.push(event);
    if (this.io.json || this.io.quiet) {
      if (event.type === 'warning' && !this.io.json) this.line(`warning: ${event.message}`);
      return;
    }
    switch (event.type) {
      case 'phase':
        this.line(event.message);
        break;
      case 'warning':
        this.line(`warning: ${event.message}`);
        break;
      case 'step-start':
        this.begin(event.key, `${SYMBOLS[event.action]} ${event.label} ${event.name}: ${ACTION_WORDS[event.action].doing}`);
        break;
      case 'step-wait':
        if (this.spinner) this.begin(event.key, `  ${event.label} ${event.name}: ${event.message}`);
        else this.line(`  ${event.label} ${event.name}: ${event.message}`);
        break;
      case 'step-done':
        this.end(event.key, `${SYMBOLS[event.action]} ${event.label} ${event.name}: ${ACTION_WORDS[event.action].done} (${formatDuration(event.durationMs)})`);
        break;
      case 'step-skipped':
        this.line(`  ${event.label} ${event.name}: skipped (${event.reason})`);
        break;
      case 'step-failed':
        this.end(event.key, `${SYMBOLS[event.action]} ${event.label} ${event.name}: failed after ${formatDuration(event.durationMs)}`);
        break;
    }
  }

  /** Stops the spinner (the run ended, possibly by a failure elsewhere). */
  stopAll(): void {
    this.spinner?.stop();
    this.spinner = undefined;
    this.active.clear();
  }

  private begin(key: string, text: string): void {
    if (!this.createSpinner) return this.line(text);
    this.active.set(key, text);
    this.spinner ??= this.createSpinner().start();
    this.refresh();
  }

  private end(key: string, text: string): void {
    this.active.delete(key);
    this.line(text);
    if (this.spinner && this.active.size === 0) this.stopAll();
    else this.refresh();
  }

  private refresh(): void {
    if (!this.spinner) return;
    const texts = [...this.active.values()];
    const more = texts.length > 1 ? ` (+${texts.length - 1} more)` : '';
    this.spinner.text = this.io.secrets.mask(`${texts[0]?.trim() ?? ''}${more}`);
  }

  private line(text: string): void {
    const masked = `${this.io.secrets.mask(text)}\n`;
    if (this.spinner) {
      this.spinner.clear();
      this.io.stderr.write(masked);
      this.spinner.render();
    } else {
      this.io.stderr.write(masked);
    }
  }
}

/** Makes the reporter for this run: spinners only on an interactive terminal. */
export async function createReporter(io: Io): Promise<TerminalReporter> {
  // A pty that reports 0 columns (docker exec -t, ssh -t, some CI runners) makes ora's clear() loop
  // forever (it divides by the width), so a spinner needs a real width; otherwise plain lines.
  const columns = (io.stderr as NodeJS.WriteStream).columns;
  if (!io.interactive || io.json || io.quiet || !(typeof columns === 'number' && columns > 0)) return new TerminalReporter(io);
  const { default: ora } = await import('ora');
  return new TerminalReporter(io, () => ora({ stream: io.stderr as NodeJS.WriteStream }));
}
