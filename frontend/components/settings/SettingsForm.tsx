"use client";

import { useId, useState, type FormEvent } from "react";

import {
  LIMIT_MAX,
  LIMIT_MIN,
  loadPreferences,
  maxMinWords,
  PROCESSORS,
  savePreferences,
  validatePreferences,
  type Preferences,
  type Processor,
} from "@/lib/settings";

/** The settings of the next jobs: sentence limit, minimum words, processor and model. */
export function SettingsForm() {
  const id = useId();
  const [preferences, setPreferences] = useState<Preferences>(loadPreferences);
  const [saved, setSaved] = useState(false);
  const problems = validatePreferences(preferences);
  const change = (patch: Partial<Preferences>) => {
    setPreferences((current) => ({ ...current, ...patch }));
    setSaved(false);
  };

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (Object.keys(problems).length > 0) return;
    savePreferences(preferences);
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
  const llm = preferences.processor !== "local";
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
        {hint("limit", `From ${LIMIT_MIN} to ${LIMIT_MAX}. Longer sentences are cut at their clauses.`)}
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
          onChange={(event) => change({ processor: event.target.value as Processor })}
        >
          {PROCESSORS.map((processor) => (
            <option key={processor.value} value={processor.value}>
              {processor.label}
            </option>
          ))}
        </select>
        {hint("processor", "Language models must be set up on the server; the job is refused otherwise.")}
      </div>
      <div className="field">
        <label htmlFor={`${id}-model`}>Model</label>
        <input
          {...field("model")}
          type="text"
          maxLength={128}
          disabled={!llm}
          placeholder={llm ? "The server's default" : "Not used by the local processor"}
          value={preferences.model}
          onChange={(event) => change({ model: event.target.value })}
        />
        {hint("model", "Leave empty for the server's default model, e.g. gemini-2.5-flash.")}
      </div>
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
