// The cell feed's dedicated worker: runs `FeedCore` (stream connection, snapshot fetches, JSON
// parsing, cell keys) and posts columnar frames to the page with their buffers transferred.

import { FeedCore, type FeedRequest } from "./feed";

interface WorkerScope {
  postMessage(message: unknown, transfer: Transferable[]): void;
  onmessage: ((ev: MessageEvent<FeedRequest>) => void) | null;
}

const scope = self as unknown as WorkerScope;
const core = new FeedCore((e, transfer) => scope.postMessage(e, transfer));
scope.onmessage = (ev) => core.handle(ev.data);
