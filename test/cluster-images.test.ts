import { strict as assert } from 'assert';
import { existsSync, readFileSync } from 'fs';
import * as path from 'path';

import * as yaml from 'js-yaml';

const ROOT = path.resolve(__dirname, '..');
const DOCKERFILE = path.join(ROOT, 'k8s', 'images', 'Dockerfile');

interface Instruction {
  keyword: string;
  value: string;
  stage: string;
}

/** Parses a Dockerfile into instructions, joining continued lines and dropping comments. */
function parseDockerfile(text: string): { args: Map<string, string>; instructions: Instruction[] } {
  const joined = text.replace(/\\\n/g, ' ');
  const args = new Map<string, string>();
  const instructions: Instruction[] = [];
  let stage = '';
  for (const raw of joined.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [keyword, ...rest] = line.split(/\s+/);
    const value = rest.join(' ');
    if (keyword.toUpperCase() === 'ARG' && stage === '' && value.includes('=')) {
      const [name, ...parts] = value.split('=');
      args.set(name, parts.join('=').replace(/^"|"$/g, ''));
    }
    if (keyword.toUpperCase() === 'FROM') stage = value.split(/\s+AS\s+/i)[1] ?? value;
    instructions.push({ keyword: keyword.toUpperCase(), value, stage });
  }
  return { args, instructions };
}

function expand(value: string, args: Map<string, string>): string {
  return value.replace(/\$\{(\w+)\}|\$(\w+)/g, (_match, braced, bare) => args.get(braced ?? bare) ?? '');
}

describe('cluster images (k8s/images/Dockerfile)', () => {
  const { args, instructions } = parseDockerfile(readFileSync(DOCKERFILE, 'utf8'));
  const stageNames = new Set(
    instructions.filter((entry) => entry.keyword === 'FROM').map((entry) => entry.value.split(/\s+AS\s+/i)[1]),
  );

  it('has a cpu and a gpu target', () => {
    assert.ok(stageNames.has('cpu'), 'no stage named cpu');
    assert.ok(stageNames.has('gpu'), 'no stage named gpu');
  });

  it('pins every base image by tag', () => {
    for (const entry of instructions.filter((instruction) => instruction.keyword === 'FROM')) {
      const image = expand(entry.value.split(/\s+/)[0], args);
      if (stageNames.has(image)) continue;
      const tag = image.includes(':') ? image.slice(image.lastIndexOf(':') + 1) : '';
      assert.ok(tag !== '' && tag !== 'latest', `base image ${image} is not pinned by tag`);
      assert.match(tag, /\d/, `base image ${image} has a tag without a version number`);
    }
  });

  it('runs both images as a user without root rights', () => {
    for (const target of ['cpu', 'gpu']) {
      const users = instructions.filter((entry) => entry.stage === target && entry.keyword === 'USER');
      assert.ok(users.length > 0, `stage ${target} sets no USER`);
      const user = users[users.length - 1].value.split(':')[0];
      assert.notEqual(user, 'root', `stage ${target} runs as root`);
      assert.notEqual(user, '0', `stage ${target} runs as uid 0`);
    }
  });

  it('copies only project paths that exist', () => {
    const copies = instructions.filter((entry) => entry.keyword === 'COPY' && !entry.value.startsWith('--from'));
    assert.ok(copies.length > 0);
    for (const copy of copies) {
      const sources = copy.value.split(/\s+/).slice(0, -1);
      for (const source of sources) {
        assert.ok(existsSync(path.join(ROOT, source)), `COPY source ${source} does not exist in the project`);
      }
    }
  });

  it('starts programs that the project has', () => {
    assert.ok(existsSync(path.join(ROOT, 'bin', 'fashion-gan.js')));
    assert.ok(existsSync(path.join(ROOT, 'setup', 'tensorflow.sh')));
    const runs = instructions.filter((entry) => entry.keyword === 'RUN').map((entry) => entry.value);
    assert.ok(runs.some((run) => run.includes('setup/tensorflow.sh cpu')), 'the cpu build does not run setup/tensorflow.sh cpu');
    assert.ok(runs.some((run) => run.includes('setup/tensorflow.sh gpu')), 'the gpu build does not run setup/tensorflow.sh gpu');
    assert.ok(runs.some((run) => run.includes('ln -s /app/bin/fashion-gan.js /usr/local/bin/fashion-gan')));

    // pipeline.yaml's commands start with `fashion-gan`, the link the images make.
    const pipeline = yaml.load(readFileSync(path.join(ROOT, 'pipeline.yaml'), 'utf8')) as {
      stages: Record<string, { container: { image: string; command: string[] } }>;
    };
    for (const [name, stage] of Object.entries(pipeline.stages)) {
      assert.equal(stage.container.command[0], 'fashion-gan', `stage ${name} starts ${stage.container.command[0]}`);
    }
  });

  it('bakes no credentials into the images', () => {
    const secretLike = /(SECRET|PASSWORD|TOKEN|ACCESS_KEY|PRIVATE_KEY)\s*=/i;
    for (const entry of instructions.filter((instruction) => ['ENV', 'ARG'].includes(instruction.keyword))) {
      assert.doesNotMatch(entry.value, secretLike, `${entry.keyword} ${entry.value} looks like a credential`);
    }
    const ignore = readFileSync(`${DOCKERFILE}.dockerignore`, 'utf8');
    for (const pattern of ['.git', 'node_modules', '**/*.env', '**/.aws', '**/kubeconfig*']) {
      assert.ok(ignore.split('\n').includes(pattern), `Dockerfile.dockerignore lacks ${pattern}`);
    }
  });
});
