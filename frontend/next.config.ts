import type { NextConfig } from "next";

// A static export (frontend/out) that the Flask API serves at `/`: one origin, no Node at
// run time. Job ids travel in query strings (/jobs/view?id=…), so no route needs
// generateStaticParams.
const nextConfig: NextConfig = {
  output: "export",
  reactStrictMode: true,
  poweredByHeader: false,
  images: { unoptimized: true },
};

// `next dev` only (docker-compose.dev.yml): forward /api/… to the API, so that the pages and
// the API still share one origin. The export never uses it.
const apiProxy = process.env.API_PROXY_URL;
if (process.env.NODE_ENV === "development" && apiProxy) {
  nextConfig.rewrites = async () => [{ source: "/api/:path*", destination: `${apiProxy}/api/:path*` }];
}

export default nextConfig;
