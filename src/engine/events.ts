/** What a step does to its resource. */
export type Action = 'create' | 'adopt' | 'update' | 'replace' | 'delete' | 'noop';

/** How each action is said while under way and once done, in progress lines and error messages. */
export const ACTION_WORDS: Record<Action, { doing: string; done: string }> = {
  create: { doing: 'creating', done: 'created' },
  adopt: { doing: 'adopting', done: 'adopted' },
  update: { doing: 'updating', done: 'updated' },
  replace: { doing: 'replacing', done: 'replaced' },
  delete: { doing: 'deleting', done: 'deleted' },
  noop: { doing: 'checking', done: 'unchanged' },
};

/** Everything the engine tells the outside world; it never prints. */
export type EngineEvent =
  | { type: 'phase'; message: string }
  | { type: 'step-start'; key: string; label: string; name: string; action: Action }
  | { type: 'step-wait'; key: string; label: string; name: string; message: string }
  | { type: 'step-done'; key: string; label: string; name: string; action: Action; durationMs: number; id?: string }
  | { type: 'step-skipped'; key: string; label: string; name: string; reason: string }
  | { type: 'step-failed'; key: string; label: string; name: string; action: Action; error: Error; durationMs: number }
  | { type: 'warning'; message: string };

/** Receives engine events: a terminal spinner, a JSON collector, or a test recorder. */
export interface Reporter {
  emit(event: EngineEvent): void;
}

/** A reporter that drops everything. */
export const silentReporter: Reporter = { emit: () => {} };
