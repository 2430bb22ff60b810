"use client";

import { useId, useState, type FormEvent } from "react";

/** Asks for the password of a locked PDF and sends the file again with it. */
export function PasswordPrompt({ filename, onSubmit }: { filename: string; onSubmit: (password: string) => void }) {
  const id = useId();
  const [password, setPassword] = useState("");
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (password) onSubmit(password);
  }
  return (
    <form className="stack" onSubmit={submit}>
      <div className="field">
        <label htmlFor={id}>Password of “{filename}”</label>
        <input id={id} type="password" autoComplete="off" required value={password} onChange={(event) => setPassword(event.target.value)} />
      </div>
      <button type="submit" className="primary">
        Unlock and upload
      </button>
    </form>
  );
}
