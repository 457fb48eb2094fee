/** `costs`: the spend report of the run ledger, by total, tag, model, day, month or pipeline. */
import { type Command } from 'commander';
import { COST_DIMENSIONS, type CostDimension } from '../../model/session.js';
import { dateRange } from '../../model/validation/user-input.js';
import { type Action, type Context } from '../context.js';
import { EXIT, usageError } from '../exit-codes.js';
import { collect, dateFlag, tagsArg } from '../flags.js';
import { colorEnabled, palette, printJson } from '../output.js';
import { costText } from '../reports.js';

export const registerCostsCommand = (program: Command, action: Action): void => {
  program
    .command('costs')
    .description('spend report from the run ledger (bar chart for --by day)')
    .option('--by <dimension>', 'total, tag, model, day, month or pipeline', 'total')
    .option('--since <date>', 'runs started at or after (YYYY-MM-DD or ISO date-time)')
    .option('--until <date>', 'runs started before')
    .option('--tag <tag>', 'only sessions with any of these tags (repeatable)', collect)
    .action(action(costs));
};

async function costs(ctx: Context, flags: { by?: string; since?: string; until?: string; tag?: string[] }): Promise<number> {
  const by = flags.by ?? 'total';
  if (!(COST_DIMENSIONS as readonly string[]).includes(by)) throw usageError('--by', `must be one of ${COST_DIMENSIONS.join(', ')}`);
  const since = dateFlag(flags.since, '--since');
  const until = dateFlag(flags.until, '--until');
  dateRange(since, until, '--since', '--until');
  const tags = tagsArg(flags.tag);
  const store = await ctx.store();
  const report = await store.costReport({ by: by as CostDimension, ...(since ? { since } : {}), ...(until ? { until } : {}), ...(tags.length ? { tags } : {}) });
  if (ctx.io.json) printJson(ctx.io, report);
  else ctx.io.stdout.write(costText(report, palette(colorEnabled(ctx.io.stdout, ctx.io.env))));
  return EXIT.ok;
}
