import { defineConfig } from "@playwright/test";

// The release server on its own port with a fresh SQLite database and the offline model.
const port = Number(process.env.E2E_PORT ?? 3210);
const baseURL = `http://127.0.0.1:${port}`;
// A second server whose answers come from a slow fake model (end2end/fake-model.js).
export const slowPort = port + 1;
const fakeModelPort = port + 2;
// A page of another site (127.0.0.1 vs localhost) that embeds the widget.
export const hostPort = port + 3;
// A server on the fake model whose daily token budget per address is nearly nil.
export const budgetPort = port + 4;
// The docs team's token on the main server (its /admin pages).
export const adminToken = "end-to-end-admin-token-end-to-end-0123";

export default defineConfig({
  testDir: "./tests",
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"], ["json", { outputFile: "test-results/results.json" }]],
  use: {
    baseURL,
    trace: "off",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  webServer: [
    {
      command: "rm -rf target/e2e && mkdir -p target/e2e && exec target/release/server",
      cwd: "..",
      url: `${baseURL}/healthz`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: "ignore",
      stderr: "pipe",
      env: {
        LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
        LEPTOS_SITE_ROOT: "target/site",
        LEPTOS_OUTPUT_NAME: "paste-assistant",
        DATABASE_URL: "sqlite://target/e2e/e2e.db",
        DOCS_DIR: "docs",
        SESSION_SECRET: "end-to-end-secret-end-to-end-secret-0123",
        MAX_MESSAGE_CHARS: "2000",
        ADMIN_TOKEN: adminToken,
        RUST_LOG: "warn",
      },
    },
    {
      command: "node fake-model.js",
      url: `http://127.0.0.1:${fakeModelPort}/`,
      reuseExistingServer: false,
      env: { FAKE_MODEL_PORT: String(fakeModelPort), FAKE_MODEL_DELAY_MS: "4000" },
    },
    {
      command: "node host-page.js",
      url: `http://127.0.0.1:${hostPort}/healthz`,
      reuseExistingServer: false,
      env: { HOST_PORT: String(hostPort), ASSISTANT_URL: `http://localhost:${port}` },
    },
    {
      command: "rm -rf target/e2e-slow && mkdir -p target/e2e-slow && exec target/release/server",
      cwd: "..",
      url: `http://127.0.0.1:${slowPort}/healthz`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: "ignore",
      stderr: "pipe",
      env: {
        LEPTOS_SITE_ADDR: `127.0.0.1:${slowPort}`,
        LEPTOS_SITE_ROOT: "target/site",
        LEPTOS_OUTPUT_NAME: "paste-assistant",
        DATABASE_URL: "sqlite://target/e2e-slow/e2e.db",
        DOCS_DIR: "docs",
        SESSION_SECRET: "end-to-end-secret-end-to-end-secret-0123",
        OPENAI_BASE_URL: `http://127.0.0.1:${fakeModelPort}/v1`,
        OPENAI_MODEL: "fake-slow-model",
        OPENAI_MAX_RETRIES: "0",
        RUST_LOG: "warn",
      },
    },
    {
      command: "rm -rf target/e2e-budget && mkdir -p target/e2e-budget && exec target/release/server",
      cwd: "..",
      url: `http://127.0.0.1:${budgetPort}/healthz`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: "ignore",
      stderr: "pipe",
      env: {
        LEPTOS_SITE_ADDR: `127.0.0.1:${budgetPort}`,
        LEPTOS_SITE_ROOT: "target/site",
        LEPTOS_OUTPUT_NAME: "paste-assistant",
        DATABASE_URL: "sqlite://target/e2e-budget/e2e.db",
        DOCS_DIR: "docs",
        SESSION_SECRET: "end-to-end-secret-end-to-end-secret-0123",
        OPENAI_BASE_URL: `http://127.0.0.1:${fakeModelPort}/v1`,
        OPENAI_MODEL: "fake-budget-model",
        OPENAI_MAX_RETRIES: "0",
        TOKEN_BUDGET_PER_ADDR_PER_DAY: "1",
        RUST_LOG: "warn",
      },
    },
  ],
});
