/** Uploading a PDF and starting its job. */
"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";

import type { JobSettings, ProcessorInfo, Upload } from "@/lib/api/types";

import { useApi } from "./api";
import { call } from "./fetcher";
import { queryKeys } from "./keys";
import { processorsQuery } from "./processors";

/** An upload's answer, with the server's processors (null when they could not be read). */
export interface Uploaded {
  upload: Upload;
  processors: ProcessorInfo[] | null;
}

/**
 * Upload a PDF (with its password if locked). The processors are read beside it: a saved one
 * that this server has not set up falls back to local; without the list the saved settings are
 * sent and the server refuses them clearly if needed.
 */
export function useUpload() {
  const api = useApi();
  const client = useQueryClient();
  return useMutation({
    mutationFn: async ({ file, password }: { file: File; password?: string }): Promise<Uploaded> => {
      const [upload, processors] = await Promise.all([
        call(() => api.upload(file, password)),
        client.fetchQuery(processorsQuery(api)).catch(() => null),
      ]);
      return { upload, processors };
    },
  });
}

/** Start the job of an upload: credits are reserved and the job joins the list. */
export function useStartJob() {
  const api = useApi();
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ uploadId, settings }: { uploadId: string; settings: JobSettings }) =>
      call(() => api.createJob(uploadId, settings)),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: queryKeys.credits });
      void client.invalidateQueries({ queryKey: queryKeys.jobList });
    },
  });
}

/** Delete an upload the user did not process (nothing was charged). */
export function useDiscardUpload() {
  const api = useApi();
  return useMutation({ mutationFn: (uploadId: string) => call(() => api.deleteUpload(uploadId)) });
}
