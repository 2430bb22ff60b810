/**
 * Every query key of the app, in one place, so that an invalidation names exactly what it
 * refreshes. Keys are prefixes of one another on purpose: invalidating `credits` refreshes
 * the balance and the ledger, invalidating `job(id)` refreshes that job and its sentences.
 */
export const queryKeys = {
  credits: ["credits"] as const,
  balance: ["credits", "balance"] as const,
  ledger: ["credits", "ledger"] as const,
  processors: ["processors"] as const,
  jobList: ["jobs", "list"] as const,
  job: (jobId: string) => ["jobs", "detail", jobId] as const,
  sentencesOf: (jobId: string) => ["jobs", "detail", jobId, "sentences"] as const,
  sentences: (jobId: string, q: string, after: number | undefined) =>
    [...queryKeys.sentencesOf(jobId), { q, after }] as const,
};
