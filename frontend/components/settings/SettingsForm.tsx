"use client";

import { useId, useState, type FormEvent } from "react";

import { ErrorMessage } from "@/components/ui/ErrorMessage";
import { useProcessors } from "@/lib/queries/processors";
import {
  applyProcessors,
  LIMIT_MAX,
  LIMIT_MIN,
  limitMeaning,
  loadPreferences,
  LOCAL,
  maxMinWords,
  modelChoices,
  processorChoices,
  processorLabel,
  savePreferences,
  usesModel,
  validatePreferences,
  type Choice,
  type Preferences,
} from "@/lib/settings";

/** The settings of the next jobs: sentence limit, minimum words, processor and model. */
export function SettingsForm() {
  const id = useId();
  // What the user edits, and what was last saved (whose notice shows until the next save).
  const [draft, setDraft] = useState<Preferences>(loadPreferences);
  const [stored, setStored] = useState<Preferences>(loadPreferences);
  const [saved, setSaved] = useState(false);
  // The server's processors: null while loading (or after an error); the select waits for them.
  const list = useProcessors();
  const processors = list.data ?? null;
  // While it reads the list again ("Try again"), the last error is not shown.
  const error = list.isFetching ? null : list.error;
  // The processor and model are fixed until the list is here, so applying it to the draft
  // only ever replaces a saved choice this server cannot run (as the notice says).
  const preferences = processors ? applyProcessors(draft, processors).preferences : draft;
  const notice = processors ? applyProcessors(stored, processors).notice : null;

  const problems = validatePreferences(preferences);
  const change = (patch: Partial<Preferences>) => {
    setDraft({ ...preferences, ...patch });
    setSaved(false);
  };

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (Object.keys(problems).length > 0) return;
    savePreferences(preferences);
    setStored(preferences);
    setSaved(true);
  }

  const field = (name: keyof Preferences) => ({
    id: `${id}-${name}`,
    "aria-invalid": problems[name] ? true : undefined,
    "aria-describedby": `${id}-${name}-hint`,
  });
  const hint = (name: keyof Preferences, text: string) => (
    <p id={`${id}-${name}-hint`} className={problems[name] ? "error" : "hint"}>
      {problems[name] ?? text}
    </p>
  );
  const loading = processors === null && list.isFetching;
  const chosen = processors?.find((processor) => processor.name === preferences.processor);
  // Until the list is here, the select shows the saved choice alone, and cannot be changed.
  const processorOptions: Choice[] = processors
    ? processorChoices(processors)
    : [{ value: preferences.processor, label: processorLabel(preferences.processor), disabled: false }];
  const showModel = processors ? usesModel(chosen) : preferences.processor !== LOCAL;
  const modelOptions: Choice[] = chosen
    ? modelChoices(chosen)
    : [{ value: preferences.model, label: preferences.model || "Server default", disabled: false }];
  const processorHint = loading
    ? "Loading the processors of this server…"
    : processors === null
      ? "The processors of this server could not be loaded; your saved choice is kept."
      : "Language models must be set up on the server; those that are not cannot be chosen.";
  return (
    <form className="card narrow stack" onSubmit={submit} data-testid="settings-form" aria-labelledby={`${id}-title`}>
      <h1 id={`${id}-title`}>Settings</h1>
      <p className="muted">Used for your next jobs, in this browser.</p>
      <div className="field">
        <label htmlFor={`${id}-limit`}>Most words in a sentence</label>
        <input
          {...field("limit")}
          type="number"
          inputMode="numeric"
          min={LIMIT_MIN}
          max={LIMIT_MAX}
          required
          value={Number.isNaN(preferences.limit) ? "" : preferences.limit}
          onChange={(event) => change({ limit: event.target.valueAsNumber })}
        />
        {hint("limit", `From ${LIMIT_MIN} to ${LIMIT_MAX}. ${limitMeaning(preferences.processor, preferences.limit)}`)}
      </div>
      <div className="field">
        <label htmlFor={`${id}-minWords`}>Fewest words in a piece of a cut sentence</label>
        <input
          {...field("minWords")}
          type="number"
          inputMode="numeric"
          min={1}
          max={maxMinWords(preferences.limit || LIMIT_MIN)}
          required
          value={Number.isNaN(preferences.minWords) ? "" : preferences.minWords}
          onChange={(event) => change({ minWords: event.target.valueAsNumber })}
        />
        {hint("minWords", "At most half the limit.")}
      </div>
      <div className="field">
        <label htmlFor={`${id}-processor`}>Processor</label>
        <select
          {...field("processor")}
          value={preferences.processor}
          disabled={processors === null}
          aria-busy={loading || undefined}
          onChange={(event) => change({ processor: event.target.value, model: "" })}
        >
          {processorOptions.map((option) => (
            <option key={option.value} value={option.value} disabled={option.disabled}>
              {option.label}
            </option>
          ))}
        </select>
        <p id={`${id}-processor-hint`} className="hint" role="status">
          {processorHint}
        </p>
        {error && (
          <div className="stack">
            <ErrorMessage error={error} />
            <button type="button" onClick={() => void list.refetch()}>
              Try again
            </button>
          </div>
        )}
        {notice && (
          <p className="warning" role="status" data-testid="processor-notice">
            {notice}
          </p>
        )}
      </div>
      {showModel && (
        <div className="field">
          <label htmlFor={`${id}-model`}>Model</label>
          <select
            {...field("model")}
            value={preferences.model}
            disabled={chosen === undefined}
            onChange={(event) => change({ model: event.target.value })}
          >
            {modelOptions.map((option) => (
              <option key={option.value} value={option.value}>
                {option.label}
              </option>
            ))}
          </select>
          {hint("model", "The server's default model unless you choose one.")}
        </div>
      )}
      <div className="checkbox">
        <input
          id={`${id}-headings`}
          type="checkbox"
          checked={preferences.includeHeadings}
          onChange={(event) => change({ includeHeadings: event.target.checked })}
        />
        <label htmlFor={`${id}-headings`}>Keep chapter headings as rows of their own</label>
      </div>
      <button type="submit" className="primary" disabled={Object.keys(problems).length > 0}>
        Save settings
      </button>
      <p role="status" className="success">
        {saved ? "Saved. Your next jobs use these settings." : ""}
      </p>
    </form>
  );
}
