/**
 * A process spawned over the socket (`process-operation spawn`): its merged
 * stdout/stderr as `output: ReadableStream<string>`, its stdin as
 * `input: WritableStream<string>`, and `exit: Promise<number>`.
 */
import { nodeError, toNodeError } from './errors';

/** Sends one `process-operation` for this process and waits for its reply. */
export type ProcessOperation = (
  type: 'input' | 'kill' | 'resize',
  data: Record<string, unknown>
) => Promise<unknown>;

export class WebContainerProcess {
  constructor(
    readonly pid: number,
    private readonly _operation: ProcessOperation,
    keepOutput = true
  ) {
    this._keepOutput = keepOutput;
    this.output = new ReadableStream<string>({
      start: controller => {
        this._controller = controller;
      },
      cancel: () => {
        this._keepOutput = false;
      }
    });
    this.input = new WritableStream<string>({
      write: async chunk => {
        if (this._exitCode !== null) {
          throw nodeError(`process ${this.pid} has exited`, 'EPIPE');
        }
        try {
          await this._operation('input', { data: String(chunk) });
        } catch (error) {
          throw toNodeError(error);
        }
      }
    });
    this.exit = new Promise<number>(resolve => {
      this._resolveExit = resolve;
    });
  }

  /** stdout and stderr, merged in arrival order. */
  readonly output: ReadableStream<string>;
  /** Text written here reaches the process's stdin. */
  readonly input: WritableStream<string>;
  /** The exit code (-1 when the connection to the server was lost). */
  readonly exit: Promise<number>;

  /** Has the process ended (exit resolved)? */
  get exited(): boolean {
    return this._exitCode !== null;
  }

  /** End the process (its whole group); `KILL` unless told otherwise. */
  async kill(signal = 'KILL'): Promise<void> {
    if (this._exitCode !== null) {
      return;
    }
    try {
      await this._operation('kill', { signal });
    } catch (error) {
      const converted = toNodeError(error);
      if (converted.code !== 'ESRCH') {
        throw converted;
      }
    }
  }

  /** Resize its terminal (spawned with `terminal: { cols, rows }`). */
  async resize(dimensions: { cols: number; rows: number }): Promise<void> {
    if (this._exitCode !== null) {
      return;
    }
    try {
      await this._operation('resize', {
        cols: dimensions.cols,
        rows: dimensions.rows
      });
    } catch (error) {
      throw toNodeError(error);
    }
  }

  /** Output pushed by the server (process-output). */
  push(data: string): void {
    if (this._exitCode !== null || !this._keepOutput || !this._controller) {
      return;
    }
    try {
      this._controller.enqueue(data);
    } catch {
      // the reader cancelled the stream
    }
  }

  /** The process ended (process-exit), or the connection was lost (-1). */
  finish(exitCode: number): void {
    if (this._exitCode !== null) {
      return;
    }
    this._exitCode = exitCode;
    try {
      this._controller?.close();
    } catch {
      // already closed or cancelled
    }
    this._resolveExit(exitCode);
  }

  private _controller: ReadableStreamDefaultController<string> | null = null;
  private _keepOutput: boolean;
  private _exitCode: number | null = null;
  private _resolveExit!: (code: number) => void;
}
