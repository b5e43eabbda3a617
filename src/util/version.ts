/** fpm's own version, read once from the package.json beside dist/ (the one place it is written). */
import fs from "node:fs";

/** From dist/src/util/ (where this runs) the package root is three levels up. */
const PACKAGE_JSON = new URL("../../../package.json", import.meta.url);

/** The `version` field of fpm's package.json, for example `0.1.0`. */
export const PACKAGE_VERSION: string = (JSON.parse(fs.readFileSync(PACKAGE_JSON, "utf8")) as { version: string })
  .version;
