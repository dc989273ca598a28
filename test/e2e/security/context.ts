// What the runner hands the browser security tests (set by security.e2e.ts, its before hook, for the *.test.js it loads).
import type { BrowserContext, Page } from 'playwright-core';
import type { CodeServer } from '../../../devkit/codeServer';
import type { Stack } from '../../../devkit/stack';
import type { GatewayTap } from '../gatewayTap';
import type { Shown } from './capture';
import type { RecordingServer } from './recorder';

export interface SecurityContext {
  context: BrowserContext;
  page: Page;
  /** code-server with the VSIX installed. */
  server: CodeServer;
  stack: Stack;
  tap: GatewayTap;
  /** The "other server" the redirecting workspace points at. */
  recorder: RecordingServer;
  /** Trusted workspace whose .env holds `envKey` for the stack gateway. */
  envWorkspace: string;
  /** Workspace whose .vscode/settings.json and .env point ehgTelemetry at the recorder. */
  redirectWorkspace: string;
  envKey: string;
  /** The key typed into Configure Connection… (a distinctive JWT the gateway accepts). */
  userKey: string;
  shown: Shown;
  screenshotsDir: string;
}

let current: SecurityContext | undefined;

export function setSecurityContext(ctx: SecurityContext | undefined): void {
  current = ctx;
}

export function sec(): SecurityContext {
  if (!current) throw new Error('the security context is not set: these tests are run by test/e2e/security.e2e.ts');
  return current;
}
