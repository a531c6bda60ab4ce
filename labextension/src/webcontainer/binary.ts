/**
 * Binary output frames (protocol version 2): `process-output` and `pty-output`
 * pushes as a small header and the output's bytes (the layout is documented in
 * protocol.generated.ts). Read here into the very pushes their JSON text frames
 * would be, `data` a string: one streaming UTF-8 decoder per process and
 * terminal, so a character split between two frames comes out whole, and
 * invalid bytes are replaced as the server replaces them for version 1.
 *
 * Part of the browser WebContainer client: imports nothing outside its folder.
 */
import { BinaryFlag, BinaryKind, ServerEvent } from './protocol.generated';

/** A binary output frame, read: the text frame's fields but `data`, and the bytes. */
export interface IOutputFrame {
  event: string;
  data: Record<string, unknown>;
  payload: Uint8Array;
}

const KINDS: Record<number, { event: string; field: string }> = {
  [BinaryKind.ProcessOutput]: {
    event: ServerEvent.ProcessOutput,
    field: 'pid'
  },
  [BinaryKind.PtyOutput]: { event: ServerEvent.PtyOutput, field: 'terminalId' }
};
/** The pushes that end an output: its decoder gives up what it holds first. */
const ENDS: Record<string, { event: string; field: string }> = {
  [ServerEvent.ProcessExit]: { event: ServerEvent.ProcessOutput, field: 'pid' },
  [ServerEvent.PtyExit]: { event: ServerEvent.PtyOutput, field: 'terminalId' }
};
const ID_DECODER = new TextDecoder();

/** The bytes of a binary WebSocket message (ArrayBuffer or a view), or null. */
export function messageBytes(raw: unknown): Uint8Array | null {
  if (raw instanceof ArrayBuffer) {
    return new Uint8Array(raw);
  }
  if (ArrayBuffer.isView(raw)) {
    return new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  }
  return null;
}

/** Read a binary output frame; null for one of a kind this client does not know. */
export function parseOutputFrame(bytes: Uint8Array): IOutputFrame | null {
  const kind = bytes.length >= 4 ? KINDS[bytes[0]] : undefined;
  const length = bytes[2];
  if (!kind || !length || bytes.length < 3 + length) {
    return null;
  }
  const flags = bytes[1];
  let end = 3 + length;
  const id = ID_DECODER.decode(bytes.subarray(3, end));
  const data: Record<string, unknown> = {
    [kind.field]: kind.field === 'pid' ? Number(id) : id
  };
  if (flags & BinaryFlag.Dropped) {
    if (bytes.length < end + 8) {
      return null;
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset + end, 8);
    data.dropped = view.getUint32(0) * 2 ** 32 + view.getUint32(4);
    end += 8;
  }
  if (flags & BinaryFlag.Replay) {
    data.replay = true;
  }
  return { event: kind.event, data, payload: bytes.subarray(end) };
}

/** The frames of one connection, decoded per process and terminal. */
export class OutputFrames {
  /**
   * The push a binary frame stands for; null when it gives nothing yet (the
   * first bytes of a character) or is of a kind this client does not know.
   */
  decode(bytes: Uint8Array): { event: string; data: any } | null {
    const frame = parseOutputFrame(bytes);
    if (!frame) {
      return null;
    }
    const key = `${frame.event}:${String(frame.data[KEY_FIELD[frame.event]])}`;
    if (frame.data.replay) {
      this._decoders.delete(key); // a replay starts the terminal's output afresh
    }
    let decoder = this._decoders.get(key);
    if (!decoder) {
      decoder = new TextDecoder('utf-8');
      this._decoders.set(key, decoder);
    }
    const text = decoder.decode(frame.payload, { stream: true });
    if (!text && Object.keys(frame.data).length === 1) {
      return null;
    }
    return { event: frame.event, data: { ...frame.data, data: text } };
  }

  /**
   * For a `process-exit` or `pty-exit`: the output push of what its decoder
   * still holds (an incomplete character at the very end), if anything.
   */
  ended(event: string, data: any): { event: string; data: any } | null {
    const ends = ENDS[event];
    if (!ends || !data) {
      return null;
    }
    const key = `${ends.event}:${String(data[ends.field])}`;
    const decoder = this._decoders.get(key);
    if (!decoder) {
      return null;
    }
    this._decoders.delete(key);
    const tail = decoder.decode();
    return tail
      ? {
          event: ends.event,
          data: { [ends.field]: data[ends.field], data: tail }
        }
      : null;
  }

  /** A new connection: nothing is pending. */
  clear(): void {
    this._decoders.clear();
  }

  private _decoders = new Map<string, TextDecoder>();
}

const KEY_FIELD: Record<string, string> = {
  [ServerEvent.ProcessOutput]: 'pid',
  [ServerEvent.PtyOutput]: 'terminalId'
};
