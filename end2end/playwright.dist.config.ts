import { defineConfig } from "@playwright/test";
import base from "./playwright.config";

// The release archive's executable, started by scripts/test-dist from an empty folder with a
// clean environment; its address comes in DIST_URL.
export default defineConfig({
  ...base,
  testDir: "./dist",
  // Its own output folder: Playwright empties it first, and test-results/ holds the main run's
  // results.json and screenshots.
  outputDir: "test-results/dist",
  reporter: [["list"], ["json", { outputFile: "test-results/dist-results.json" }]],
  use: { ...base.use, baseURL: process.env.DIST_URL },
  webServer: undefined,
});
