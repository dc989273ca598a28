// The commands of package.json (`ehgTelemetry.<id>`) whose bodies are in commands.ts. No `vscode`
// import: a unit test checks the list against the manifest.
export const COMMAND_IDS = [
  'configureConnection',
  'clearCredentials',
  'triggerRun',
  'refresh',
  'cancelRun',
  'showRunDetails',
  'copyRunId',
  'showSchedulerDetails',
  'showWorkspaceRuns',
  'showAllScopes',
  'openLog',
  'loadMore',
  'showTrends',
  'showImprovementItem',
  'goToDefinition',
] as const;
export type CommandId = (typeof COMMAND_IDS)[number];

/** Registered at activation by their own modules, not by commands.ts. */
export const OTHER_COMMAND_IDS = ['resetNotifications'] as const;
