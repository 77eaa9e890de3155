import type { Flavor, PluginNames } from '../names';

/** The README every plugin starts from; the headings are the ones bevzip's own plugins use. */
export function readme(n: PluginNames, description: string, flavor: Flavor): string {
  const install =
    flavor === 'workspace'
      ? `npm install   # at the workspace root, links ${n.packageName}`
      : `npm install ${n.packageName}`;
  return `# ${n.packageName}

${description}

A compression plugin for bevzip. It registers itself only when asked, and a bevzip pipeline file
loads it by package name.

## Install

\`\`\`sh
${install}
\`\`\`

## Use

In a pipeline file (\`npx bevzip compress --pipeline pipeline.json\`):

\`\`\`json
{ "name": "train", "steps": 100, "plugins": [{ "use": "${n.packageName}", "options": { "weight": 0.0001 } }] }
\`\`\`

From code:

\`\`\`ts
import 'reflect-metadata';
import { container } from 'tsyringe';
import { register } from '${n.packageName}';

register(container, { weight: 1e-4 });
\`\`\`

## Options

| option | type | default | meaning |
|---|---|---|---|
| \`weight\` | number > 0 | \`0.0001\` | weight of the penalty in the total loss |
| \`modality\` | array of \`camera\`, \`lidar\`, \`fusion\`, \`shared\` | all | penalise only weights tagged with these modalities |

## Hooks

| hook | what it does |
|---|---|
| \`loss\` | adds the term \`l1\` = mean \\|w\\| over the selected weights |

## Choices the method leaves open

Describe here what the paper does not pin down and what this package picked.

## Results

Fill in with \`npx bevzip compress\` runs: metric, size and latency before and after.

## Development

\`\`\`sh
npm run build   # tsc to dist/
npm test        # jest: plugin-tester cases, the conformance suite, the reference checks
\`\`\`
`;
}
