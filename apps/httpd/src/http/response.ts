import { latin1, utf8 } from './bytes.js';
import { statusText } from './status.js';

export const SERVER_NAME = 'uk-httpd';

/**
 * A response head: status line and fields, then the blank line. `fields` alternate name and
 * value; values must be ASCII without CR or LF (they are made here, never copied from a request).
 */
export function responseHead(status: number, fields: readonly string[]): Uint8Array {
  let s = `HTTP/1.1 ${status} ${statusText(status)}\r\nServer: ${SERVER_NAME}\r\n`;
  for (let i = 0; i < fields.length; i += 2) s += `${fields[i]}: ${fields[i + 1]}\r\n`;
  s += '\r\n';
  return latin1(s);
}

/** What an error or redirect response needs. */
export interface SimpleResponse {
  readonly status: number;
  /** Keep the connection after it. */
  readonly keepAlive: boolean;
  /** HEAD: the same head, no body. */
  readonly head?: boolean;
  /** Fields besides Content-Type, Content-Length and Connection. */
  readonly fields?: readonly string[];
  /** Shown in the page (escaped). */
  readonly detail?: string;
}

/** A small HTML page for a status, with its head, as one buffer. */
export function simpleResponse(r: SimpleResponse): Uint8Array {
  const title = `${r.status} ${statusText(r.status)}`;
  const body = r.status === 304 || r.status === 204 ? new Uint8Array(0) : utf8(`<!DOCTYPE html>\n<html><head><title>${title}</title></head>\n<body><h1>${title}</h1>${r.detail ? `<p>${escapeHtml(r.detail)}</p>` : ''}<hr><p>${SERVER_NAME}</p></body></html>\n`);
  const fields: string[] = [];
  if (body.length > 0) fields.push('Content-Type', 'text/html; charset=utf-8');
  if (r.status !== 304 && r.status !== 204) fields.push('Content-Length', String(body.length));
  fields.push(...(r.fields ?? []));
  fields.push('Connection', r.keepAlive ? 'keep-alive' : 'close');
  const head = responseHead(r.status, fields);
  if (r.head === true || body.length === 0) return head;
  const out = new Uint8Array(head.length + body.length);
  out.set(head, 0);
  out.set(body, head.length);
  return out;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;'));
}

/** A path for a Location field or a link: each segment percent-encoded, slashes kept. */
export function encodePath(path: string): string {
  return path
    .split('/')
    .map((s) => encodeURIComponent(s))
    .join('/');
}
