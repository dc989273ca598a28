// The command bodies, by group: a bundle of its own (dist/commands.js, esbuild.js), loaded on the
// first command; lazyCommands.ts registers every command at activation and calls these handlers.
// Every command reports its own failures in plain words with a fix; none throws.
import type { CommandHandler, CommandHandlers, CommandId } from '../lazyCommands';
import { connectionCommands, ConnectionCommandParts } from './connection';
import { drillDownCommands, DrillDownCommandParts } from './drillDown';
import { runCommands, RunCommandParts } from './runs';
import { schedulerCommands, SchedulerCommandParts } from './scheduler';
import { disposeTrends, trendsCommands, TrendsCommandParts } from './trends';

export { confirmModal } from './shared';
export type { Confirm } from './shared';

/** Each group's parts; each group takes only its own. */
export interface CommandParts {
  connection: ConnectionCommandParts;
  runs: RunCommandParts;
  scheduler: SchedulerCommandParts;
  trends: TrendsCommandParts;
  drillDown: DrillDownCommandParts;
}

export function createCommandHandlers(p: CommandParts): CommandHandlers {
  const handlers = Object.fromEntries([
    ...connectionCommands(p.connection),
    ...runCommands(p.runs),
    ...schedulerCommands(p.scheduler),
    ...trendsCommands(p.trends),
    ...drillDownCommands(p.drillDown),
  ]) as Record<CommandId, CommandHandler>;
  return Object.assign(handlers, { dispose: () => disposeTrends() });
}
