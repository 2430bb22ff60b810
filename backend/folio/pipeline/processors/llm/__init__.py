"""The LLM processors and what they share: prompt, answer checks, retries, limits, prices."""
