/** Names for the API's schemas, all taken from the generated OpenAPI types. */
import type { components } from "./schema";

type Schemas = components["schemas"];

export type User = Schemas["User"];
export type Tokens = Schemas["Tokens"];
export type Upload = Schemas["Upload"];
export type Job = Schemas["Job"];
export type JobDetail = Schemas["JobDetail"];
export type JobStatus = Job["status"];
export type JobPage = Schemas["JobPage"];
export type JobSettings = Schemas["JobSettings"];
export type Retry = Schemas["Retry"];
export type Sentence = Schemas["Sentence"];
export type SentencePage = Schemas["SentencePage"];
export type LedgerEntry = Schemas["LedgerEntry"];
export type LedgerPage = Schemas["LedgerPage"];
export type PageRange = Schemas["PageRange"];
/** A processor of this server (`GET /processors`): whether it is set up, its models. */
export type ProcessorInfo = Schemas["Processor"];

/** The statuses after which a job never changes on its own (the API's final statuses). */
export const FINAL_STATUSES: readonly JobStatus[] = ["completed", "partial", "failed", "cancelled"];

/** Whether a job in `status` is done (nothing more will happen unless retried). */
export function isFinal(status: JobStatus): boolean {
  return FINAL_STATUSES.includes(status);
}
