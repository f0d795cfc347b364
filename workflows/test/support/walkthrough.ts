/**
 * Runs the shell blocks of a README section, so a walkthrough cannot drift from what the CLI
 * does. It understands the little shell such a walkthrough needs and refuses anything else:
 * `make up` (skipped: the test brings its own stack), variable assignments (`export` or not),
 * `pnpm -s beacon …` (run in-process), `$VAR`, `"…"`, `'…'`, line continuations, comments,
 * `cat > FILE <<EOF` here-documents, and command substitution of `pnpm -s beacon … [| jq -r
 * .path]` or `date -u +%FT%TZ`.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CliResult } from './cli.js';

/** The ```sh blocks under a heading, up to the next heading of its level or above. */
export function shellBlocks(markdown: string, heading: string): string[] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((line) => /^#+ /.test(line) && line.replace(/^#+ /, '') === heading);
  if (start < 0) throw new Error(`no heading "${heading}"`);
  const level = /^#+/.exec(lines[start]!)![0].length;
  const end = lines.findIndex(
    (line, i) => i > start && /^#+ /.test(line) && /^#+/.exec(line)![0].length <= level,
  );
  const section = lines.slice(start + 1, end < 0 ? undefined : end).join('\n');
  return [...section.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

/** One command of a block: its text (continuations joined) and the here-document it reads. */
export interface ShellCommand {
  readonly text: string;
  readonly heredoc?: { readonly body: string; readonly expand: boolean };
}

export function commandsOf(block: string): ShellCommand[] {
  const lines = block.split('\n');
  const commands: ShellCommand[] = [];
  for (let i = 0; i < lines.length; i++) {
    let text = lines[i]!;
    while (text.endsWith('\\') && i + 1 < lines.length) text = `${text.slice(0, -1)} ${lines[++i]!.trim()}`;
    if (text.trim() === '' || text.trim().startsWith('#')) continue;
    const heredoc = /<<\s*(['"]?)(\w+)\1\s*$/.exec(text);
    if (heredoc) {
      const body: string[] = [];
      while (++i < lines.length && lines[i] !== heredoc[2]) body.push(lines[i]!);
      commands.push({
        text: text.slice(0, heredoc.index).trim(),
        heredoc: { body: `${body.join('\n')}\n`, expand: heredoc[1] === '' },
      });
    } else commands.push({ text: text.trim() });
  }
  return commands;
}

/** What one command did: a `beacon` run's result, or nothing for the others. */
export interface Step {
  readonly command: string;
  readonly argv?: readonly string[];
  readonly result?: CliResult;
}

export interface WalkthroughOptions {
  /** Runs `beacon` with these arguments and the walkthrough's exported variables. */
  readonly beacon: (argv: readonly string[], env: Record<string, string>) => Promise<CliResult>;
  /** Where here-documents are written (the working directory of the `beacon` runs). */
  readonly dir: string;
  /** Variables the test decides whatever the walkthrough sets, e.g. BEACON_URL. */
  readonly fixed: Record<string, string>;
}

export class Walkthrough {
  readonly vars: Record<string, string> = {};
  /** Every `beacon` run, in order, substitutions included. */
  readonly runs: Step[] = [];

  constructor(private readonly options: WalkthroughOptions) {}

  async run(command: ShellCommand): Promise<Step> {
    const { text } = command;
    if (command.heredoc) {
      const target = /^cat\s*>\s*(\S+)$/.exec(text);
      if (!target)
        throw new Error(`the walkthrough runner reads here-documents only into cat > FILE: ${text}`);
      const body = command.heredoc.expand
        ? await this.#expandText(command.heredoc.body)
        : command.heredoc.body;
      await writeFile(join(this.options.dir, target[1]!), body);
      return { command: text };
    }
    const assignment = /^(?:export\s+)?([A-Za-z_]\w*)=(.*)$/.exec(text);
    if (assignment) {
      const words = await this.#words(assignment[2]!);
      if (words.length > 1) throw new Error(`an assignment takes one word: ${text}`);
      this.vars[assignment[1]!] = words[0] ?? '';
      return { command: text };
    }
    const words = await this.#words(text);
    if (words.join(' ') === 'make up') return { command: text };
    return this.#beacon(text, words);
  }

  async #beacon(command: string, words: readonly string[]): Promise<Step> {
    if (words[0] !== 'pnpm' || words[1] !== '-s' || words[2] !== 'beacon') {
      throw new Error(`the walkthrough runner runs only pnpm -s beacon …, not: ${command}`);
    }
    const argv = words.slice(3);
    const result = await this.options.beacon(argv, { ...this.vars, ...this.options.fixed });
    const step = { command, argv, result };
    this.runs.push(step);
    return step;
  }

  /** `$(…)`: a `beacon` run, its stdout through `jq -r .path` if piped, or the time now. */
  async #substitute(inner: string): Promise<string> {
    const words = await this.#words(inner);
    if (words.join(' ') === 'date -u +%FT%TZ') return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const pipe = words.indexOf('|');
    const step = await this.#beacon(inner, pipe < 0 ? words : words.slice(0, pipe));
    if (step.result!.code !== 0) throw new Error(`$(${inner}) failed: ${step.result!.stderr}`);
    if (pipe < 0) return step.result!.stdout.replace(/\n+$/, '');
    const [jq, raw, path, ...rest] = words.slice(pipe + 1);
    if (jq !== 'jq' || raw !== '-r' || !path?.startsWith('.') || rest.length > 0) {
      throw new Error(`the walkthrough runner pipes only into jq -r .path: ${inner}`);
    }
    let value: unknown = JSON.parse(step.result!.stdout);
    for (const key of path.slice(1).split('.')) value = (value as Record<string, unknown> | undefined)?.[key];
    return typeof value === 'string' ? value : JSON.stringify(value);
  }

  #variable(name: string): string {
    const value = this.options.fixed[name] ?? this.vars[name];
    if (value === undefined) throw new Error(`$${name} is used before it is set`);
    return value;
  }

  /** `$NAME`, `${NAME}` or `$(…)` at `text[at]`: its value and where the text goes on. */
  async #dollar(text: string, at: number): Promise<[string, number]> {
    if (text[at + 1] === '(') {
      let depth = 0;
      for (let j = at + 1; j < text.length; j++) {
        if (text[j] === '(') depth++;
        if (text[j] === ')' && --depth === 0) return [await this.#substitute(text.slice(at + 2, j)), j + 1];
      }
      throw new Error(`unterminated $( in ${text}`);
    }
    if (text[at + 1] === '{') {
      const end = text.indexOf('}', at);
      return [this.#variable(text.slice(at + 2, end)), end + 1];
    }
    const name = /^[A-Za-z_]\w*/.exec(text.slice(at + 1))?.[0];
    if (!name) return ['$', at + 1];
    return [this.#variable(name), at + 1 + name.length];
  }

  /** A here-document's text with its expansions made, as an unquoted `<<EOF` does. */
  async #expandText(text: string): Promise<string> {
    let out = '';
    for (let i = 0; i < text.length;) {
      if (text[i] === '$') {
        const [value, next] = await this.#dollar(text, i);
        out += value;
        i = next;
      } else out += text[i++];
    }
    return out;
  }

  /** Shell words, expanded and unquoted; `|` stands alone; a `#` starting a word ends the line. */
  async #words(text: string): Promise<string[]> {
    const words: string[] = [];
    let word = '';
    let inWord = false;
    const end = () => {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    };
    for (let i = 0; i < text.length;) {
      const c = text[i]!;
      if (/\s/.test(c)) {
        end();
        i++;
      } else if (!inWord && c === '#') break;
      else if (!inWord && c === '|') {
        words.push('|');
        i++;
      } else if (c === "'") {
        const close = text.indexOf("'", i + 1);
        if (close < 0) throw new Error(`unterminated ' in ${text}`);
        word += text.slice(i + 1, close);
        inWord = true;
        i = close + 1;
      } else if (c === '"') {
        inWord = true;
        for (i++; i < text.length && text[i] !== '"';) {
          if (text[i] === '\\' && '"\\$`'.includes(text[i + 1] ?? '')) {
            word += text[i + 1];
            i += 2;
          } else if (text[i] === '$') {
            const [value, next] = await this.#dollar(text, i);
            word += value;
            i = next;
          } else word += text[i++];
        }
        if (text[i] !== '"') throw new Error(`unterminated " in ${text}`);
        i++;
      } else if (c === '\\') {
        word += text[i + 1] ?? '';
        inWord = true;
        i += 2;
      } else if (c === '$') {
        const [value, next] = await this.#dollar(text, i);
        word += value;
        inWord = true;
        i = next;
      } else {
        word += c;
        inWord = true;
        i++;
      }
    }
    end();
    return words;
  }
}
