/**
 * The xenstore API every store of colo-xl offers (wire client, embedded daemon, libxenstore).
 * @module
 */
import type { WaitOptions } from '../util/wait.js';
import type { XsPerm } from './messages.js';

/** One watch firing: the path that changed (as the daemon reports it) and the watch's token. */
export interface WatchEvent {
  path: string;
  token: string;
}

/**
 * A registered watch: iterate it for events (the first is the initial fire), close() (or
 * `await using`) to unwatch.
 */
export interface XsWatch extends AsyncIterable<WatchEvent>, AsyncDisposable {
  readonly path: string;
  readonly token: string;
  /**
   * The next event; undefined once the watch is closed. Fails with WaitTimeoutError when
   * `timeoutMs` passes first, AbortedError when `signal` fires; the event it did not take stays
   * queued for the next call.
   */
  next(opts?: WaitOptions): Promise<WatchEvent | undefined>;
  close(): Promise<void>;
}

/** Reads and writes that can run inside a transaction as well as outside one. */
export interface XsOps {
  read(path: string): Promise<string>;
  readBuffer(path: string): Promise<Buffer>;
  /** read() that answers undefined instead of throwing ENOENT. */
  tryRead(path: string): Promise<string | undefined>;
  exists(path: string): Promise<boolean>;
  write(path: string, value: string | Buffer): Promise<void>;
  mkdir(path: string): Promise<void>;
  rm(path: string): Promise<void>;
  directory(path: string): Promise<string[]>;
  getPerms(path: string): Promise<XsPerm[]>;
  setPerms(path: string, perms: readonly XsPerm[]): Promise<void>;
}

/** A transaction's retries and its bound (the whole transaction, every attempt together). */
export interface TransactionOptions extends WaitOptions {
  /** How many times to run the body when the commit answers EAGAIN (default 16). */
  attempts?: number;
}

/** The whole xenstore API: what every transport (socket, device, embedded, libxenstore) offers. */
export interface Xenstore extends XsOps {
  /** Which kind of store answers: for logs and for `colo-xl` messages. */
  readonly kind: string;
  transaction<T>(fn: (tx: XsOps) => Promise<T>, opts?: TransactionOptions): Promise<T>;
  watch(path: string, token?: string): Promise<XsWatch>;
  introduce(domid: number, mfn: number | bigint, eventChannel: number): Promise<void>;
  release(domid: number): Promise<void>;
  resume(domid: number): Promise<void>;
  getDomainPath(domid: number): Promise<string>;
  isDomainIntroduced(domid: number): Promise<boolean>;
  setTarget(domid: number, target: number): Promise<void>;
  resetWatches(): Promise<void>;
  control(...args: string[]): Promise<string>;
  close(): Promise<void>;
}
