/**
 * The user's job settings (sentence limit, minimum words, processor, model), kept in this
 * browser's localStorage: preferences, not secrets. They are sent with every new job.
 */
import type { JobSettings, ProcessorInfo } from "@/lib/api/types";

const KEY = "folio.settings";

/** The processor every server has (rules, no model): the fallback for one not set up. */
export const LOCAL = "local";

/** Friendlier names for the processors we know; the server's list decides which exist. */
const PROCESSOR_LABELS: Readonly<Record<string, string>> = {
  local: "Local (rules, fast, 1 credit a page)",
  gemini: "Gemini (hybrid: local cuts, then the language model)",
  openai: "OpenAI-compatible server (hybrid: local cuts, then the language model)",
};

/** A processor name as people read it (the name itself for one we do not know). */
export function processorLabel(name: string): string {
  return PROCESSOR_LABELS[name] ?? name;
}

/**
 * What the word limit means for a job on `processor`, in a sentence: the local processor only
 * cuts where the French allows (a longer sentence stays whole, shown in steps); with a language
 * model (hybrid) the local cuts come first and the model rewrites what stays longer.
 */
export function limitMeaning(processor: string, limit: number): string {
  if (processor === LOCAL) {
    return "Cut where the French allows, never a fragment; longer sentences stay whole, shown in steps.";
  }
  return Number.isInteger(limit) && limit > 0
    ? `Every sentence at most ${limit} words: local cuts first, the model rewrites the rest.`
    : "Every sentence at most the limit: local cuts first, the model rewrites the rest.";
}

/** One `<option>` of a select. */
export interface Choice {
  value: string;
  label: string;
  disabled: boolean;
}

/** The processor select's options, in the server's order; one not set up is shown but disabled. */
export function processorChoices(processors: readonly ProcessorInfo[]): Choice[] {
  return processors.map((processor) => ({
    value: processor.name,
    label: processor.available
      ? processorLabel(processor.name)
      : `${processorLabel(processor.name)} (not set up on this server)`,
    disabled: !processor.available,
  }));
}

/** Whether a job with this processor can choose a model (not `local`: it has none). */
export function usesModel(processor: ProcessorInfo | undefined): boolean {
  return processor !== undefined && (processor.models.length > 0 || processor.default_model !== "");
}

/** The model select's options: the server's default first (the empty string), then each model. */
export function modelChoices(processor: ProcessorInfo): Choice[] {
  const fallback = processor.default_model ? `Server default (${processor.default_model})` : "Server default";
  return [
    { value: "", label: fallback, disabled: false },
    ...processor.models.map((model) => ({ value: model, label: model, disabled: false })),
  ];
}

/**
 * The preferences that new jobs can use on a server offering `processors`, and why they differ
 * from the saved ones: a processor that is unknown or not set up falls back to `local`, a model
 * the processor does not offer falls back to the server's default.
 */
export function applyProcessors(
  preferences: Preferences,
  processors: readonly ProcessorInfo[],
): { preferences: Preferences; notice: string | null } {
  const chosen = processors.find((processor) => processor.name === preferences.processor);
  if (chosen === undefined || !chosen.available) {
    const why = chosen === undefined ? "is not offered by this server" : "is not set up on this server";
    return {
      preferences: { ...preferences, processor: LOCAL, model: "" },
      notice: `Your saved processor, ${processorLabel(preferences.processor)}, ${why}: new jobs use the local processor.`,
    };
  }
  if (preferences.model !== "" && !chosen.models.includes(preferences.model)) {
    return {
      preferences: { ...preferences, model: "" },
      notice: `Your saved model, ${preferences.model}, is not offered by this server: new jobs use the server's default.`,
    };
  }
  return { preferences, notice: null };
}

/** What the settings page edits. */
export interface Preferences {
  limit: number;
  minWords: number;
  /** A processor name of the server's list (`GET /processors`). */
  processor: string;
  model: string;
  includeHeadings: boolean;
}

export const LIMIT_MIN = 3;
export const LIMIT_MAX = 30;
export const DEFAULT_PREFERENCES: Preferences = {
  limit: 8,
  minWords: 2,
  processor: LOCAL,
  model: "",
  includeHeadings: false,
};

/** The largest minimum for `limit` words: half of it, as the API requires. */
export function maxMinWords(limit: number): number {
  return Math.max(1, Math.floor(limit / 2));
}

/** What is wrong with `preferences`, field by field (empty when they are valid). */
export function validatePreferences(preferences: Preferences): Partial<Record<keyof Preferences, string>> {
  const problems: Partial<Record<keyof Preferences, string>> = {};
  const { limit, minWords } = preferences;
  if (!Number.isInteger(limit) || limit < LIMIT_MIN || limit > LIMIT_MAX) {
    problems.limit = `Choose a whole number from ${LIMIT_MIN} to ${LIMIT_MAX}.`;
  }
  if (!Number.isInteger(minWords) || minWords < 1 || minWords > maxMinWords(limit)) {
    problems.minWords = `Choose a whole number from 1 to ${maxMinWords(limit)} (half the limit).`;
  }
  if (preferences.model.length > 128) problems.model = "At most 128 characters.";
  return problems;
}

/** The saved preferences, or the defaults for anything missing or invalid. */
export function loadPreferences(): Preferences {
  try {
    const saved = JSON.parse(window.localStorage.getItem(KEY) ?? "{}") as Partial<Preferences>;
    const merged = { ...DEFAULT_PREFERENCES, ...saved };
    const shaped = typeof merged.processor === "string" && merged.processor !== "" && typeof merged.model === "string";
    if (!shaped || Object.keys(validatePreferences(merged)).length > 0) return DEFAULT_PREFERENCES;
    return merged;
  } catch {
    return DEFAULT_PREFERENCES;
  }
}

/** Save `preferences` for the next jobs. */
export function savePreferences(preferences: Preferences): void {
  window.localStorage.setItem(KEY, JSON.stringify(preferences));
}

/** The job settings that the API takes, from the user's preferences. */
export function toJobSettings(preferences: Preferences): JobSettings {
  return {
    limit: preferences.limit,
    min_words: preferences.minWords,
    include_headings: preferences.includeHeadings,
    processor: preferences.processor,
    model: preferences.processor === LOCAL ? "" : preferences.model.trim(),
  };
}
