/**
 * @module Encoder threads still open, for code that ends the process early (a closed stdout, a signal,
 * an error). Ending the process while an onnxruntime session is inside a run on a worker thread makes
 * onnxruntime abort the whole process ("terminate called after throwing an instance of 'Napi::Error'"),
 * so such code first closes them: each finishes its run and releases its session. No dependencies, so
 * every command can import it without loading an encoder.
 */

const open = new Set<{ close(): Promise<void> }>();

export function trackThread(thread: { close(): Promise<void> }): void {
  open.add(thread);
}

export function untrackThread(thread: { close(): Promise<void> }): void {
  open.delete(thread);
}

/** Closes every open encoder thread; never rejects. */
export async function closeOpenThreads(): Promise<void> {
  await Promise.allSettled([...open].map((t) => t.close()));
}
