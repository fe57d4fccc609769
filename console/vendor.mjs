// Copies the pinned libraries (package-lock.json) from node_modules into app/vendor, which the console loads as-is.
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const files = {
  "preact.module.js": "preact/dist/preact.module.js",
  "hooks.module.js": "preact/hooks/dist/hooks.module.js",
  "htm.module.js": "htm/dist/htm.module.js",
  "chart.umd.min.js": "chart.js/dist/chart.umd.min.js",
  "oidc-client-ts.min.js": "oidc-client-ts/dist/browser/oidc-client-ts.min.js",
};
const out = join(here, "app", "vendor");
mkdirSync(out, { recursive: true });
for (const [name, source] of Object.entries(files)) {
  copyFileSync(join(here, "node_modules", source), join(out, name));
}
writeFileSync(join(out, ".installed"), Object.values(files).join("\n") + "\n");
