import type { Sockets } from '../socket/sockets.js';
import type { NetStack } from '../stack/stack.js';
import type { Transport } from '../stack/transport.js';

/**
 * A protocol module that tcpip() plugs into the stack it builds — TCP is one: an app that
 * does not pass it carries none of its code. Any of these shapes is accepted:
 * - a function `(stack, sockets) => api`: it registers its transport itself
 *   (stack.registerTransport) and returns whatever API the app should get;
 * - an object `{ name?, attach(stack, sockets) => api }`;
 * - a Transport (it has `protocol` and `input`), registered as it is.
 * The API it returns is found with `net.extension(name)` (name: the object's `name`, or
 * 'tcp' for the `tcp` option).
 */
export type NetExtension =
  | ((stack: NetStack, sockets: Sockets) => unknown)
  | { readonly name?: string; attach(stack: NetStack, sockets: Sockets): unknown }
  | Transport;

/** Plugs `ext` into `stack`; returns the API it gives. */
export function attachExtension(ext: NetExtension, stack: NetStack, sockets: Sockets): unknown {
  if (typeof ext === 'function') return ext(stack, sockets);
  if ('attach' in ext && typeof ext.attach === 'function') return ext.attach(stack, sockets);
  const t = ext as Transport;
  stack.registerTransport(t);
  return t;
}
