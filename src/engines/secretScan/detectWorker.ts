// Worker-thread entry of the detection pool: decodes and scans the texts of each batch it is sent, answers with
// their detections in one message.
import { parentPort } from "node:worker_threads";
import { detectSecrets } from "./detect.js";
import type { DetectBatch, DetectBatchResponse, DetectRequest, DetectResponse } from "./detectPool.js";

const port = parentPort!;
port.on("message", (batch: DetectBatch) => {
  Promise.all(batch.requests.map(detectOne)).then((responses) =>
    port.postMessage({ responses } satisfies DetectBatchResponse),
  );
});

async function detectOne(request: DetectRequest): Promise<DetectResponse> {
  const { id, file, bytes, physicalPath, binary } = request;
  try {
    const content = binary
      ? ""
      : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
    const detections = await detectSecrets({
      file,
      content,
      ...(physicalPath ? { physicalPath } : {}),
      ...(binary ? { binary } : {}),
    });
    return { id, detections };
  } catch (error) {
    return { id, error: error instanceof Error ? error.message : String(error) };
  }
}
