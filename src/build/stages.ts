/**
 * A parsed Dockerfile split into build stages: the ARGs before the first FROM (usable
 * in FROM lines only), each FROM's base and optional name, and the stages the target
 * needs (the classic builder runs every stage up to the target, in order).
 */
import { invalidArgument } from '../common/errors.js';
import type { Dockerfile, Instruction } from './dockerfile-parse.js';
import { expandWord, splitWords, type Lookup } from './shell-words.js';

export interface Stage {
  index: number;
  /** Lower-cased `AS` name, if any. */
  name?: string;
  /** The FROM instruction. */
  from: Instruction;
  /** The instructions after FROM. */
  body: Instruction[];
}

export interface Plan {
  metaArgs: Instruction[];
  stages: Stage[];
  /** Instructions run, FROMs included (docker's "Step n/<total>"). */
  total: number;
}

export function planStages(df: Dockerfile, target: string | undefined): Plan {
  const metaArgs: Instruction[] = [];
  const stages: Stage[] = [];
  for (const inst of df.instructions) {
    if (inst.cmd === 'FROM') {
      const words = splitWords(inst.args, df.escape);
      let name: string | undefined;
      if (words.length === 3 && words[1]!.toUpperCase() === 'AS') name = words[2]!.toLowerCase();
      else if (words.length !== 1) throw invalidArgument(`dockerfile parse error on line ${inst.line}: FROM requires either one or three arguments`);
      if (name !== undefined && !/^[a-z][a-z0-9-_.]*$/.test(name)) throw invalidArgument(`invalid name for build stage: "${name}", name can't start with a number or contain symbols`);
      if (name && stages.some((s) => s.name === name)) throw invalidArgument(`duplicate name ${name}`);
      stages.push({ index: stages.length, name, from: inst, body: [] });
    } else if (stages.length === 0) {
      if (inst.cmd !== 'ARG') throw invalidArgument(`dockerfile parse error on line ${inst.line}: no build stage in current context`);
      metaArgs.push(inst);
    } else {
      stages.at(-1)!.body.push(inst);
    }
  }
  if (stages.length === 0) throw invalidArgument('the Dockerfile has no FROM instruction: a build needs a base image ("FROM scratch" for none)');
  let last = stages.length - 1;
  if (target) {
    const t = target.toLowerCase();
    const i = stages.findIndex((s) => s.name === t);
    if (i < 0) throw invalidArgument(`failed to reach build target ${target} in Dockerfile`);
    last = i;
  }
  const kept = stages.slice(0, last + 1);
  return { metaArgs, stages: kept, total: kept.reduce((n, s) => n + 1 + s.body.length, 0) };
}

/** The base of a FROM line, meta args substituted. */
export function fromImage(stage: Stage, lookup: Lookup, escape: string): string {
  const word = splitWords(stage.from.args, escape)[0]!;
  const ref = expandWord(word, lookup, escape);
  if (!ref) throw invalidArgument(`dockerfile parse error on line ${stage.from.line}: FROM "${word}" is empty after substitution; pass --build-arg for it`);
  return ref;
}
