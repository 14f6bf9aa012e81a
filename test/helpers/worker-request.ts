/**
 * @module One HTTP request to a `triage serve --workers N` server, with the worker that answered it
 * (its x-triage-worker header). With no agent the request has a connection of its own, so each one is
 * handed to a worker afresh; with a kept-alive agent, requests stay on one connection and one worker.
 */
import { type Agent, request } from "node:http";

export interface WorkerReply {
  status: number;
  worker: string | undefined;
  body: string;
}

export interface WorkerRequest {
  port: number;
  method: "GET" | "POST";
  path: string;
  body?: object;
  headers?: Record<string, string>;
  agent?: Agent | false;
}

export function requestWorker({ port, method, path, body, headers = {}, agent = false }: WorkerRequest): Promise<WorkerReply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method, path, agent, headers: body ? { "content-type": "application/json", ...headers } : headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, worker: res.headers["x-triage-worker"] as string | undefined, body: text }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}
