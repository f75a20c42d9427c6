/**
 * What lib/detector/parallel-reconstruct.ts and lib/detector/parallel-train.ts share about worker threads: starting a
 * library
 * module as a worker (from dist/ or from the TypeScript source), waiting until every worker is ready, and a handle
 * that sends requests and matches the answers by id.
 *
 * The protocol: a worker posts `{ type: "ready", ... }` or `{ type: "init-error", message }` once, then answers each
 * request `{ ...body, id }` with `{ type, id, ... }`, or `{ type: "error", id, message }`, which rejects the call.
 *
 *   const handles = await startWorkers<ReadyInfo, Answer>(__filename, init, 2, "MyPool worker");
 *   const answer = await handles[0].handle.request({ type: "work", data }, "done", [data.buffer]);
 *   await stopWorkers(handles.map((h) => h.handle));
 */
import * as path from "node:path";
import { Worker } from "node:worker_threads";

export const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * Start `file` as a worker: the compiled .js directly, or the TypeScript source through tsx's CommonJS hook (Node 20
 * does not apply `--import tsx` to a worker's entry file), so the same code runs from dist/ (notebooks) and from
 * source (tests, scripts run with `node --import tsx`).
 */
export function startModuleWorker(file: string, workerData: unknown): Worker {
  if (path.extname(file) === ".ts") {
    const tsx = require.resolve("tsx/cjs");
    const code = `require(${JSON.stringify(tsx)}); require(${JSON.stringify(file)});`;
    return new Worker(code, { eval: true, workerData });
  }
  return new Worker(file, { workerData });
}

/**
 * One worker thread and the requests it has not answered yet. `A`: the union of its answers; `B`: of its request
 * bodies.
 */
export class WorkerHandle<A extends { type: string; id: number }, B extends object = object> {
  private readonly pending = new Map<number, { resolve: (a: A) => void; reject: (e: Error) => void }>();
  /** Why it can no longer take work (crashed, exited, closed); null while it is running. */
  dead: string | null = null;
  private nextId = 0;

  constructor(
    readonly worker: Worker,
    readonly label: string,
  ) {
    worker.on("message", (m: A | { type: "ready" | "init-error" }) => {
      if (m.type === "ready" || m.type === "init-error") return;
      const a = m as A;
      const p = this.pending.get(a.id);
      if (!p) return;
      this.pending.delete(a.id);
      if (this.pending.size === 0) this.worker.unref(); // idle: let the process exit if nothing else holds it
      if (a.type === "error") p.reject(new Error(`${this.label}: ${(a as unknown as { message: string }).message}`));
      else p.resolve(a);
    });
    worker.on("error", (e) => this.fail(`crashed: ${errorText(e)}`));
    worker.on("exit", (code) => this.fail(`exited with code ${code}`));
  }

  /** Mark it dead and reject everything it still owed. */
  fail(why: string): void {
    if (this.dead === null) this.dead = why;
    for (const p of this.pending.values()) p.reject(new Error(`${this.label} ${this.dead}`));
    this.pending.clear();
  }

  notRunning(): Error {
    return new Error(`${this.label} is not running: it ${this.dead}`);
  }

  /** Send `{ ...body, id }` (transferring `transfer`) and wait for the answer with that id. */
  call(body: B, transfer: ArrayBuffer[] = []): Promise<A> {
    if (this.dead !== null) return Promise.reject(this.notRunning());
    const id = this.nextId++;
    return new Promise<A>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.ref(); // a call in flight keeps the process alive until it answers
      this.worker.postMessage({ ...body, id }, transfer);
    });
  }

  /** `call`, and check that the answer is of type `expect` (a worker answering another kind is a bug, said so). */
  async request<T extends A["type"]>(
    body: B,
    expect: T,
    transfer: ArrayBuffer[] = [],
  ): Promise<Extract<A, { type: T }>> {
    const a = await this.call(body, transfer);
    if (a.type !== expect) throw new Error(`${this.label}: answered "${a.type}" where "${expect}" was expected`);
    return a as Extract<A, { type: T }>;
  }
}

/**
 * Start `count` workers of `file` with `init` and wait until each posts "ready" (its message is returned as `ready`).
 * If any cannot start, all are stopped and the error names it: "<label> 2/3 could not start: <why>". Ready workers
 * are unref'd, so an idle group does not keep the process alive.
 */
export async function startWorkers<R, A extends { type: string; id: number }, B extends object = object>(
  file: string,
  init: unknown,
  count: number,
  label: string,
): Promise<{ handle: WorkerHandle<A, B>; ready: R }[]> {
  const handles: WorkerHandle<A, B>[] = [];
  const ready: Promise<R>[] = [];
  for (let i = 0; i < count; i++) {
    const name = `${label} ${i + 1}/${count}`;
    const worker = startModuleWorker(file, init);
    handles.push(new WorkerHandle<A, B>(worker, name));
    ready.push(
      new Promise<R>((resolve, reject) => {
        const onMessage = (m: { type: string; message?: string }) => {
          if (m.type === "ready") done(() => resolve(m as R));
          else if (m.type === "init-error") done(() => reject(new Error(`${name} could not start: ${m.message}`)));
        };
        const onError = (e: Error) => done(() => reject(new Error(`${name} could not start: ${e.message}`)));
        const onExit = (code: number) =>
          done(() => reject(new Error(`${name} could not start: it exited with code ${code}`)));
        const done = (settle: () => void) => {
          worker.off("message", onMessage).off("error", onError).off("exit", onExit);
          settle();
        };
        worker.on("message", onMessage).on("error", onError).on("exit", onExit);
      }),
    );
  }
  let infos: R[];
  try {
    infos = await Promise.all(ready);
  } catch (e) {
    await stopWorkers(handles, "was stopped: another worker could not start");
    throw e;
  }
  for (const h of handles) h.worker.unref();
  return handles.map((handle, i) => ({ handle, ready: infos[i] }));
}

/** Stop workers: their pending calls reject with `why`, the threads end. */
export async function stopWorkers<A extends { type: string; id: number }, B extends object>(
  handles: WorkerHandle<A, B>[],
  why = "was stopped by close()",
): Promise<void> {
  for (const h of handles) h.fail(why);
  await Promise.allSettled(handles.map((h) => h.worker.terminate()));
}
