/**
 * Reading a guide in docs/ and the test file that keeps it honest: the guide's fenced blocks
 * (each with the `<!-- ... -->` marker on the line before it) and the test file's regions between
 * `// doc: name` and `// end doc`. Shared by docs/testing.test.ts (jest) and
 * test/vitest/testing-guide.test.ts (vitest), which run the same guide.
 */

export interface Block {
  lang: string;
  marker: string | undefined;
  body: string;
  line: number;
}

/** The fenced blocks of `markdown` (named `file` in errors), each with its marker, if any. */
export function fencedBlocks(markdown: string, file: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const end = lines.indexOf('```', i + 1);
    if (end < 0) throw new Error(`${file}:${i + 1}: unclosed code block`);
    const previous = lines[i - 1]?.match(/^<!--\s*(.+?)\s*-->$/);
    blocks.push({ lang: open[1], marker: previous?.[1], body: lines.slice(i + 1, end).join('\n'), line: i + 1 });
    i = end;
  }
  return blocks;
}

/** The regions of `code` between "// doc: name" and "// end doc", dedented. */
export function regions(code: string): Map<string, string> {
  const found = new Map<string, string>();
  const pattern = /^([ \t]*)\/\/ doc: ([\w-]+)\n([\s\S]*?)^[ \t]*\/\/ end doc$/gm;
  for (const match of code.matchAll(pattern)) {
    const indent = match[1];
    const body = match[3]
      .replace(/\n$/, '')
      .split('\n')
      .map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line))
      .join('\n');
    found.set(match[2], body);
  }
  return found;
}

/** The message of the assertion's failure; an error when it passes. */
export function failureOf(assertion: () => void): string {
  try {
    assertion();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('the assertion was expected to fail');
}
