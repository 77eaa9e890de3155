import type { Command } from 'commander';
import { writeReport } from '../report/write-report';

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('(re)write report.html of a compress output folder from its summary.json and events.jsonl')
    .argument('[dir]', 'output folder of bevzip compress', 'bevzip-out')
    .action(async (dir: string) => {
      process.stdout.write(`${await writeReport(dir)}\n`);
    });
}
