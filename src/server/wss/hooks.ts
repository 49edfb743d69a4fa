/** The fault-injection hooks (`ServerOptions.hooks`) applied to one connection's frames. */
import type { Logger } from '../../util/logger.js';
import type { ServerHooks } from '../options.js';
import { Frame } from '../transport/frame.js';
import type { WssConnection } from './connection.js';

/** A frame the socket sent, after `hooks.incoming`: the bytes to handle, or `null` (dropped, and logged). */
export function applyIncoming(hooks: ServerHooks, logger: Logger, conn: WssConnection, raw: Buffer): Buffer | null {
  const hook = hooks.incoming;
  if (!hook) return raw;
  try {
    const out = hook(raw.toString('utf8'), { privateId: conn.privateId });
    if (out === null) logger.debug(`wss: incoming hook dropped a frame from ${conn.label}`);
    return out === null ? null : Buffer.from(out, 'utf8');
  } catch (err) {
    logger.error('wss: incoming hook threw; frame dropped', err);
    return null;
  }
}

/** A frame for the socket, after `hooks.outgoing`: none, the same frame, or others (framed anew). */
export function applyOutgoing(hooks: ServerHooks, logger: Logger, conn: WssConnection, frame: Frame): Frame[] {
  const hook = hooks.outgoing;
  if (!hook) return [frame];
  const text = frame.text();
  try {
    const out = hook(text, { privateId: conn.privateId });
    if (out === null) logger.debug(`wss: outgoing hook dropped a frame to ${conn.label}`);
    const list = out === null ? [] : Array.isArray(out) ? out : [out];
    return list.map((item) => (item === text ? frame : Frame.text(item)));
  } catch (err) {
    logger.error('wss: outgoing hook threw; frame dropped', err);
    return [];
  }
}
