import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { ERROR_MESSAGES } from "@/lib/api/errors";

const BACKEND = join(__dirname, "..", "..", "backend", "folio");
// Codes no user of the web app meets: the hierarchy's abstract root (every error raised is a
// subclass with its own code) and the metrics scraper's.
const NOT_FOR_USERS = new Set(["error", "metrics_unauthorized"]);

/** Every .py file under `dir`. */
function pythonFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return pythonFiles(path);
    return name.endsWith(".py") ? [path] : [];
  });
}

/** The error codes the backend's sources declare or raise. */
function backendCodes(): Set<string> {
  const patterns = [
    /\bcode = "([a-z_]+)"/g, // class attributes of ServiceError and PipelineError subclasses
    /\b(?:Conflict|ApiError|_unauthorized|error_response)\(\s*"([a-z_]+)"/g,
    /\b\d{3}: "([a-z_]+)"/g, // HTTP_ERROR_CODES
    /"error_code"\] = "([a-z_]+)"/g, // a job's own error code
  ];
  const codes = new Set<string>();
  for (const file of pythonFiles(BACKEND)) {
    const source = readFileSync(file, "utf8");
    for (const pattern of patterns) for (const match of source.matchAll(pattern)) codes.add(match[1]!);
  }
  return codes;
}

describe("error messages", () => {
  it("has a human message for every error code of the backend", () => {
    const codes = backendCodes();
    expect(codes.size).toBeGreaterThan(30);
    const missing = [...codes].filter((code) => !(code in ERROR_MESSAGES) && !NOT_FOR_USERS.has(code));
    expect(missing).toEqual([]);
  });
});
