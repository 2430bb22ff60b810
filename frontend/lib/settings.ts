/**
 * The user's job settings (sentence limit, minimum words, processor, model), kept in this
 * browser's localStorage: preferences, not secrets. They are sent with every new job.
 */
import type { JobSettings } from "@/lib/api/types";

const KEY = "folio.settings";

/** The processors a job may ask for; the server says (invalid_settings) if one is not set up. */
export const PROCESSORS = [
  { value: "local", label: "Local (rules, fast, 1 credit a page)" },
  { value: "gemini", label: "Gemini (language model)" },
  { value: "openai", label: "OpenAI-compatible server (language model)" },
] as const;

export type Processor = (typeof PROCESSORS)[number]["value"];

/** What the settings page edits. */
export interface Preferences {
  limit: number;
  minWords: number;
  processor: Processor;
  model: string;
  includeHeadings: boolean;
}

export const LIMIT_MIN = 3;
export const LIMIT_MAX = 30;
export const DEFAULT_PREFERENCES: Preferences = {
  limit: 8,
  minWords: 2,
  processor: "local",
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
    const known = PROCESSORS.some((processor) => processor.value === merged.processor);
    if (!known || Object.keys(validatePreferences(merged)).length > 0) return DEFAULT_PREFERENCES;
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
    model: preferences.processor === "local" ? "" : preferences.model.trim(),
  };
}
