/**
 * What the README test reads from Markdown: fenced code blocks with their info strings, the output
 * a JavaScript example announces in its `// → …` comments, and GitHub's heading anchors.
 */

/** One fenced code block. */
export interface CodeBlock {
  /** The whole info string after the opening fence, e.g. `js` or `sh registry`. */
  readonly info: string;
  /** The block's text, without the fences. */
  readonly code: string;
  /** 1-based line of the opening fence, to name the block in test titles. */
  readonly line: number;
}

const FENCE = /^(`{3,})(.*)$/;

/** Every fenced code block of `markdown`, in order. An unclosed fence is an error, not a silent end. */
export function codeBlocks(markdown: string): CodeBlock[] {
  const lines = markdown.split('\n');
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i] ?? '');
    if (!open) continue;
    const fence = open[1] ?? '```';
    const end = lines.findIndex((text, j) => j > i && text.trimEnd() === fence);
    if (end < 0) throw new Error(`The code block opened on line ${i + 1} is never closed`);
    blocks.push({ info: (open[2] ?? '').trim(), code: lines.slice(i + 1, end).join('\n'), line: i + 1 });
    i = end;
  }
  return blocks;
}

/**
 * The lines a JavaScript example says it prints: the text after `// → ` on each line, in order,
 * whether the comment ends a statement or stands on its own line.
 */
export function announcedOutput(code: string): string[] {
  return code.split('\n').flatMap((line) => {
    const match = /\/\/ → (.*)$/.exec(line);
    return match ? [(match[1] ?? '').trimEnd()] : [];
  });
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
export function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors of every heading in `markdown`, outside code blocks. */
export function anchors(markdown: string): Set<string> {
  const found = new Set<string>();
  let inBlock = false;
  for (const line of markdown.split('\n')) {
    if (FENCE.test(line)) inBlock = !inBlock;
    const heading = inBlock ? null : /^#{1,6}\s+(.*)$/.exec(line);
    if (heading) found.add(headingAnchor(heading[1] ?? ''));
  }
  return found;
}

/** Relative links of `markdown` (not `http:` and the like), as written: `docs/x.md#y`, `#z`. */
export function relativeLinks(markdown: string): string[] {
  const prose = markdown.replace(/^(`{3,}).*\n[\s\S]*?^\1\s*$/gm, '');
  return [...prose.matchAll(/\]\(\s*<?([^)\s>]+)>?[^)]*\)/g)]
    .map((m) => m[1] ?? '')
    .filter((href) => !/^[a-z][a-z0-9+.-]*:/i.test(href));
}
