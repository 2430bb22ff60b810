import Link from "next/link";

/** The export's 404.html, served by Flask for unknown pages. */
export default function NotFound() {
  return (
    <section className="card narrow stack">
      <h1>Page not found</h1>
      <p>
        There is nothing at this address. <Link href="/">Go to the upload page</Link>.
      </p>
    </section>
  );
}
