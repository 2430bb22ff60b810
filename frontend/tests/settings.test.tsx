import { act, cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { SettingsForm } from "@/components/settings/SettingsForm";
import type { Api } from "@/lib/api/client";
import { ApiError } from "@/lib/api/errors";
import type { ProcessorInfo } from "@/lib/api/types";
import {
  applyProcessors,
  DEFAULT_PREFERENCES,
  limitMeaning,
  loadPreferences,
  modelChoices,
  processorChoices,
  toJobSettings,
  usesModel,
} from "@/lib/settings";

import { dataWrapper, testApi } from "./data";

const LOCAL_INFO: ProcessorInfo = { name: "local", available: true, default_model: "", models: [] };
const GEMINI: ProcessorInfo = {
  name: "gemini",
  available: false,
  default_model: "gemini-2.5-flash",
  models: ["gemini-2.5-flash", "gemini-2.5-flash-lite"],
};
const OPENAI: ProcessorInfo = { name: "openai", available: true, default_model: "local-model", models: ["local-model"] };
const SERVER = [LOCAL_INFO, GEMINI, OPENAI];

const listProcessors = vi.fn<Api["listProcessors"]>();
const renderForm = () => render(<SettingsForm />, { wrapper: dataWrapper(testApi({ listProcessors })) });

const save = (preferences: object) => window.localStorage.setItem("folio.settings", JSON.stringify(preferences));

beforeEach(() => window.localStorage.clear());
afterEach(() => {
  cleanup();
  listProcessors.mockReset();
});

describe("settings mapping", () => {
  it("offers the server's processors in its order, those not set up disabled", () => {
    expect(processorChoices(SERVER)).toEqual([
      { value: "local", label: "Local (rules, fast, 1 credit a page)", disabled: false },
      { value: "gemini", label: "Gemini (hybrid: local cuts, then the language model) (not set up on this server)", disabled: true },
      { value: "openai", label: "OpenAI-compatible server (hybrid: local cuts, then the language model)", disabled: false },
    ]);
    expect(processorChoices([{ ...LOCAL_INFO, name: "mistral" }])[0]!.label).toBe("mistral");
  });

  it("offers the server's default model first, as the empty string", () => {
    expect(modelChoices(GEMINI).map((choice) => [choice.value, choice.label])).toEqual([
      ["", "Server default (gemini-2.5-flash)"],
      ["gemini-2.5-flash", "gemini-2.5-flash"],
      ["gemini-2.5-flash-lite", "gemini-2.5-flash-lite"],
    ]);
    expect(usesModel(LOCAL_INFO)).toBe(false);
    expect(usesModel(OPENAI)).toBe(true);
    expect(usesModel(undefined)).toBe(false);
  });

  it("keeps preferences the server can run", () => {
    const preferences = { ...DEFAULT_PREFERENCES, processor: "openai", model: "local-model" };
    expect(applyProcessors(preferences, SERVER)).toEqual({ preferences, notice: null });
  });

  it("falls back to local for a processor not set up or unknown, with a notice", () => {
    const gemini = applyProcessors({ ...DEFAULT_PREFERENCES, limit: 12, processor: "gemini", model: "gemini-2.5-flash" }, SERVER);
    expect(gemini.preferences).toEqual({ ...DEFAULT_PREFERENCES, limit: 12, processor: "local", model: "" });
    expect(gemini.notice).toMatch(/Gemini .* is not set up on this server: new jobs use the local processor/);
    const gone = applyProcessors({ ...DEFAULT_PREFERENCES, processor: "mistral" }, SERVER);
    expect(gone.preferences.processor).toBe("local");
    expect(gone.notice).toMatch(/mistral, is not offered by this server/);
  });

  it("falls back to the server's default for a model it does not offer", () => {
    const result = applyProcessors({ ...DEFAULT_PREFERENCES, processor: "openai", model: "gpt-9" }, SERVER);
    expect(result.preferences.model).toBe("");
    expect(result.notice).toMatch(/gpt-9/);
  });

  it("loads any processor name the server may offer, and sends no model for local", () => {
    save({ ...DEFAULT_PREFERENCES, processor: "mistral", model: "m-1" });
    expect(loadPreferences().processor).toBe("mistral");
    save({ ...DEFAULT_PREFERENCES, processor: 42 });
    expect(loadPreferences()).toEqual(DEFAULT_PREFERENCES);
    expect(toJobSettings({ ...DEFAULT_PREFERENCES, model: "stale" }).model).toBe("");
  });
});

describe("what the limit means", () => {
  it("says the local processor cuts only where the French allows", () => {
    expect(limitMeaning("local", 8)).toBe(
      "Cut where the French allows, never a fragment; longer sentences stay whole, shown in steps.",
    );
  });

  it("says a language model keeps every sentence within the limit", () => {
    expect(limitMeaning("gemini", 8)).toBe("Every sentence at most 8 words: local cuts first, the model rewrites the rest.");
    expect(limitMeaning("openai", 12)).toBe("Every sentence at most 12 words: local cuts first, the model rewrites the rest.");
    expect(limitMeaning("openai", Number.NaN)).toBe("Every sentence at most the limit: local cuts first, the model rewrites the rest.");
  });
});

describe("SettingsForm", () => {
  it("explains the limit for the chosen processor, and follows the limit typed", async () => {
    listProcessors.mockResolvedValue([LOCAL_INFO, { ...GEMINI, available: true }, OPENAI]);
    renderForm();
    const limit = screen.getByLabelText<HTMLInputElement>("Most words in a sentence");
    const hint = () => document.getElementById(limit.getAttribute("aria-describedby")!)!.textContent;
    expect(hint()).toBe(
      "From 3 to 30. Cut where the French allows, never a fragment; longer sentences stay whole, shown in steps.",
    );
    const processor = screen.getByLabelText<HTMLSelectElement>("Processor");
    await waitFor(() => expect(processor.disabled).toBe(false));
    fireEvent.change(processor, { target: { value: "gemini" } });
    fireEvent.change(limit, { target: { value: "12" } });
    expect(hint()).toBe("From 3 to 30. Every sentence at most 12 words: local cuts first, the model rewrites the rest.");
    fireEvent.change(processor, { target: { value: "openai" } });
    expect(hint()).toBe("From 3 to 30. Every sentence at most 12 words: local cuts first, the model rewrites the rest.");
  });

  it("waits for the server's list, then offers its processors and models", async () => {
    let answer: (list: ProcessorInfo[]) => void = () => undefined;
    listProcessors.mockReturnValue(new Promise((resolve) => (answer = resolve)));
    renderForm();
    const processor = screen.getByLabelText<HTMLSelectElement>("Processor");
    expect(processor.disabled).toBe(true);
    expect(screen.getByText(/Loading the processors/)).toBeTruthy();
    expect(screen.queryByLabelText("Model")).toBeNull();

    act(() => answer(SERVER));
    await waitFor(() => expect(processor.disabled).toBe(false));
    const gemini = screen.getByRole<HTMLOptionElement>("option", { name: /Gemini.*not set up on this server/ });
    expect(gemini.disabled).toBe(true);

    fireEvent.change(processor, { target: { value: "openai" } });
    const model = screen.getByLabelText<HTMLSelectElement>("Model");
    expect(model.value).toBe("");
    expect([...model.options].map((option) => option.text)).toEqual(["Server default (local-model)", "local-model"]);
    fireEvent.change(model, { target: { value: "local-model" } });
    fireEvent.click(screen.getByRole("button", { name: "Save settings" }));
    expect(loadPreferences()).toMatchObject({ processor: "openai", model: "local-model" });
  });

  it("says that a saved processor is not set up and falls back to local", async () => {
    save({ ...DEFAULT_PREFERENCES, processor: "gemini", model: "gemini-2.5-flash" });
    listProcessors.mockResolvedValue(SERVER);
    renderForm();
    expect(await screen.findByTestId("processor-notice")).toBeTruthy();
    expect(screen.getByLabelText<HTMLSelectElement>("Processor").value).toBe("local");
    expect(screen.queryByLabelText("Model")).toBeNull();
  });

  it("shows the API's error in words and can try again", async () => {
    save({ ...DEFAULT_PREFERENCES, processor: "openai" });
    listProcessors.mockRejectedValueOnce(new ApiError("network_error", "offline", 0)).mockResolvedValueOnce(SERVER);
    renderForm();
    const error = await screen.findByTestId("error-message");
    expect(error.getAttribute("data-code")).toBe("network_error");
    expect(screen.getByLabelText<HTMLSelectElement>("Processor").value).toBe("openai");
    fireEvent.click(screen.getByRole("button", { name: "Try again" }));
    await screen.findByRole("option", { name: /Gemini/ });
    expect(screen.queryByTestId("error-message")).toBeNull();
    expect(listProcessors).toHaveBeenCalledTimes(2);
  });
});
