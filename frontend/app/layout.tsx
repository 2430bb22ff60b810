import type { Metadata, Viewport } from "next";
import type { ReactNode } from "react";

import { AuthProvider } from "@/components/auth/AuthProvider";
import { Header } from "@/components/layout/Header";
import { DataProvider } from "@/lib/queries/DataProvider";

import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Folio", template: "%s · Folio" },
  description: "French novels as short sentences for language learners.",
};

export const viewport: Viewport = { width: "device-width", initialScale: 1 };

/** The page frame: header with the balance, then the page (signed-in pages: `(signed-in)/`). */
export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <DataProvider>
          <AuthProvider>
            <Header />
            <main id="main" tabIndex={-1}>
              {children}
            </main>
          </AuthProvider>
        </DataProvider>
      </body>
    </html>
  );
}
