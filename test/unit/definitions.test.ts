import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DIMENSIONS } from '../../devkit/stack/analysisShapes';
import {
  agentBaseName,
  agentNameLine,
  DefinitionBounds,
  DefinitionHit,
  DefinitionIO,
  declarationPatterns,
  escapeRegExp,
  executorDirectory,
  findGateDeclaration,
  handoffDirectory,
  hasDefinition,
  isGateFile,
  isScriptFile,
  rankHits,
  searchDefinitions,
  splitLines,
  subagentPaths,
} from '../../src/domain/definitions';
import { HOSTILE_TEXTS } from './helpers';

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'ehg-workspace');

/** Keys with every regular-expression metacharacter, quotes, and text from the parsing tests. */
const HOSTILE_KEYS = [
  'GATE.*',
  'GATE_(A|B)',
  'GATE+',
  'GATE_[X]',
  'GATE_\\d',
  '^GATE$',
  'GATE_{2}',
  'GATE?',
  'a/b\\c',
  "GATE_'QUOTE'",
  'GATE_"DQ"',
  'GATE_`BT`',
  '$&$1',
  ...HOSTILE_TEXTS.filter((t) => !/[\r\n]/.test(t)),
];

describe('definitions: hasDefinition', () => {
  it('gate and subagent have a definition; phase and anything else do not', () => {
    assert.equal(hasDefinition('gate'), true);
    assert.equal(hasDefinition('subagent'), true);
    for (const t of ['phase', '', 'Gate', 'GATE', 'gate ', 'sub-agent', 'subagents', 'constructor', '__proto__'])
      assert.equal(hasDefinition(t), false, t);
  });
});

describe('definitions: escapeRegExp and the declaration patterns', () => {
  for (const key of HOSTILE_KEYS) {
    it(`the key ${JSON.stringify(key)} matches itself literally and nothing else`, () => {
      const exact = new RegExp(`^${escapeRegExp(key)}$`);
      assert.ok(exact.test(key));
      assert.ok(!exact.test(`${key}X`));
      assert.ok(!exact.test(key.slice(1)));
      const { literal, constant } = declarationPatterns(key);
      for (const q of ["'", '"', '`']) {
        assert.ok(literal.test(`  name: ${q}${key}${q},`), `literal with ${q}`);
        assert.ok(constant.test(`const GATE_NAME = ${q}${key}${q};`), `constant with ${q}`);
      }
    });
  }

  it('a metacharacter key never matches what its unescaped pattern would', () => {
    assert.equal(findGateDeclaration("  name: 'GATE_X',", 'GATE.*'), null);
    assert.equal(findGateDeclaration("  name: 'GATE_A',", 'GATE_(A|B)'), null);
    assert.equal(findGateDeclaration("  name: 'GATEEE',", 'GATE+'), null);
    assert.equal(findGateDeclaration("  name: 'GATE_X',", 'GATE_[X]'), null);
    assert.equal(findGateDeclaration("  name: 'GATE_7',", 'GATE_\\d'), null);
    assert.equal(findGateDeclaration("  name: 'GATE__',", 'GATE_{2}'), null);
  });
});

describe('definitions: findGateDeclaration', () => {
  it('the literal shape in a gate object, any of the three quotes, lands on its line', () => {
    const text = ['export function createGate() {', '  return {', "    name: 'GATE_SD_QUALITY',", '  };', '}'].join(
      '\n',
    );
    assert.deepEqual(findGateDeclaration(text, 'GATE_SD_QUALITY'), {
      line: 2,
      preview: "name: 'GATE_SD_QUALITY',",
      shape: 'literal',
    });
    assert.equal(findGateDeclaration('\tname:"G1"', 'G1')?.shape, 'literal');
    assert.equal(findGateDeclaration('name:`G1`', 'G1')?.line, 0);
    assert.equal(findGateDeclaration("  name: 'G1' // blocking", 'G1')?.shape, 'literal');
    assert.equal(findGateDeclaration("  name: 'G1' /* blocking */,", 'G1')?.shape, 'literal');
    assert.equal(findGateDeclaration("  name: 'G1' }", 'G1')?.shape, 'literal');
    assert.equal(findGateDeclaration("  name: 'G1'\t", 'G1')?.shape, 'literal');
  });

  it('the constant shape (const and export const, upper-case names only)', () => {
    const text =
      "import x from 'y';\n\nconst GATE_NAME = 'CONSUMER_IMPACT_ADVISORY';\n\nexport function f() {\n  return { name: GATE_NAME };\n}";
    assert.deepEqual(findGateDeclaration(text, 'CONSUMER_IMPACT_ADVISORY'), {
      line: 2,
      preview: "const GATE_NAME = 'CONSUMER_IMPACT_ADVISORY';",
      shape: 'constant',
    });
    assert.equal(findGateDeclaration("export const GATE5 = 'G';", 'G')?.shape, 'constant');
    assert.equal(findGateDeclaration('  export   const  A_1="G"', 'G')?.shape, 'constant');
    assert.equal(findGateDeclaration("const gateName = 'G';", 'G'), null, 'lower-case constant');
    assert.equal(findGateDeclaration("let GATE_NAME = 'G';", 'G'), null, 'let is not the shape');
    assert.equal(findGateDeclaration("const G1 = 'G'", 'G')?.shape, 'constant', 'no semicolon');
    assert.equal(findGateDeclaration("const G1 = 'G'; // the gate", 'G')?.shape, 'constant');
  });

  it('a key that is a prefix or a suffix of another never matches it (GATE_A vs GATE_AB)', () => {
    assert.equal(findGateDeclaration("  name: 'GATE_AB',\nconst X = 'GATE_AB';", 'GATE_A'), null);
    assert.equal(findGateDeclaration("  name: 'XGATE_A',", 'GATE_A'), null);
    const both = "  name: 'GATE_AB',\n  name: 'GATE_A',\n";
    assert.equal(findGateDeclaration(both, 'GATE_A')?.line, 1);
    assert.equal(findGateDeclaration(both, 'GATE_AB')?.line, 0);
  });

  it('the first match in a file wins: later result objects repeat the name', () => {
    const text = [
      "const GATE_NAME = 'ADRS_CONSULTED';",
      'export function createGate() {',
      '  return {',
      '    name: GATE_NAME,',
      '    validator: async () => {',
      "      if (x) return { name: 'ADRS_CONSULTED', passed: false };",
      '      return {',
      "        name: 'ADRS_CONSULTED',",
      '        passed: true,',
      '      };',
    ].join('\n');
    assert.deepEqual(findGateDeclaration(text, 'ADRS_CONSULTED'), {
      line: 0,
      preview: "const GATE_NAME = 'ADRS_CONSULTED';",
      shape: 'constant',
    });
    // Without the constant, the first literal line (the inline `{ name:` is not the shape).
    assert.equal(findGateDeclaration(text.split('\n').slice(1).join('\n'), 'ADRS_CONSULTED')?.line, 6);
  });

  it('what is not a declaration: comments, mismatched quotes, other properties, the key inside a longer string', () => {
    for (const line of [
      "// name: 'G',",
      " * name: 'G',",
      '  name: \'G",',
      "  gate_name: 'G',",
      "  displayName: 'G',",
      "  name: 'G ',",
      "  name: ' G',",
      "  name: 'prefix G',",
      "  { name: 'G' }",
      "  name = 'G'",
      "const GATE = 'G' + suffix;",
      "  name: 'G' + SUFFIX,",
      "  name: 'G'.toLowerCase(),",
    ])
      assert.equal(findGateDeclaration(line, 'G'), null, line);
  });

  it('CRLF, lone CR and mixed line ends number lines as the editor does', () => {
    assert.equal(findGateDeclaration("a\r\nb\r\n  name: 'G',\r\n", 'G')?.line, 2);
    assert.equal(findGateDeclaration("a\rb\r  name: 'G',", 'G')?.line, 2);
    assert.equal(findGateDeclaration("a\r\nb\nc\rd\r\n\r\n  name: 'G',", 'G')?.line, 5);
    assert.equal(findGateDeclaration("a\r\n  name: 'G',\r\n", 'G')?.preview, "name: 'G',");
    assert.deepEqual(splitLines('a\r\nb\rc\nd'), ['a', 'b', 'c', 'd']);
  });

  it('huge lines (minified code, data) are searched quickly and the preview stays bounded', () => {
    const huge = `${'x'.repeat(2_000_000)}'GATE_BIG'`;
    const text = `${huge}\n${' '.repeat(100_000)}name: 'GATE_BIG',${'y'.repeat(500_000)}\n  name: 'GATE_BIG',`;
    const started = Date.now();
    const hit = findGateDeclaration(text, 'GATE_BIG');
    assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms`);
    assert.equal(hit?.line, 1);
    assert.ok(hit && hit.preview.length <= 160 && !/[\r\n]/.test(hit.preview), 'bounded single line');
  });

  it('control characters and bidi overrides in the declaration line are not in the preview', () => {
    const hit = findGateDeclaration("  name: 'G', // \u202e\u0007evil\u0000", 'G');
    assert.equal(hit?.preview, "name: 'G', // evil");
  });

  it('an empty key, or a key not in the text, finds nothing', () => {
    assert.equal(findGateDeclaration("  name: '',", ''), null);
    assert.equal(findGateDeclaration('', 'G'), null);
  });

  for (const key of HOSTILE_KEYS) {
    it(`a hostile key is found where declared, and only there: ${JSON.stringify(key)}`, () => {
      const q = key.includes("'") ? (key.includes('"') ? '`' : '"') : "'";
      const text = `// ${key}\n  name: 'OTHER',\n  name: ${q}${key}${q},\n`;
      const hit = findGateDeclaration(text, key);
      assert.equal(hit?.line, 2);
      assert.equal(findGateDeclaration(`  name: ${q}${key}X${q},`, key), null);
    });
  }
});

describe('definitions: agentNameLine', () => {
  it('the name: line of the front matter', () => {
    assert.deepEqual(agentNameLine('---\nname: design-agent\ndescription: "x"\n---\n# Design'), {
      line: 1,
      preview: 'name: design-agent',
    });
    assert.equal(agentNameLine('---\r\ndescription: x\r\nname: rca-agent\r\n---\r\n').line, 2);
  });

  it('no front matter, or no name in it: the first non-blank line', () => {
    assert.deepEqual(agentNameLine('\n\n# Testing agent\nname: not front matter'), {
      line: 2,
      preview: '# Testing agent',
    });
    assert.equal(agentNameLine('---\ndescription: x\n---\nname: after the front matter').line, 0);
    assert.equal(agentNameLine('').line, 0);
    assert.equal(agentNameLine('  \n\t\n').line, 0);
  });

  it('a hostile name line is previewed bounded and single-line', () => {
    const p = agentNameLine(`---\nname: ${'[x](command:evil) '.repeat(100)}\u202e\n---`).preview;
    assert.ok(p.length <= 160 && !/[\r\n\u202e]/.test(p), p);
  });
});

describe('definitions: which files are searched', () => {
  const gates: [string, boolean][] = [
    ['scripts/modules/handoff/executors/plan-to-exec/gates/prd-gate.js', true],
    ['scripts/modules/handoff/executors/plan-to-exec/gates/sub/deep.mjs', true],
    ['scripts/modules/handoff/gates/core-protocol-gate.cjs', true],
    ['scripts/modules/handoff/executors/lead-final-approval/gates.js', true],
    ['scripts/modules/handoff/executors/lead-final-approval/gates.ts', true],
    ['scripts/modules/handoff/validation/validator-registry/gates/x.ts', true],
    ['scripts/modules/handoff/executors/plan-to-exec/gates/__tests__/prd-gate.js', false],
    ['scripts/modules/handoff/executors/plan-to-exec/gates/prd-gate.test.js', false],
    ['scripts/modules/handoff/executors/plan-to-exec/gates/prd-gate.spec.ts', false],
    ['scripts/modules/handoff/executors/plan-to-exec/gates/types.d.ts', false],
    ['scripts/modules/handoff/node_modules/x/gates/a.js', false],
    ['scripts/modules/handoff/executors/plan-to-exec/gates/README.md', false],
    ['scripts/modules/handoff/executors/plan-to-exec/gates/data.json', false],
    ['scripts/modules/handoff/executors/BaseExecutor.js', false],
    ['scripts/modules/handoff/executors/plan-to-exec/gates.json', false],
    ['scripts/modules/handoff/executors/plan-to-exec/my-gates.js', false],
    ['scripts/modules/other/gates/x.js', false],
    ['lib/gates/x.js', false],
    ['scripts/modules/handoff/executors/../../../../etc/gates/x.js', false],
  ];
  for (const [p, want] of gates) it(`gate file? ${p} → ${want}`, () => assert.equal(isGateFile(p), want));

  it('the fallback reads any source under scripts/, with the same exclusions', () => {
    assert.equal(isScriptFile('scripts/modules/handoff/executors/BaseExecutor.js'), true);
    assert.equal(isScriptFile('scripts/a.ts'), true);
    assert.equal(isScriptFile('scripts/a.test.ts'), false);
    assert.equal(isScriptFile('scripts/node_modules/a.js'), false);
    assert.equal(isScriptFile('lib/a.js'), false);
    assert.equal(isScriptFile('scripts/a.md'), false);
  });
});

describe('definitions: sub-agent files', () => {
  it('upstream codes map to kebab-case agent files; a key already ending in -agent is accepted', () => {
    for (const [key, base] of [
      ['DESIGN', 'design'],
      ['ORCHESTRATOR_CHILD', 'orchestrator-child'],
      ['testing-agent', 'testing'],
      ['TESTING-AGENT', 'testing'],
      ['Testing_Agent', 'testing'],
      ['rca', 'rca'],
      [' RCA ', 'rca'],
      ['DESIGN\n', 'design'],
      ['agent', 'agent'],
      ['API2', 'api2'],
    ])
      assert.equal(agentBaseName(key), base, key);
  });

  it('a key that is not a plain code names no file (no path can leave .claude/agents/)', () => {
    for (const key of [
      '',
      '  ',
      '-agent',
      '../../etc/passwd',
      '..',
      'a/b',
      'a\\b',
      'design agent',
      'design.md',
      'DES\nIGN',
      'DESIGN\u0000',
      '__proto__',
      '-x',
      'x-',
      'a--b',
      'x'.repeat(201),
      ...HOSTILE_TEXTS,
    ]) {
      assert.equal(agentBaseName(key), null, JSON.stringify(key));
      assert.deepEqual(subagentPaths(key), []);
    }
  });

  it('the agent file, its source, the archived ones, then the implementation (snake and kebab)', () => {
    assert.deepEqual(subagentPaths('VENTURE_STACK'), [
      { relativePath: '.claude/agents/venture-stack-agent.md', shape: 'agent' },
      { relativePath: '.claude/agents/venture-stack-agent.partial', shape: 'agent-source' },
      { relativePath: '.claude/agents/_archived/venture-stack-agent.md', shape: 'agent-archived' },
      { relativePath: '.claude/agents/_archived/venture-stack-agent.partial', shape: 'agent-archived' },
      { relativePath: 'lib/sub-agents/venture_stack.js', shape: 'implementation' },
      { relativePath: 'lib/sub-agents/venture-stack.js', shape: 'implementation' },
    ]);
    assert.deepEqual(
      subagentPaths('TESTING').map((p) => p.relativePath),
      [
        '.claude/agents/testing-agent.md',
        '.claude/agents/testing-agent.partial',
        '.claude/agents/_archived/testing-agent.md',
        '.claude/agents/_archived/testing-agent.partial',
        'lib/sub-agents/testing.js',
      ],
    );
  });
});

describe('definitions: handoff of an execution and ranking', () => {
  it("the handoff folder from upstream's `${handoffType}-${sdId}-${ms}`", () => {
    assert.equal(handoffDirectory('PLAN-TO-EXEC-SD-LEO-FIX-001-1712345678901'), 'plan-to-exec');
    assert.equal(handoffDirectory('LEAD-FINAL-APPROVAL-SD-X-1'), 'lead-final-approval');
    assert.equal(handoffDirectory('plan-to-lead-abc-1'), 'plan-to-lead', 'case-insensitive, any sd id');
    assert.equal(handoffDirectory('EXEC-TO-PLAN-0b9c…-1'), 'exec-to-plan');
    assert.equal(handoffDirectory('CUSTOM-HANDOFF-SD-1-2'), 'custom-handoff', 'unknown type: before -SD-');
    assert.equal(handoffDirectory('NEW-TYPE-x-1', ['new-type']), 'new-type', 'a folder the candidates name');
    assert.equal(handoffDirectory('PLAN-TO-EXEC-SD-1', ['plan', 'plan-to-exec']), 'plan-to-exec', 'longest');
    for (const id of ['wf-demo-SD-1-3', 'PLAN-TO-EXECX-1', '', '   ', 'PLAN-TO-EXEC', '-SD-1'])
      assert.equal(handoffDirectory(id), id === 'wf-demo-SD-1-3' ? 'wf-demo' : null, id);
  });

  it('the executor folder of a path', () => {
    assert.equal(executorDirectory('scripts/modules/handoff/executors/plan-to-exec/gates/x.js'), 'plan-to-exec');
    assert.equal(
      executorDirectory('scripts/modules/handoff/executors/lead-final-approval/gates.js'),
      'lead-final-approval',
    );
    assert.equal(executorDirectory('scripts/modules/handoff/gates/x.js'), null);
    assert.equal(executorDirectory('scripts/modules/handoff/executors/BaseExecutor.js'), null);
  });

  const hit = (relativePath: string, shape: DefinitionHit['shape'], fallback = false): DefinitionHit => ({
    relativePath,
    line: 0,
    preview: '',
    shape,
    fallback,
  });
  const E = 'scripts/modules/handoff/executors';
  const hits = [
    hit(`${E}/plan-to-lead/gates/b.js`, 'constant'),
    hit(`${E}/exec-to-plan/gates/z.js`, 'literal'),
    hit('scripts/modules/handoff/gates/a.js', 'literal'),
    hit(`${E}/exec-to-plan/gates/a.js`, 'constant'),
  ];

  it('without evidence: literal before constant, then path order', () => {
    assert.deepEqual(
      rankHits(hits).map((h) => h.relativePath),
      [
        `${E}/exec-to-plan/gates/z.js`,
        'scripts/modules/handoff/gates/a.js',
        `${E}/exec-to-plan/gates/a.js`,
        `${E}/plan-to-lead/gates/b.js`,
      ],
    );
  });

  it('the executor of the handoff most evidence spans ran in comes first, whatever its shape', () => {
    const ids = ['PLAN-TO-LEAD-SD-1-1', 'PLAN-TO-LEAD-SD-2-1', 'EXEC-TO-PLAN-SD-3-1', 'garbage', ''];
    assert.deepEqual(
      rankHits(hits, ids).map((h) => h.relativePath),
      [
        `${E}/plan-to-lead/gates/b.js`,
        `${E}/exec-to-plan/gates/z.js`,
        `${E}/exec-to-plan/gates/a.js`,
        'scripts/modules/handoff/gates/a.js',
      ],
    );
    assert.deepEqual(hits.map((h) => h.relativePath)[0], `${E}/plan-to-lead/gates/b.js`, 'the input is not reordered');
  });

  it('fallback hits after the gate folders; agent file, source, archived, implementation', () => {
    assert.deepEqual(
      rankHits([hit('scripts/a.js', 'literal', true), hit(`${E}/x/gates/q.js`, 'constant')]).map((h) => h.fallback),
      [false, true],
    );
    const agents = [
      hit('lib/sub-agents/rca.js', 'implementation'),
      hit('.claude/agents/_archived/rca-agent.md', 'agent-archived'),
      hit('.claude/agents/rca-agent.partial', 'agent-source'),
      hit('.claude/agents/rca-agent.md', 'agent'),
    ];
    assert.deepEqual(
      rankHits(agents, ['PLAN-TO-EXEC-SD-1-1']).map((h) => h.shape),
      ['agent', 'agent-source', 'agent-archived', 'implementation'],
    );
  });
});

/** A workspace in memory, with a clock and a cancel switch; records what was listed, stat'ed and read. */
function memoryIO(files: Record<string, string | Uint8Array>, opts: { tick?: number; failRead?: string[] } = {}) {
  let clock = 0;
  const log = { listed: [] as string[], stat: [] as string[], read: [] as string[] };
  const state = { cancelAfterReads: Infinity };
  const bytes = (v: string | Uint8Array) => (typeof v === 'string' ? new TextEncoder().encode(v) : v);
  const io: DefinitionIO = {
    async listFiles(scope, max) {
      log.listed.push(scope);
      // A glob-like superset, in no particular order (findFiles promises none).
      const glob = scope === 'gates' ? /^scripts\/modules\/handoff\/.*gates/ : /^scripts\//;
      return Object.keys(files)
        .filter((f) => glob.test(f))
        .reverse()
        .slice(0, max);
    },
    async stat(p) {
      log.stat.push(p);
      const v = files[p];
      return v === undefined ? null : { size: bytes(v).byteLength };
    },
    async read(p) {
      log.read.push(p);
      clock += opts.tick ?? 0;
      if (opts.failRead?.includes(p)) throw new Error('EACCES');
      const v = files[p];
      if (v === undefined) throw new Error('ENOENT');
      return bytes(v);
    },
    now: () => clock,
    isCancelled: () => log.read.length >= state.cancelAfterReads,
  };
  return { io, log, state };
}

const G = 'scripts/modules/handoff/executors';
const BOUNDS: DefinitionBounds = { maxFiles: 100, maxBytes: 10_000, timeMs: 1_000, concurrency: 1 };

describe('definitions: searchDefinitions (a workspace in memory)', () => {
  it('finds a gate in both shapes across executors, ranked by the evidence, reading each file once', async () => {
    const { io, log } = memoryIO({
      [`${G}/plan-to-lead/gates/scan.js`]: "export const SCAN = 'GATE_SCAN';\nexport const g = { name: SCAN };",
      [`${G}/exec-to-plan/gates/scan.js`]: "return {\n  name: 'GATE_SCAN',\n};\n",
      [`${G}/exec-to-plan/gates/other.js`]: "  name: 'GATE_SCAN_OLD',",
      'scripts/modules/handoff/gates/shared.js': '// GATE_SCAN is mentioned, not declared',
    });
    const r = await searchDefinitions('gate', 'GATE_SCAN', io, {
      bounds: BOUNDS,
      workflowExecutionIds: ['PLAN-TO-LEAD-SD-DEMO-001-1765000000000'],
    });
    assert.deepEqual(
      r.hits.map((h) => [h.relativePath, h.line, h.shape, h.preview]),
      [
        [`${G}/plan-to-lead/gates/scan.js`, 0, 'constant', "export const SCAN = 'GATE_SCAN';"],
        [`${G}/exec-to-plan/gates/scan.js`, 1, 'literal', "name: 'GATE_SCAN',"],
      ],
    );
    assert.deepEqual([r.filesSearched, r.truncated, r.cancelled, r.unreadable], [4, false, false, 0]);
    assert.deepEqual(log.listed, ['gates'], 'no fallback when the gate folders declare it');
    assert.deepEqual(log.read, [...log.read].sort(), 'path order');
    assert.equal(new Set(log.read).size, log.read.length);
  });

  it('never reads what the listing should not have returned (tests, node_modules, other types, other places)', async () => {
    const decl = "  name: 'G',";
    const { io, log } = memoryIO({
      [`${G}/a/gates/__tests__/g.js`]: decl,
      [`${G}/a/gates/g.test.js`]: decl,
      [`${G}/a/gates/node_modules/g.js`]: decl,
      [`${G}/a/gates/g.md`]: decl,
      [`${G}/a/gates/real.js`]: decl,
    });
    const r = await searchDefinitions('gate', 'G', io, { bounds: BOUNDS });
    assert.deepEqual(log.read, [`${G}/a/gates/real.js`]);
    assert.equal(r.hits.length, 1);
  });

  it('falls back to scripts/** when no gate folder declares it, without reading a file twice', async () => {
    const { io, log } = memoryIO({
      [`${G}/a/gates/g.js`]: "  name: 'OTHER',",
      'scripts/modules/handoff/executors/BaseExecutor.js': "const INLINE_GATE = 'RCA_GATE';",
      'scripts/other.test.js': "  name: 'RCA_GATE',",
    });
    const r = await searchDefinitions('gate', 'RCA_GATE', io, { bounds: BOUNDS });
    assert.deepEqual(
      r.hits.map((h) => [h.relativePath, h.fallback]),
      [['scripts/modules/handoff/executors/BaseExecutor.js', true]],
    );
    assert.deepEqual(log.listed, ['gates', 'scripts']);
    assert.deepEqual(log.read, [`${G}/a/gates/g.js`, 'scripts/modules/handoff/executors/BaseExecutor.js']);
    assert.equal(r.truncated, false);
  });

  it('nowhere declared: no hits, every file searched once, not truncated', async () => {
    const { io } = memoryIO({ [`${G}/a/gates/g.js`]: 'x', 'scripts/b.js': 'y' });
    assert.deepEqual(await searchDefinitions('gate', 'NOPE', io, { bounds: BOUNDS }), {
      hits: [],
      filesSearched: 2,
      truncated: false,
      cancelled: false,
      unreadable: 0,
    });
  });

  it('the file bound: at most maxFiles read, and truncated says so', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 10; i++) files[`${G}/a/gates/g${i}.js`] = i === 9 ? "  name: 'G'," : '';
    const { io, log } = memoryIO(files);
    const r = await searchDefinitions('gate', 'G', io, { bounds: { ...BOUNDS, maxFiles: 4 } });
    assert.equal(log.read.length, 4);
    assert.deepEqual([r.filesSearched, r.truncated, r.hits.length], [4, true, 0]);
  });

  it('the byte bound: a bigger file is not read (stat first) and truncated says so', async () => {
    const { io, log } = memoryIO({
      [`${G}/a/gates/big.js`]: `  name: 'G',\n${'x'.repeat(20_000)}`,
      [`${G}/a/gates/small.js`]: "  name: 'G',",
    });
    const r = await searchDefinitions('gate', 'G', io, { bounds: BOUNDS });
    assert.deepEqual(log.read, [`${G}/a/gates/small.js`]);
    assert.deepEqual([r.hits.length, r.filesSearched, r.truncated], [1, 1, true]);
  });

  it('a file that grew past the bound between stat and read is dropped too', async () => {
    const { io } = memoryIO({ [`${G}/a/gates/g.js`]: "  name: 'G'," });
    const grown: DefinitionIO = {
      ...io,
      read: async () => new TextEncoder().encode(`  name: 'G',${'x'.repeat(20_000)}`),
    };
    const r = await searchDefinitions('gate', 'G', grown, { bounds: BOUNDS });
    assert.deepEqual([r.hits.length, r.truncated], [0, true]);
  });

  it('the time bound: reading stops once it is spent, with what was found', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 10; i++) files[`${G}/a/gates/g${i}.js`] = "  name: 'G',";
    const { io, log } = memoryIO(files, { tick: 300 });
    const r = await searchDefinitions('gate', 'G', io, { bounds: BOUNDS });
    assert.equal(log.read.length, 4, 'reads at 300, 600, 900, 1200 ms; the 5th is past the deadline');
    assert.deepEqual([r.hits.length, r.truncated, r.cancelled], [4, true, false]);
  });

  it('cancellation between files: stops, keeps what it found, says cancelled (and truncated)', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 10; i++) files[`${G}/a/gates/g${i}.js`] = "  name: 'G',";
    const { io, log, state } = memoryIO(files);
    state.cancelAfterReads = 2;
    const r = await searchDefinitions('gate', 'G', io, { bounds: BOUNDS });
    assert.equal(log.read.length, 2);
    assert.deepEqual([r.hits.length, r.truncated, r.cancelled], [2, true, true]);
  });

  it('reads a few files at once: same hits in the same order, the file bound exact, cancellation between batches', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 10; i++) files[`${G}/a${i % 3}/gates/g${i}.js`] = i % 2 ? "  name: 'G'," : "const N = 'G';";
    const one = await searchDefinitions('gate', 'G', memoryIO(files).io, { bounds: BOUNDS });
    const many = await searchDefinitions('gate', 'G', memoryIO(files).io, { bounds: { ...BOUNDS, concurrency: 4 } });
    assert.deepEqual(many, one);
    assert.equal(many.hits.length, 10);
    const bounded = memoryIO(files);
    const b = await searchDefinitions('gate', 'G', bounded.io, { bounds: { ...BOUNDS, maxFiles: 4, concurrency: 3 } });
    assert.deepEqual([bounded.log.read.length, b.filesSearched, b.truncated], [4, 4, true]);
    const cancelled = memoryIO(files);
    cancelled.state.cancelAfterReads = 2;
    const c = await searchDefinitions('gate', 'G', cancelled.io, { bounds: { ...BOUNDS, concurrency: 4 } });
    assert.deepEqual([cancelled.log.read.length, c.hits.length, c.cancelled], [4, 4, true]);
  });

  it('cancelled before it starts: nothing listed or read', async () => {
    const { io, log, state } = memoryIO({ [`${G}/a/gates/g.js`]: "  name: 'G'," });
    state.cancelAfterReads = 0;
    const r = await searchDefinitions('gate', 'G', io, { bounds: BOUNDS });
    assert.deepEqual([log.listed, log.read, r.cancelled], [[], [], true]);
    const s = await searchDefinitions('subagent', 'DESIGN', io, { bounds: BOUNDS });
    assert.deepEqual([log.stat, s.cancelled], [[], true]);
  });

  it('an unreadable file is counted, the search goes on, and it is not "nothing there"', async () => {
    const { io } = memoryIO(
      { [`${G}/a/gates/a.js`]: "  name: 'G',", [`${G}/a/gates/b.js`]: "  name: 'G'," },
      { failRead: [`${G}/a/gates/a.js`] },
    );
    const r = await searchDefinitions('gate', 'G', io, { bounds: BOUNDS });
    assert.deepEqual([r.hits.map((h) => h.relativePath), r.unreadable, r.truncated], [[`${G}/a/gates/b.js`], 1, true]);
  });

  it('a failing listing rejects (the caller says it could not search), it is not "not found"', async () => {
    const { io } = memoryIO({});
    const failing: DefinitionIO = { ...io, listFiles: async () => Promise.reject(new Error('search unavailable')) };
    await assert.rejects(searchDefinitions('gate', 'G', failing, { bounds: BOUNDS }), /search unavailable/);
  });

  it('a UTF-8 BOM and non-ASCII text do not move the line', async () => {
    const { io } = memoryIO({ [`${G}/a/gates/g.js`]: "\ufeff// Größe ✓\n  name: 'G',\n" });
    const r = await searchDefinitions('gate', 'G', io, { bounds: BOUNDS });
    assert.deepEqual([r.hits[0]?.line, r.hits[0]?.preview], [1, "name: 'G',"]);
  });

  it('a sub-agent: every existing file in order, landing on the name: line', async () => {
    const { io, log } = memoryIO({
      '.claude/agents/rca-agent.partial': '---\nname: rca-agent\n---\n',
      '.claude/agents/_archived/rca-agent.md': '# old',
      'lib/sub-agents/rca.js': '\n\nexport class RcaSubAgent {}',
    });
    const r = await searchDefinitions('subagent', 'RCA', io, { bounds: BOUNDS, workflowExecutionIds: ['x'] });
    assert.deepEqual(
      r.hits.map((h) => [h.relativePath, h.line, h.preview]),
      [
        ['.claude/agents/rca-agent.partial', 1, 'name: rca-agent'],
        ['.claude/agents/_archived/rca-agent.md', 0, '# old'],
        ['lib/sub-agents/rca.js', 2, 'export class RcaSubAgent {}'],
      ],
    );
    assert.deepEqual(log.listed, [], 'sub-agents are looked up by name, not listed');
    assert.equal(r.filesSearched, 3);
  });

  it('hostile keys: nothing outside the places searched is touched, nothing is found', async () => {
    for (const key of ['../../etc/passwd', 'a/../../b', ...HOSTILE_TEXTS]) {
      const { io, log } = memoryIO({ '.claude/agents/x-agent.md': 'x' });
      const r = await searchDefinitions('subagent', key, io, { bounds: BOUNDS });
      assert.deepEqual([r.hits, log.stat], [[], []], key);
    }
    for (const key of ['', 'x'.repeat(201), 'G\nname', 'G\r']) {
      const { io, log } = memoryIO({ [`${G}/a/gates/g.js`]: `  name: '${key}',` });
      const r = await searchDefinitions('gate', key, io, { bounds: BOUNDS });
      assert.deepEqual([r.hits, log.listed], [[], []], JSON.stringify(key));
    }
  });

  it('phase and unknown types: no search at all', async () => {
    for (const t of ['phase', 'other', '']) {
      const { io, log } = memoryIO({ [`${G}/a/gates/g.js`]: "  name: 'EXEC'," });
      const r = await searchDefinitions(t, 'EXEC', io, { bounds: BOUNDS });
      assert.deepEqual([r.hits, log.listed, log.stat], [[], [], []]);
    }
  });
});

/** The fixture workspace through node:fs (the files the demo and the in-editor tests open). */
function fixtureIO(): DefinitionIO {
  const walk = (rel: string): string[] =>
    fs.readdirSync(path.join(FIXTURE, rel), { withFileTypes: true }).flatMap((e) => {
      const r = rel ? `${rel}/${e.name}` : e.name;
      return e.isDirectory() ? walk(r) : [r];
    });
  return {
    // Deliberately a superset (everything under scripts/): the search's own filter decides.
    listFiles: async (_scope, max) => walk('scripts').slice(0, max),
    stat: async (p) => {
      try {
        const st = fs.statSync(path.join(FIXTURE, p));
        return st.isFile() ? { size: st.size } : null;
      } catch {
        return null;
      }
    },
    read: async (p) => fs.readFileSync(path.join(FIXTURE, p)),
    now: () => Date.now(),
    isCancelled: () => false,
  };
}

describe('definitions: the fixture workspace declares every gate and sub-agent the demo produces', () => {
  const lineOf = (rel: string, n: number) => splitLines(fs.readFileSync(path.join(FIXTURE, rel), 'utf8'))[n];

  for (const key of DIMENSIONS.gate) {
    it(`gate ${key}: found, on its declaration line, never on a decoy or a test`, async () => {
      const r = await searchDefinitions('gate', key, fixtureIO());
      assert.ok(r.hits.length >= 1, `${key} is declared in the fixture`);
      assert.equal(r.truncated, false);
      for (const h of r.hits) {
        assert.ok(isGateFile(h.relativePath) && !h.fallback, h.relativePath);
        const line = lineOf(h.relativePath, h.line);
        assert.ok(line.includes(`'${key}'`), `${h.relativePath}:${h.line} is ${line}`);
        assert.equal(h.preview, line.trim());
      }
    });
  }

  it('the shapes and places the demo shows: one literal, one constant, one gates.js, one in two executors', async () => {
    const at = async (key: string) =>
      (await searchDefinitions('gate', key, fixtureIO())).hits.map((h) => `${h.relativePath}:${h.line}:${h.shape}`);
    const E = 'scripts/modules/handoff/executors';
    assert.deepEqual(await at('GATE_PRD_REQUIRED'), [`${E}/plan-to-exec/gates/prd-required-gate.js:11:literal`]);
    assert.deepEqual(await at('GATE_DESIGN_REVIEW'), [`${E}/lead-to-plan/gates/design-review-gate.js:3:constant`]);
    assert.deepEqual(await at('GATE_RETROSPECTIVE'), [`${E}/lead-final-approval/gates.js:9:literal`]);
    assert.deepEqual(await at('GATE_SECURITY_SCAN'), [
      `${E}/exec-to-plan/gates/security-scan-gate.js:11:literal`,
      `${E}/plan-to-lead/gates/security-scan-gate.js:4:constant`,
    ]);
    const ranked = await searchDefinitions('gate', 'GATE_SECURITY_SCAN', fixtureIO(), {
      workflowExecutionIds: ['PLAN-TO-LEAD-SD-DEMO-003-1765000000000'],
    });
    assert.equal(ranked.hits[0].relativePath, `${E}/plan-to-lead/gates/security-scan-gate.js`);
  });

  for (const key of DIMENSIONS.subagent) {
    it(`sub-agent ${key}: its agent file, on the name: line`, async () => {
      const r = await searchDefinitions('subagent', key, fixtureIO());
      const file = `.claude/agents/${key.toLowerCase()}-agent.partial`;
      assert.deepEqual(
        r.hits.map((h) => [h.relativePath, h.line, h.preview]),
        [[file, 1, `name: ${key.toLowerCase()}-agent`]],
      );
    });
  }
});
