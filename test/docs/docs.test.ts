import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The documentation's promises that a test can keep: every relative link leads somewhere, and
// the component list names the packages that exist.

const root = fileURLToPath(new URL('../..', import.meta.url));
const docsDir = join(root, 'docs');
const apiDir = join(docsDir, 'api');
const markdownFiles = [
  ...readdirSync(docsDir)
    .filter((f) => f.endsWith('.md'))
    .map((f) => join(docsDir, f)),
  join(root, 'README.md'),
];
const packageNames = readdirSync(join(root, 'packages')).filter((name) => existsSync(join(root, 'packages', name, 'package.json')));

interface Link {
  readonly target: string;
  readonly line: number;
}

/** Markdown links `[text](target)` and `![alt](target)` outside code blocks and code spans. */
function markdownLinks(text: string): Link[] {
  const links: Link[] = [];
  let fenced = false;
  text.split('\n').forEach((raw, i) => {
    if (/^\s*(```|~~~)/.test(raw)) {
      fenced = !fenced;
      return;
    }
    if (fenced) return;
    const line = raw.replace(/`[^`]*`/g, '');
    for (const m of line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) links.push({ target: m[1], line: i + 1 });
  });
  return links;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function headingAnchors(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of text.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    if (fenced) continue;
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (m === null) continue;
    const slug = m[1]
      .toLowerCase()
      .replace(/[^\p{L}\p{N} _-]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

const isExternal = (target: string) => /^[a-z][a-z0-9+.-]*:/i.test(target);

/** What is wrong with each relative link of `file` (an empty list when nothing is). */
function brokenLinks(file: string, text: string): string[] {
  const problems: string[] = [];
  const where = (l: Link) => `${relative(root, file)}:${l.line}: ${l.target}`;
  for (const link of markdownLinks(text)) {
    if (isExternal(link.target)) continue;
    const [path, anchor] = link.target.split('#', 2);
    if (path === '') {
      if (!headingAnchors(text).has(anchor)) problems.push(`${where(link)}: no heading with the anchor #${anchor} on this page`);
      continue;
    }
    const target = resolve(dirname(file), decodeURIComponent(path));
    if (target.startsWith(apiDir)) {
      // The API reference is generated (pnpm run docs) and not committed: its links must name
      // a package's page, and must exist once it has been generated.
      const page = /^modules[/\\]_uk_([a-z0-9-]+)\.html$/.exec(relative(apiDir, target));
      if (page === null) problems.push(`${where(link)}: not a package page of the API reference (api/modules/_uk_<name>.html)`);
      else if (!packageNames.includes(page[1])) problems.push(`${where(link)}: there is no package packages/${page[1]}`);
      else if (existsSync(join(apiDir, 'index.html')) && !existsSync(target)) problems.push(`${where(link)}: not in the generated API reference`);
      continue;
    }
    if (!existsSync(target)) {
      problems.push(`${where(link)}: no such file`);
      continue;
    }
    if (anchor !== undefined && target.endsWith('.md') && statSync(target).isFile()) {
      if (!headingAnchors(readFileSync(target, 'utf8')).has(anchor)) problems.push(`${where(link)}: no heading with the anchor #${anchor}`);
    }
  }
  return problems;
}

describe('documentation links', () => {
  it('finds the broken links of a page', () => {
    const page = join(docsDir, 'example.md');
    const text = [
      '# Example',
      '[ok](architecture.md) [gone](no-such-page.md) [anchor](architecture.md#no-such-heading)',
      '[here](#example) [nowhere](#nowhere) [web](https://example.org/x) `[code](not-checked.md)`',
      '```',
      '[in a block](also-not-checked.md)',
      '```',
      '[api](api/modules/_uk_hal.html) [bad api](api/modules/_uk_nothing.html)',
    ].join('\n');
    expect(brokenLinks(page, text)).toEqual([
      'docs/example.md:2: no-such-page.md: no such file',
      'docs/example.md:2: architecture.md#no-such-heading: no heading with the anchor #no-such-heading',
      'docs/example.md:3: #nowhere: no heading with the anchor #nowhere on this page',
      'docs/example.md:7: api/modules/_uk_nothing.html: there is no package packages/nothing',
    ]);
  });

  it('makes anchors as GitHub does', () => {
    expect([...headingAnchors('# Rules every package follows\n## @uk/hal\n## `kernel({...})`\n## Rules every package follows')]).toEqual([
      'rules-every-package-follows',
      'ukhal',
      'kernel',
      'rules-every-package-follows-1',
    ]);
  });

  for (const file of markdownFiles) {
    it(`every relative link in ${relative(root, file)} leads to a file`, () => {
      expect(brokenLinks(file, readFileSync(file, 'utf8'))).toEqual([]);
    });
  }
});

describe('docs/components.md', () => {
  const text = readFileSync(join(docsDir, 'components.md'), 'utf8');
  const mentioned = new Set([...text.matchAll(/@uk\/([a-z0-9-]+)/g)].map((m) => m[1]));

  it('names only packages that exist', () => {
    expect([...mentioned].filter((name) => !packageNames.includes(name))).toEqual([]);
  });

  it('has a section for every package', () => {
    const sections = new Set([...text.matchAll(/^## @uk\/([a-z0-9-]+)\s*$/gm)].map((m) => m[1]));
    expect(packageNames.filter((name) => !sections.has(name))).toEqual([]);
  });
});
